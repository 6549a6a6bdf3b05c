"""Fixtures: a sandbox over HTTP, a client on a sandbox token, an organisation with members."""

from datetime import date
from decimal import Decimal

import pytest

from aeroledger.billing.models import Invoice, InvoicePosition
from aeroledger.flights.models import Aerodrome, Aircraft
from aeroledger.members.models import Member
from aeroledger.tenancy.models import Organisation

from ..mapping import mapping_for
from ..master import MasterData
from ..models import InvoiceSettings, Kind
from ..refresh import refresh_master_data

ALL_SCOPES = [
    "openid", "offline_access", "accounting", "article_show", "bank_account_show",
    "contact_show", "contact_edit", "kb_invoice_show", "kb_invoice_edit",
]  # fmt: skip
NO_ACCOUNTING = [s for s in ALL_SCOPES if s != "accounting"]


@pytest.fixture
def sb(sandbox):
    """The project's sandbox (root conftest), reset for each test."""
    return sandbox


def make_client(handle, scopes=ALL_SCOPES):
    from bexio import BexioClient, StaticToken

    return BexioClient(
        base_url=handle.url, token_provider=StaticToken(handle.token(scopes=scopes)), max_retries=2
    )


@pytest.fixture
def bx(sb):
    """A bexio client on a sandbox token with every scope (`client` stays Django's test client)."""
    with make_client(sb) as c:
        yield c


class Log:
    """The sandbox request log since a mark: how many reads and writes the code made."""

    def __init__(self, handle):
        self.handle = handle
        self.mark()

    def mark(self):
        entries = self.handle.requests()
        self.since = entries[-1]["id"] if entries else 0

    def entries(self):
        return [e for e in self.handle.requests(since=self.since) if e["path"].startswith(("/2.0", "/3.0"))]

    def writes(self):
        return [
            e
            for e in self.entries()
            if e["method"] in ("POST", "PUT", "PATCH", "DELETE") and not e["path"].endswith("/search")
        ]


@pytest.fixture
def org(db):
    return Organisation.objects.create(name="Fluggruppe Test", slug="fgt", bexio_option=True, currency="CHF")


def member(org, number, **kw):
    defaults = {
        "first_name": "Anna",
        "last_name": f"Muster{number}",
        "street": "Hauptstrasse",
        "house_number": str(number),
        "postcode": "8000",
        "city": "Zürich",
        "country": "CH",
        "email": f"m{number}@example.ch",
        "language": "de",
    }
    defaults.update(kw)
    return Member.objects.create(organisation=org, number=str(number), **defaults)


@pytest.fixture
def ready(org, bx):
    """Master data imported, owner user and bank account chosen, the contact group present."""
    refresh_master_data(org, bx)
    master = MasterData(org)
    settings_row = InvoiceSettings.objects.create(
        organisation=org, user=master.all(Kind.USER)[0], bank_account=master.bank_accounts()[0]
    )
    from ..contacts import ensure_contact_group

    ensure_contact_group(bx, mapping_for(org))
    settings_row.refresh_from_db()
    return settings_row


@pytest.fixture
def invoice(org):
    ac = Aircraft.objects.create(
        organisation=org,
        registration="HB-KFA",
        type_name="PA-28",
        price_per_minute=Decimal("4.2"),
        instruction_price_per_minute=Decimal("1.5"),
    )
    ad = Aerodrome.objects.create(organisation=org, icao="LSZR", name="Altenrhein", landing_fee=Decimal("25"))
    inv = Invoice.objects.create(
        organisation=org,
        member=member(org, 1),
        date=date(2026, 11, 1),
        due_date=date(2026, 12, 1),
        title="November",
    )
    InvoicePosition.objects.create(
        invoice=inv,
        pos=1,
        charge_type="aircraft_time",
        aircraft=ac,
        text="Flug",
        quantity=Decimal("60"),
        unit_price=Decimal("4.2"),
    )
    InvoicePosition.objects.create(
        invoice=inv,
        pos=2,
        charge_type="landing_fee",
        aerodrome=ad,
        text="Landung",
        quantity=Decimal("1"),
        unit_price=Decimal("25"),
    )
    return inv


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English (a page request may have left another language active)."""
    from django.utils import translation

    with translation.override("en"):
        yield
