"""Page query counts do not grow with the data on the page (no N+1): each list page is rendered
with few rows and with many rows, and must use the same number of queries."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aeroledger.tenancy.testing import make_fleet, make_flight, make_member, make_org, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def club(client):
    org = make_org("club", bexio=True)
    staff = make_staff(org, "boss")
    client.force_login(staff)
    aircraft, aerodrome = make_fleet(org)
    payer = make_member(org, "P1", email="payer@example.ch")
    return {"org": org, "aircraft": aircraft, "aerodrome": aerodrome, "payer": payer, "n": 0}


def add_rows(club, count: int) -> None:
    """`count` more members (some paid by another), flights, invoices, transfer attempts, calls and
    credit entries (balances below zero and above)."""
    from aeroledger.bexio_link.connection.models import BexioCall
    from aeroledger.bexio_link.masterdata.models import ContactLink
    from aeroledger.bexio_link.transfer.models import InvoiceLink, OutboxAttempt, OutboxItem, TransferBatch
    from aeroledger.billing.models import CreditEntry, Invoice, InvoicePosition

    org = club["org"]
    batch = TransferBatch.objects.create(organisation=org)
    for _ in range(count):
        club["n"] += 1
        i = club["n"]
        member = make_member(org, str(i), invoice_to=club["payer"] if i % 3 == 0 else None)
        ContactLink.objects.create(organisation=org, member=member, bexio_id=1000 + i)
        make_flight(
            org, club["aircraft"], member, landings=[(club["aerodrome"], 1)], instructor=club["payer"]
        )
        inv = Invoice.objects.create(
            organisation=org, member=member, number=f"2026-{i:05d}", date=date(2026, 10, 31),
            due_date=date(2026, 10, 31) + timedelta(days=30), title=f"Flights {i}", total=Decimal("10.00"),
            amount_due=Decimal("10.00"), status="approved",
        )  # fmt: skip
        InvoicePosition(invoice=inv, pos=1, charge_type="manual", text="x", quantity=1, unit_price=10).save()
        item = OutboxItem.objects.create(
            organisation=org, kind="invoice", key=str(inv.uuid), invoice=inv, label=inv.number, batch=batch,
            status="failed" if i % 2 else "done", last_error="x",
        )  # fmt: skip
        InvoiceLink.objects.create(organisation=org, invoice=inv, bexio_id=i, document_nr=f"RE-{i:05d}")
        OutboxAttempt.objects.create(organisation=org, item=item, batch=batch, outcome="failed", message="m")
        BexioCall.objects.create(organisation=org, method="POST", path="/2.0/kb_invoice", status=500)
        CreditEntry.objects.create(
            organisation=org, member=member, kind="deposit", amount=Decimal(50 * (i % 4) - 60)
        )
        Invoice.objects.create(
            organisation=org, member=club["payer"], number=f"P-{i:05d}", date=date(2026, 10, 31),
            due_date=date(2026, 11, 30), title="Flights", total=Decimal("20.00"), amount_due=Decimal("20.00"),
            status="partially_paid",
        )  # fmt: skip


PAGES = [
    ("org_home", {}),
    ("members:list", {}),
    ("members:list", {"show": "all"}),
    ("members:list", {"sort": "number", "q": "Muster"}),
    ("billing:invoices", {}),
    ("billing:invoices", {"show": "owed", "sort": "name"}),
    ("billing:invoices", {"status": "approved", "bexio": "failed"}),
    ("billing:credit_accounts", {}),
    ("billing:credit_accounts", {"balance": "low"}),
    ("billing:credit_accounts", {"sort": "balance"}),
    ("flights:list", {}),
    ("bexio_transfer:log", {}),
    ("bexio_transfer:log", {"show": "calls"}),
    ("bexio_transfer:transfers", {}),
    ("bexio_transfer:preview", {}),
    ("bexio_masterdata:contacts", {}),
]


def queries(client, name, params, org) -> tuple[int, list[str]]:
    """Queries of GET `name` (an org page) with `params`; `name` None: `params` is the url."""
    url, params = (params, {}) if name is None else (reverse(name, args=[org.slug]), params)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200, (name, response.status_code)
    return len(ctx.captured_queries), [q["sql"] for q in ctx.captured_queries]


@pytest.mark.parametrize(("name", "params"), PAGES, ids=[f"{n}{p or ''}" for n, p in PAGES])
def test_query_count_does_not_grow_with_rows(client, club, name, params):
    add_rows(club, 3)
    few, _ = queries(client, name, params, club["org"])
    add_rows(club, 20)
    many, sql = queries(client, name, params, club["org"])
    assert many == few, f"{name}: {few} queries with 4 rows, {many} with 24:\n" + "\n".join(sql[-10:])


def test_member_page_query_count_does_not_grow_with_flights_and_invoices(client, club):
    payer = club["payer"]
    url = reverse("members:detail", args=[club["org"].slug, payer.pk])
    add_rows(club, 3)  # members paid by the payer, flights with the payer as instructor
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    add_rows(club, 20)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few), "\n".join(q["sql"] for q in many.captured_queries[-10:])


SIZED = [
    ("members", "PAGE_SIZE", "members:list", {}),
    ("billing", "PAGE_SIZE", "billing:invoices", {}),
    ("billing", "PAGE_SIZE", "billing:invoices", {"sort": "name", "show": "owed"}),
    ("billing", "PAGE_SIZE", "billing:credit_accounts", {}),
    ("billing", "PAGE_SIZE", "billing:credit_accounts", {"balance": "negative"}),
    ("flights", "PAGE_SIZE", "flights:list", {}),
    ("members", "RECENT", "members:detail", {}),
]


@pytest.mark.parametrize(
    ("view_module", "size", "name", "params"), SIZED, ids=[f"{n}{p or ''}" for _m, _s, n, p in SIZED]
)
def test_query_count_does_not_grow_with_page_size(client, club, monkeypatch, view_module, size, name, params):
    import importlib

    module = importlib.import_module(f"aeroledger.{view_module}.views")
    add_rows(club, 24)
    if name == "members:detail":
        url = reverse(name, args=[club["org"].slug, club["payer"].pk])
        name, params = None, url
    monkeypatch.setattr(module, size, 5)
    small, _ = queries(client, name, params, club["org"])
    monkeypatch.setattr(module, size, 20)
    large, sql = queries(client, name, params, club["org"])
    assert large == small, f"{name}: {small} queries at page size 5, {large} at 20:\n" + "\n".join(sql[-10:])
