"""More than 150 positions (resumable), issue after transfer, status and payments back."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from aeroledger.bexio_link.transfer.invoices.sync import sync_status
from aeroledger.bexio_link.transfer.models import InvoiceLink, ItemKind, ItemStatus, OutboxItem, SyncState
from aeroledger.bexio_link.transfer.outbox import outcome
from aeroledger.bexio_link.transfer.start import transfer_invoices
from aeroledger.billing.models import CreditEntry, Invoice, InvoicePayment, InvoicePosition, InvoiceStatus
from aeroledger.tenancy.models import BillingMode, Organisation
from bexio.models import PaymentCreate

from .conftest import map_everything, write_requests

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch):
    monkeypatch.setattr(outcome, "backoff", lambda attempts: timedelta(0))


def big_invoice(org, n=320):
    from aeroledger.members.models import Member

    member = Member.objects.filter(organisation=org).order_by("number").first()
    today = timezone.localdate()
    inv = Invoice.objects.create(
        organisation=org,
        number="BIG-1",
        member=member,
        date=today,
        due_date=today + timedelta(days=30),
        title="Many flights",
    )
    for i in range(1, n + 1):
        InvoicePosition.objects.create(
            invoice=inv,
            pos=i,
            charge_type="manual",
            text=f"Line {i}",
            quantity=Decimal("1.5"),
            unit_price=Decimal("10.05"),
        )
    inv.recalculate()
    inv.save()
    inv.approve(None)
    return inv


@pytest.fixture
def club(client):
    """The demo club, post-paid: every invoice is due in full (credit is tested in test_credit.py)."""
    from aeroledger.billing.demo import seed_demo

    org = seed_demo()
    Organisation.objects.filter(pk=org.pk).update(billing_mode=BillingMode.POSTPAID)
    org.refresh_from_db()
    map_everything(org, client)
    return org


def item_of(invoice):
    return OutboxItem.objects.get(invoice=invoice, kind=ItemKind.INVOICE)


def test_more_than_150_positions_resumes_after_faults(sb, client, club):
    inv = big_invoice(club)
    # Two of the position adds are saved by bexio but the answer is lost.
    sb.fault(method="POST", path=r"/kb_position_custom$", when="after_commit", effect="status:500", times=1)
    sb.fault(method="POST", path=r"/kb_position_custom$", when="after_commit", effect="drop", times=1)
    for _ in range(4):
        transfer_invoices(club, [inv.pk], client=client, concurrency=1)
    assert item_of(inv).status == ItemStatus.DONE, item_of(inv).last_error
    state = InvoiceLink.objects.get(invoice=inv)
    assert state.positions_confirmed == 320
    found = client.invoices.get(state.bexio_id)
    items = [p for p in found.positions if p.kind == "custom"]
    assert len(items) == 320
    assert Decimal(str(found.total)) == inv.total
    creates = [r for r in write_requests(sb) if r["path"] == "/2.0/kb_invoice"]
    assert len(creates) == 1


def test_issue_then_payment_comes_back_once(sb, client, club):
    from aeroledger.billing.demo import seed_demo  # noqa: F401 - club already seeded

    map_everything(club, client, issue=True)
    inv = (
        Invoice.objects.filter(organisation=club, status=InvoiceStatus.DRAFT, amount_due__gt=10)
        .order_by("pk")
        .first()
    )
    inv.approve(None)
    transfer_invoices(club, [inv.pk], client=client, concurrency=1)
    state = InvoiceLink.objects.get(invoice=inv)
    assert item_of(inv).status == ItemStatus.DONE and state.issued and state.bexio_status == 8

    result = sync_status(club, client)
    inv.refresh_from_db()
    assert inv.status == InvoiceStatus.OPEN
    assert result.requests == 1

    due = inv.amount_due
    half = (due / 2).quantize(Decimal("0.05"))
    client.invoices.payments(state.bexio_id).create(PaymentCreate(value=half))
    sync_status(club, client)
    inv.refresh_from_db()
    assert inv.status == InvoiceStatus.PARTIALLY_PAID
    client.invoices.payments(state.bexio_id).create(PaymentCreate(value=due - half))
    r1 = sync_status(club, client)
    r2 = sync_status(club, client)
    inv.refresh_from_db()
    assert inv.status == InvoiceStatus.PAID
    payments = InvoicePayment.objects.filter(organisation=club, external_ref__startswith="bexio-payment:")
    assert payments.count() == 2
    assert sum(p.amount for p in payments) == due == inv.paid_amount
    assert all(p.invoice_id == inv.pk for p in payments)
    assert not CreditEntry.objects.filter(invoice=inv).exists()  # paying an invoice is not credit
    assert r2.payments == 0 and r1.payments == 1
    assert SyncState.objects.get(organisation=club).watermark


def test_cancelled_and_deleted_in_bexio_are_shown(sb, client, club):
    invs = list(Invoice.objects.filter(organisation=club, status=InvoiceStatus.DRAFT).order_by("pk")[:2])
    for inv in invs:
        inv.approve(None)
    transfer_invoices(club, [i.pk for i in invs], client=client, concurrency=1)
    a, b = (InvoiceLink.objects.get(invoice=i) for i in invs)
    client.invoices.issue(a.bexio_id)
    client.invoices.cancel(a.bexio_id)
    client.invoices.delete(b.bexio_id)
    sync_status(club, client, full=True)
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.is_cancelled_in_bexio and "cancelled" in a.action_hint()
    assert Invoice.objects.get(pk=invs[0].pk).status == InvoiceStatus.CANCELLED
    assert b.gone_in_bexio and "deleted" in b.action_hint()


def test_sync_asks_only_for_what_changed(sb, client, club):
    invs = list(Invoice.objects.filter(organisation=club, status=InvoiceStatus.DRAFT).order_by("pk")[:5])
    for inv in invs:
        inv.approve(None)
    transfer_invoices(club, client=client, concurrency=2)
    sync_status(club, client)
    mark = sb.requests()[-1]["id"]
    state = InvoiceLink.objects.get(invoice=invs[0])
    client.invoices.issue(state.bexio_id)
    mark2 = sb.requests()[-1]["id"]
    result = sync_status(club, client)
    reqs = sb.requests(mark2)
    assert len(reqs) == 1 and reqs[0]["path"] == "/2.0/kb_invoice/search"
    assert result.changed >= 1
    assert mark  # requests before were logged


def test_payment_deleted_in_bexio_is_reversed_once(sb, client, club):
    map_everything(club, client, issue=True)
    inv = (
        Invoice.objects.filter(organisation=club, status=InvoiceStatus.DRAFT, amount_due__gt=10)
        .order_by("pk")
        .first()
    )
    inv.approve(None)
    transfer_invoices(club, [inv.pk], client=client, concurrency=1)
    state = InvoiceLink.objects.get(invoice=inv)
    assert item_of(inv).status == ItemStatus.DONE and state.issued

    due = inv.amount_due
    payment = client.invoices.payments(state.bexio_id).create(PaymentCreate(value=due))
    r1 = sync_status(club, client)
    inv.refresh_from_db()
    assert inv.status == InvoiceStatus.PAID
    assert r1.payments == 1
    booked = InvoicePayment.objects.filter(organisation=club, external_ref=f"bexio-payment:{payment.id}")
    assert booked.count() == 1

    client.invoices.payments(state.bexio_id).delete(payment.id)
    assert client.invoices.get(state.bexio_id).kb_item_status_id == 8
    r2 = sync_status(club, client)
    inv.refresh_from_db()
    assert inv.status == InvoiceStatus.OPEN
    ref = f"bexio-payment-deleted:{payment.id}"
    reversals = InvoicePayment.objects.filter(organisation=club, external_ref=ref)
    assert reversals.count() == 1
    reversal = reversals.get()
    assert reversal.amount == -due and reversal.invoice_id == inv.pk
    assert "deleted in bexio" in reversal.text
    assert r2.reversals == 1 and r2.payments == 0

    r3 = sync_status(club, client)
    assert r3.reversals == 0 and r3.payments == 0
    assert InvoicePayment.objects.filter(invoice=inv).count() == 2
    assert inv.paid_amount == 0  # the reopened invoice is owed again
    assert InvoiceLink.objects.get(invoice=inv).received_payments == 0
