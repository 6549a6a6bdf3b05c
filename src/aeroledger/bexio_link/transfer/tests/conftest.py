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


def approve_all(org):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.filter(username="admin").first()
    for inv in Invoice.objects.filter(organisation=org, status=InvoiceStatus.DRAFT):
        inv.approve(admin)


@pytest.fixture
def demo(client):
    """The demo club (a month of flights billed + top-ups), mapped and every invoice approved."""
    from aeroledger.billing.demo import seed_demo

    org = seed_demo()
    map_everything(org, client)
    approve_all(org)
    return org


def bexio_invoices(client) -> list:
    return list(client.invoices.iter())


def assert_exactly_once(org, client):
    """Exactly one bexio invoice per approved invoice, with matching totals."""
    from aeroledger.bexio_link.transfer.models import TransferState

    in_bexio = {}
    for inv in client.invoices.iter():
        in_bexio.setdefault(str(inv.api_reference), []).append(inv)
    invoices = list(Invoice.objects.filter(organisation=org).exclude(status__in=["draft", "cancelled"]))
    assert invoices
    for inv in invoices:
        found = in_bexio.get(str(inv.uuid), [])
        assert len(found) == 1, f"invoice {inv.number}: {len(found)} bexio invoices"
        want = inv.amount_due if inv.credit_applied else inv.total
        assert Decimal(str(found[0].total)) == want, (inv.number, found[0].total, want)
        state = TransferState.objects.get(invoice=inv)
        assert state.status == "done", (inv.number, state.status, state.last_error)
        assert state.bexio_id == found[0].id
    return in_bexio


def write_requests(sb, since=0):
    return [
        r
        for r in sb.requests(since)
        if r.get("method") in ("POST", "PUT", "PATCH", "DELETE")
        and not str(r.get("path", "")).endswith("/search")
    ]
