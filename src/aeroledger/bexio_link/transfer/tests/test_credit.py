"""Members' credit in bexio's ledger, against the sandbox over HTTP: what credit pays is booked
(liability -> revenue, VAT per line), only the rest is invoiced, never an invoice of CHF 0.00;
top-ups, deposits, refunds and corrections each booked once, under faults too."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from aeroledger.bexio_link.transfer import start
from aeroledger.bexio_link.transfer.bookings.plan import plan_usage, usage_reference
from aeroledger.bexio_link.transfer.hooks import withdraw_or_refuse
from aeroledger.bexio_link.transfer.invoices.sync import sync_status
from aeroledger.bexio_link.transfer.models import ItemKind, ItemStatus, OutboxItem
from aeroledger.bexio_link.transfer.outbox import outcome, worker
from aeroledger.billing.models import (
    CancelRefused,
    CreditEntry,
    CreditKind,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    credit_balance,
)
from aeroledger.billing.runs import create_top_up
from bexio.models import PaymentCreate

from .conftest import assert_booked_once, assert_exactly_once, write_requests

pytestmark = pytest.mark.django_db(transaction=True)

MANUAL_ENTRY = r"^/3\.0/accounting/manual_entries$"


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch):
    monkeypatch.setattr(outcome, "backoff", lambda attempts: timedelta(0))


@pytest.fixture
def connected(prepaid_demo, use_client, client):
    """The prepaid demo, "connected" (bookings of credit entries are queued) through `client`."""
    from aeroledger.bexio_link.connection.models import BexioConnection, Status

    BexioConnection.objects.create(organisation=prepaid_demo, status=Status.CONNECTED, company_id="x")
    use_client(client)
    return prepaid_demo


def run(org, client, **kw):
    kw.setdefault("concurrency", 4)
    return start.transfer_invoices(org, client=client, **kw)


def journal_balance(client, account_id: int) -> Decimal:
    """An account's balance in bexio's journal, credit minus debit (a liability's view)."""
    total = Decimal("0")
    for line in client.journal.iter():
        if line.credit_account_id == account_id:
            total += Decimal(str(line.amount))
        if line.debit_account_id == account_id:
            total -= Decimal(str(line.amount))
    return total


def test_credit_pays_first_and_only_the_rest_is_invoiced(sb, client, prepaid_demo):
    invoices = list(Invoice.objects.filter(organisation=prepaid_demo).exclude(status="cancelled"))
    statements = [i for i in invoices if i.is_statement]
    due = [i for i in invoices if i.amount_due > 0]
    assert statements and due, "the demo has members paid fully from credit and members owing something"
    run(prepaid_demo, client)
    assert_exactly_once(prepaid_demo, client)  # no bexio invoice for a statement, none of CHF 0.00
    by_ref = assert_booked_once(prepaid_demo, client)
    for inv in invoices:
        if inv.credit_applied:
            [entry] = by_ref[usage_reference(inv)]
            debit = sum(Decimal(str(line.amount)) for line in entry.entries if line.debit_account_id)
            assert debit == inv.credit_applied
    for inv in statements:
        inv.refresh_from_db()
        assert inv.status == InvoiceStatus.PAID  # paid from credit, once its booking is in bexio

    # Revenue and VAT arise from the booking, at the tax of each charge type.
    inv = next(i for i in invoices if i.credit_applied and i.kind == InvoiceKind.CHARGES)
    from aeroledger.bexio_link.masterdata.mapping import mapping_for

    plan = plan_usage(inv, mapping_for(prepaid_demo))
    assert plan.lines[0].debit_account_id == mapping_for(prepaid_demo).credit_account_id
    assert all(line.credit_account_id and line.tax_id for line in plan.lines[1:])

    mark = sb.requests()[-1]["id"]
    run(prepaid_demo, client)  # again: nothing is written twice
    assert write_requests(sb, mark) == []


@pytest.mark.parametrize("effect", ["status:500", "drop", "timeout"])
def test_a_lost_answer_to_a_booking_is_looked_up_not_booked_again(sb, client, prepaid_demo, effect):
    sb.fault(method="POST", path=MANUAL_ENTRY, when="after_commit", effect=effect, times=3)
    run(prepaid_demo, client)
    assert_booked_once(prepaid_demo, client)
    assert_exactly_once(prepaid_demo, client)
    adopted = OutboxItem.objects.filter(kind=ItemKind.MANUAL_ENTRY, log__outcome="adopted").distinct()
    assert adopted.count() == 3


def test_bexio_refusing_a_booking_stops_it_with_bexios_message(sb, client, prepaid_demo):
    sb.fault(method="POST", path=MANUAL_ENTRY, when="before", effect="status:422", times=1)
    run(prepaid_demo, client)
    [failed] = OutboxItem.objects.filter(status=ItemStatus.FAILED)
    assert failed.kind == ItemKind.MANUAL_ENTRY and failed.last_error_status == 422 and failed.last_error
    assert not failed.maybe_in_bexio
    # The invoice of that booking may still be cancelled: nothing of its credit is in bexio.
    invoice = failed.invoice
    if invoice.amount_due == 0:
        invoice.cancel(None)
        assert invoice.status == InvoiceStatus.CANCELLED


def test_cancel_withdraws_what_waits_and_reverses_a_credit_use_already_in_bexio(sb, client, prepaid_demo):
    inv = next(
        i for i in Invoice.objects.filter(organisation=prepaid_demo, status="approved") if i.credit_applied
    )
    start.start_transfer(prepaid_demo, [inv.pk], enqueue_task=False)
    assert withdraw_or_refuse is not None
    inv.cancel(None)  # nothing sent yet: the waiting writes are withdrawn
    assert set(OutboxItem.objects.filter(invoice=inv).values_list("status", flat=True)) == {
        ItemStatus.CANCELLED
    }
    assert not OutboxItem.objects.filter(credit_entry__invoice=inv).exists()  # nothing to reverse
    worker.run_outbox(org_ids=[prepaid_demo.pk], client_factory=lambda _org: client)
    assert not any(e.reference_nr == usage_reference(inv) for e in client.manual_entries.iter())

    # Part paid from credit, the rest due: its booking reaches bexio, its invoice is refused.
    other = next(
        i
        for i in Invoice.objects.filter(organisation=prepaid_demo, status="approved")
        if i.credit_applied and i.amount_due
    )
    sb.fault(method="POST", path=r"^/2\.0/kb_invoice$", when="before", effect="status:422")
    run(prepaid_demo, client, invoice_ids=[other.pk])
    other.refresh_from_db()
    assert other.status == InvoiceStatus.APPROVED
    # Cancelling withdraws the refused invoice and reverses the booked use of credit (revenue and
    # VAT back to the credit account), once.
    other.cancel(None)
    assert Invoice.objects.get(pk=other.pk).status == InvoiceStatus.CANCELLED
    assert OutboxItem.objects.get(invoice=other, kind=ItemKind.INVOICE).status == ItemStatus.CANCELLED
    [reversal] = OutboxItem.objects.filter(credit_entry__invoice=other)
    sb.clear_faults()
    worker.run_outbox(org_ids=[prepaid_demo.pk], client_factory=lambda _org: client)
    refs = [e.reference_nr for e in client.manual_entries.iter()]
    assert refs.count(usage_reference(other)) == refs.count(reversal.key) == 1

    # While the use of credit is being sent, whether it lands is not known: the cancel waits.
    third = next(
        i
        for i in Invoice.objects.filter(organisation=prepaid_demo, status="approved")
        if i.credit_applied and i.amount_due
    )
    start.start_transfer(prepaid_demo, [third.pk], enqueue_task=False)
    OutboxItem.objects.filter(invoice=third, kind=ItemKind.MANUAL_ENTRY).update(status=ItemStatus.SENDING)
    with pytest.raises(CancelRefused, match="right now"):
        third.cancel(None)
    assert Invoice.objects.get(pk=third.pk).status == InvoiceStatus.APPROVED


def test_a_paid_top_up_is_credit_and_is_rebooked_from_the_clearing_account(sb, client, connected):
    org = connected
    member = Invoice.objects.filter(organisation=org, kind=InvoiceKind.CHARGES).first().member
    top_up = create_top_up(org, member, Decimal("300"))
    top_up.approve(None)
    run(org, client)
    before = credit_balance(member)
    link = top_up.bexio_invoice
    client.invoices.issue(link.bexio_id)
    client.invoices.payments(link.bexio_id).create(PaymentCreate(value=Decimal("300"), date=date.today()))
    sync_status(org, client)
    assert credit_balance(member) == before + 300
    entry = CreditEntry.objects.get(member=member, kind=CreditKind.TOP_UP, invoice=top_up)
    [item] = OutboxItem.objects.filter(credit_entry=entry)
    worker.run_outbox(org_ids=[org.pk], client_factory=lambda _org: client)
    item.refresh_from_db()
    assert item.status == ItemStatus.DONE, item.last_error
    [booked] = [e for e in client.manual_entries.iter() if e.reference_nr == item.key]
    line = booked.entries[0]
    from aeroledger.bexio_link.masterdata.mapping import mapping_for

    mapping = mapping_for(org)
    assert (line.debit_account_id, line.credit_account_id) == (
        mapping.top_up_account_id(),
        mapping.credit_account_id,
    )
    assert Decimal(str(line.amount)) == 300
    sync_status(org, client)  # a second sync books nothing more
    assert CreditEntry.objects.filter(member=member, kind=CreditKind.TOP_UP).count() == 1


def test_deposit_refund_and_correction_are_booked_once_each(sb, client, connected):
    org = connected
    member = Invoice.objects.filter(organisation=org).first().member
    from aeroledger.bexio_link.masterdata.mapping import mapping_for

    mapping = mapping_for(org)
    bank = mapping.money_accounts()[0][0]
    deposit = CreditEntry.objects.create(
        organisation=org, member=member, kind=CreditKind.DEPOSIT, amount=Decimal("250"), money_account=bank
    )
    refund = CreditEntry.objects.create(
        organisation=org, member=member, kind=CreditKind.REFUND, amount=Decimal("-50"), money_account=bank
    )
    correction = CreditEntry.objects.create(
        organisation=org, member=member, kind=CreditKind.CORRECTION, amount=Decimal("-20"), reason="typo"
    )
    sb.fault(method="POST", path=MANUAL_ENTRY, when="after_commit", effect="drop", times=1)
    worker.run_outbox(org_ids=[org.pk], client_factory=lambda _org: client)
    by_ref = assert_booked_once(org, client, invoices_too=False)
    liability, bank_account = mapping.credit_account_id, mapping.bank_ledger_account_id(bank)
    sides = {
        entry.kind: (by_ref[OutboxItem.objects.get(credit_entry=entry).key][0].entries[0])
        for entry in (deposit, refund, correction)
    }
    assert (sides["deposit"].debit_account_id, sides["deposit"].credit_account_id) == (
        bank_account,
        liability,
    )
    assert (sides["refund"].debit_account_id, sides["refund"].credit_account_id) == (liability, bank_account)
    assert (sides["correction"].debit_account_id, sides["correction"].credit_account_id) == (
        liability,
        mapping.corrections_account_id,
    )
    assert [Decimal(str(sides[k].amount)) for k in ("deposit", "refund", "correction")] == [250, 50, 20]


def test_nothing_of_chf_0_00_goes_to_bexio(sb, client, prepaid_demo):
    run(prepaid_demo, client)
    assert all(Decimal(str(i.total)) != 0 for i in client.invoices.iter())
    for entry in client.manual_entries.iter():
        assert all(Decimal(str(line.amount)) > 0 for line in entry.entries)
