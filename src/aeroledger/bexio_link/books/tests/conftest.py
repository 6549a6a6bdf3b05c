# ruff: noqa: F811 - the fixtures imported below are arguments of the ones defined here
"""Fixtures: the transfer tests' sandbox, client and prepaid demo; a connected, booked demo month."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from aeroledger.bexio_link.transfer.tests.conftest import (  # noqa: F401 - fixtures
    client,
    prepaid_demo,
    sb,
    transfer_sandbox,
)


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch):
    from aeroledger.bexio_link.transfer.outbox import outcome

    monkeypatch.setattr(outcome, "backoff", lambda attempts: timedelta(0))


def connect(org):
    from aeroledger.bexio_link.connection.models import BexioConnection, Status

    BexioConnection.objects.create(organisation=org, status=Status.CONNECTED, company_id="x")


@pytest.fixture
def connected(prepaid_demo, use_client, client):
    """The prepaid demo (every charge type on one account), "connected" (bookings of credit entries
    are queued) through `client`."""
    connect(prepaid_demo)
    use_client(client)
    return prepaid_demo


@pytest.fixture
def club(sb, client, use_client):
    """The demo club mapped as a club maps it (the sandbox's chart: aircraft time 3400 and landing
    fees 3420 at 8.1 %, instruction 3410 exempt, top-ups on the 3090 clearing account, members'
    credit 2030, corrections 3805), invoices issued in bexio at the transfer, every invoice approved,
    then connected: the deposits seeded before are credit from before bexio."""
    from aeroledger.bexio_link.masterdata.demo import configure_demo_mapping
    from aeroledger.bexio_link.masterdata.models import InvoiceSettings
    from aeroledger.bexio_link.masterdata.refresh import refresh_master_data
    from aeroledger.bexio_link.transfer.tests.conftest import approve_all
    from aeroledger.billing.demo import seed_demo

    org = seed_demo()
    refresh_master_data(org, client)
    configure_demo_mapping(org)
    InvoiceSettings.objects.filter(organisation=org).update(issue_automatically=True)
    approve_all(org)
    connect(org)
    use_client(client)
    return org


def run_outbox(org, client):
    from aeroledger.bexio_link.transfer.outbox import worker

    return worker.run_outbox(org_ids=[org.pk], client_factory=lambda _org: client)


def transfer(org, client):
    from aeroledger.bexio_link.transfer import start

    return start.transfer_invoices(org, client=client, concurrency=4)


def book_opening(org, client, day=None):
    """The opening balance of members' credit (the demo's deposits were made before connecting)."""
    from aeroledger.bexio_link.books import opening

    state = opening.state(org)
    item = opening.book(
        org, account_id=state.default_account.bexio_id, day=day or state.default_date, expected=state.amount
    )
    run_outbox(org, client)
    item.refresh_from_db()
    assert item.status == "done", item.last_error
    return item


def pay_top_up(org, client, member, amount=Decimal("300")):
    """A top-up invoice approved, transferred, issued and paid in bexio, its payment synced back and
    its re-booking transferred."""
    from aeroledger.bexio_link.transfer.invoices.sync import sync_status
    from aeroledger.billing.runs import create_top_up
    from bexio.models import PaymentCreate

    top_up = create_top_up(org, member, amount)
    top_up.approve(None)
    transfer(org, client)
    link = top_up.bexio_invoice
    if client.invoices.get(link.bexio_id).kb_item_status_id == 7:  # a draft: issue it
        client.invoices.issue(link.bexio_id)
    client.invoices.payments(link.bexio_id).create(PaymentCreate(value=amount, date=date.today()))
    sync_status(org, client)
    run_outbox(org, client)
    return top_up


@pytest.fixture
def honest_month(sb, client, club):
    """The club's month in bexio: opening balance, transfer, a top-up paid, status synced."""
    from aeroledger.bexio_link.transfer.invoices.sync import sync_status
    from aeroledger.billing.models import Invoice, InvoiceKind

    org = club
    book_opening(org, client)
    transfer(org, client)
    member = Invoice.objects.filter(organisation=org, kind=InvoiceKind.CHARGES).first().member
    pay_top_up(org, client, member)
    sync_status(org, client)
    return org


@pytest.fixture
def connected_for_pages(club, sb, settings):
    """The club connected with a token and its scopes, so the pages' connection check passes."""
    from aeroledger.bexio_link.connection.models import BexioConnection, Status

    t = sb.tokens()
    conn = BexioConnection.objects.get(organisation=club)
    conn.set_tokens(t["access_token"], t.get("refresh_token"))
    conn.status = Status.CONNECTED
    conn.granted_scopes = t["scope"].split()
    conn.save()
    settings.BEXIO_API_BASE = sb.url
    return club
