"""Fixtures: a sandbox (over HTTP), a client on a sandbox token, the demo club mapped and approved."""

from decimal import Decimal

import pytest

from aeroledger.billing.models import Invoice, InvoiceStatus
from bexio import BexioClient, RateGovernor, StaticToken


@pytest.fixture(scope="session")
def transfer_sandbox():
    from bexio_sandbox.testing import running_sandbox

    with running_sandbox(timeout_hold_s=3) as sb:
        yield sb


@pytest.fixture
def sb(transfer_sandbox):
    transfer_sandbox.reset()
    transfer_sandbox.settings(timeout_hold_s=3)
    yield transfer_sandbox
    transfer_sandbox.clear_faults()


def make_client(sb, *, timeout=1.5, max_retries=3, token=None):
    return BexioClient(
        base_url=sb.url,
        token_provider=StaticToken(token or sb.token()),
        timeout=timeout,
        max_retries=max_retries,
        governor=RateGovernor(),
        max_wait_s=2.0,
    )


@pytest.fixture
def client(sb):
    c = make_client(sb)
    yield c
    c.close()


def map_everything(org, client, *, issue=False):
    """Master data from the sandbox, then every charge type mapped to an earnings account + tax."""
    from aeroledger.bexio_link.masterdata.models import BexioRecord, ChargeMapping, InvoiceSettings, Kind
    from aeroledger.bexio_link.masterdata.refresh import refresh_master_data
    from aeroledger.billing.models import ChargeType

    refresh_master_data(org, client)
    records = BexioRecord.objects.filter(organisation=org)
    bank = records.filter(kind=Kind.BANK_ACCOUNT).order_by("bexio_id").first()
    user = records.filter(kind=Kind.USER).order_by("bexio_id").first()
    tax = next(r for r in records.filter(kind=Kind.TAX, is_active=True) if r.data.get("type") == "sales_tax")
    account = next(r for r in records.filter(kind=Kind.ACCOUNT) if r.data.get("account_type") == 1)
    InvoiceSettings.objects.update_or_create(
        organisation=org, defaults={"bank_account": bank, "user": user, "issue_automatically": issue}
    )
    for ct in ChargeType.values:
        ChargeMapping.objects.update_or_create(
            organisation=org,
            charge_type=ct,
            aircraft=None,
            aerodrome=None,
            defaults={"account": account, "tax": tax},
        )
    return tax, account


def set_up_ledger(org):
    """The credit account (2030-ish liability) and the corrections account, from the sandbox's chart."""
    from aeroledger.bexio_link.masterdata.models import BexioRecord, InvoiceSettings, Kind

    accounts = list(BexioRecord.objects.filter(organisation=org, kind=Kind.ACCOUNT, is_active=True))
    liability = next((a for a in accounts if a.data.get("account_type") == 4), None)
    expense = next((a for a in accounts if a.data.get("account_type") in (1, 2)), None)
    InvoiceSettings.objects.filter(organisation=org).update(
        credit_account=liability, corrections_account=expense
    )
    return liability


def approve_all(org):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.filter(username="admin").first()
    for inv in Invoice.objects.filter(organisation=org, status=InvoiceStatus.DRAFT):
        inv.approve(admin)


@pytest.fixture
def demo(client):
    """The demo club (a month of flights billed + top-ups), post-paid (every invoice is due in full),
    mapped and every invoice approved: the invoice transfer on its own."""
    from aeroledger.billing.demo import seed_demo
    from aeroledger.tenancy.models import BillingMode, Organisation

    org = seed_demo()
    Organisation.objects.filter(pk=org.pk).update(billing_mode=BillingMode.POSTPAID)
    org.refresh_from_db()
    map_everything(org, client)
    approve_all(org)
    return org


@pytest.fixture
def prepaid_demo(client):
    """The demo club as it is (prepaid): credit pays the oldest charges at approval; invoices for
    the rest and bookings of the credit used go to bexio."""
    from aeroledger.billing.demo import seed_demo

    org = seed_demo()
    map_everything(org, client)
    set_up_ledger(org)
    approve_all(org)
    return org


def bexio_invoices(client) -> list:
    return list(client.invoices.iter())


def assert_exactly_once(org, client):
    """Exactly one bexio invoice per approved invoice with something due (its total = the amount due),
    none for an invoice credit paid in full, and never a bexio invoice of CHF 0.00."""
    from aeroledger.bexio_link.transfer.models import InvoiceLink, ItemKind, OutboxItem

    in_bexio = {}
    for inv in client.invoices.iter():
        assert inv.total is None or Decimal(str(inv.total)) != 0, f"bexio invoice {inv.document_nr} of 0.00"
        in_bexio.setdefault(str(inv.api_reference), []).append(inv)
    invoices = list(Invoice.objects.filter(organisation=org).exclude(status__in=["draft", "cancelled"]))
    assert invoices
    for inv in invoices:
        found = in_bexio.get(str(inv.uuid), [])
        if inv.amount_due == 0:
            assert not found, f"invoice {inv.number} is paid from credit, yet bexio has an invoice"
            continue
        assert len(found) == 1, f"invoice {inv.number}: {len(found)} bexio invoices"
        assert Decimal(str(found[0].total)) == inv.amount_due, (inv.number, found[0].total, inv.amount_due)
        item = OutboxItem.objects.get(invoice=inv, kind=ItemKind.INVOICE)
        assert item.status == "done", (inv.number, item.status, item.last_error)
        assert InvoiceLink.objects.get(invoice=inv).bexio_id == found[0].id == item.bexio_id
    return in_bexio


def assert_booked_once(org, client, *, invoices_too: bool = True):
    """Exactly one manual entry in bexio per booking Aeroledger made (and, `invoices_too`, one for the
    credit every approved invoice used)."""
    from aeroledger.bexio_link.transfer.models import ItemKind, OutboxItem

    by_ref = {}
    for entry in client.manual_entries.iter():
        by_ref.setdefault(entry.reference_nr, []).append(entry)
    items = list(OutboxItem.objects.filter(organisation=org, kind=ItemKind.MANUAL_ENTRY))
    for item in items:
        found = by_ref.get(item.key, [])
        assert item.status == "done", (item.label, item.status, item.last_error)
        assert len(found) == 1, f"booking {item.key}: {len(found)} manual entries in bexio"
        assert found[0].id == item.bexio_id
    for inv in Invoice.objects.filter(organisation=org, credit_applied__gt=0).exclude(status="cancelled"):
        if not invoices_too:
            break
        assert any(i.invoice_id == inv.pk for i in items), f"{inv.number}: credit used but not booked"
    return by_ref


def write_requests(sb, since=0):
    return [
        r
        for r in sb.requests(since)
        if r.get("method") in ("POST", "PUT", "PATCH", "DELETE")
        and not str(r.get("path", "")).endswith("/search")
    ]
