"""An invoice cancelled after its use of credit reached bexio's ledger: the use is reversed there
(revenue and VAT back to the members' credit account, as booked then, dated the day of the cancel),
exactly once, and the books still reconcile. Against the sandbox over HTTP."""

from datetime import date

import pytest

from aeroledger.bexio_link.books.reconcile import reconcile
from aeroledger.bexio_link.masterdata.mapping import mapping_for
from aeroledger.bexio_link.transfer.bookings.plan import usage_reference
from aeroledger.bexio_link.transfer.invoices.sync import sync_status
from aeroledger.bexio_link.transfer.models import ItemKind, ItemStatus, OutboxItem
from aeroledger.bexio_link.transfer.outbox.enqueue import retry
from aeroledger.billing.models import Charge, CreditKind, Invoice, InvoiceStatus, credit_balance
from aeroledger.billing.runs import billing_run

from .conftest import book_opening, run_outbox, transfer

pytestmark = pytest.mark.django_db(transaction=True)


def entries_named(client, reference: str) -> list:
    return [e for e in client.manual_entries.iter() if e.reference_nr == reference]


def reversal_of(invoice) -> OutboxItem:
    [item] = OutboxItem.objects.filter(
        organisation=invoice.organisation, kind=ItemKind.MANUAL_ENTRY, credit_entry__invoice=invoice
    )
    return item


def test_a_statement_cancelled_after_its_credit_use_was_booked_reverses_that_booking(sb, client, club):
    book_opening(club, client)
    transfer(club, client)
    statement = Invoice.objects.filter(
        organisation=club, credit_applied__gt=0, amount_due=0, status=InvoiceStatus.PAID
    ).first()
    assert statement is not None, "the demo has a member whose credit paid a whole invoice"
    used = statement.credit_applied
    [booked] = entries_named(client, usage_reference(statement))
    balance = credit_balance(statement.member)

    # A statement is "paid" once its use is booked. Cancelling it is what a treasurer does when the
    # flights were wrong; before, it was refused, which left the revenue and VAT of the use standing.
    assert statement.cancellable_here
    statement.cancel(None)
    statement.refresh_from_db()
    assert statement.status == InvoiceStatus.CANCELLED
    assert credit_balance(statement.member) == balance + used
    assert not Charge.objects.filter(invoice=statement).exists()  # billable again

    item = reversal_of(statement)
    assert item.key == f"AL-{club.slug}-X{statement.number}"
    run_outbox(club, client)
    run_outbox(club, client)  # a second pass books nothing twice
    [reversal] = entries_named(client, item.key)
    assert reversal.date == date.today()
    # The use as booked, sides swapped: the credit account credited, each revenue line debited
    # with its VAT code.
    used_lines = {(ln.debit_account_id, ln.credit_account_id, ln.tax_id, ln.amount) for ln in booked.entries}
    back_lines = {
        (ln.credit_account_id, ln.debit_account_id, ln.tax_id, ln.amount) for ln in reversal.entries
    }
    assert back_lines == used_lines
    assert sum(ln.amount for ln in reversal.entries if ln.credit_account_id) == used

    result = reconcile(club, client=client)
    assert result.differences == [], [d.as_json() for d in result.differences]


def test_an_invoice_cancelled_in_bexio_gives_its_credit_back_and_reverses_its_use(sb, client, club):
    book_opening(club, client)
    transfer(club, client)
    invoice = Invoice.objects.filter(organisation=club, credit_applied__gt=0, amount_due__gt=0).first()
    assert invoice is not None, "the demo has a member whose credit paid part of an invoice"
    member, used = invoice.member, invoice.credit_applied
    balance = credit_balance(member)
    charges = list(invoice.charges.values_list("pk", flat=True))

    # Cancelling here is refused: bexio has the invoice. The treasurer cancels it in bexio.
    link = invoice.bexio_invoice
    client.invoices.cancel(link.bexio_id)
    sync_status(club, client)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.CANCELLED
    assert credit_balance(member) == balance + used
    assert Charge.objects.filter(pk__in=charges, invoice__isnull=True).count() == len(charges)
    back = invoice.credit_entries.filter(kind=CreditKind.USAGE, amount__gt=0).get()
    assert back.amount == used

    run_outbox(club, client)
    assert len(entries_named(client, reversal_of(invoice).key)) == 1
    assert reconcile(club, client=client).differences == []

    # The charges are billed again in the next run, and a stale read never revives the invoice.
    billing_run(club, f"{invoice.run.period_start:%m.%Y}")
    assert Charge.objects.filter(pk__in=charges, invoice__isnull=False).count() == len(charges)
    assert invoice.set_status_from_bexio(InvoiceStatus.OPEN) is False
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.CANCELLED


def test_cancelled_in_bexio_before_its_use_was_booked_withdraws_that_use(sb, client, club):
    """The invoice went to bexio, its booking of credit use failed (bexio refused it); then the
    invoice is cancelled in bexio: the use is withdrawn, nothing is reversed, the books match."""
    book_opening(club, client)
    invoice = Invoice.objects.filter(organisation=club, credit_applied__gt=0, amount_due__gt=0).first()
    sb.fault(
        method="POST",
        path=r"^/3\.0/accounting/manual_entries$",
        when="before",
        effect="status:422",
        times=100,
    )
    transfer(club, client)
    sb.clear_faults()
    use = OutboxItem.objects.get(organisation=club, key=usage_reference(invoice))
    assert use.status == ItemStatus.FAILED and use.withdrawable, use.last_error
    client.invoices.cancel(invoice.bexio_invoice.bexio_id)
    sync_status(club, client)
    use.refresh_from_db()
    assert use.status == ItemStatus.CANCELLED
    assert not OutboxItem.objects.filter(credit_entry__invoice=invoice).exists()
    assert entries_named(client, usage_reference(invoice)) == []
    # The other bookings that bexio refused go through once retried; the books match.
    retry(club, enqueue=False)
    run_outbox(club, client)
    assert reconcile(club, client=client).differences == []


def test_a_top_up_may_carry_no_vat(sb, client, club):
    """A top-up is a prepayment: VAT arises when the credit is used. A taxed top-up would charge the
    member VAT twice; the mapping refuses it (form) and blocks it (a saved row)."""
    from aeroledger.bexio_link.masterdata.forms import ChargeMappingForm
    from aeroledger.bexio_link.masterdata.models import BexioRecord, ChargeMapping, Kind
    from aeroledger.billing.models import ChargeType

    records = BexioRecord.objects.filter(organisation=club)
    clearing = records.get(kind=Kind.ACCOUNT, data__account_no="3090")
    taxed = records.get(kind=Kind.TAX, data__code="UN81")
    untaxed = records.get(kind=Kind.TAX, data__code="UVZ")
    row = ChargeMapping.objects.get(
        organisation=club, charge_type=ChargeType.TOP_UP, aircraft=None, aerodrome=None
    )

    def form(tax):
        data = {"article": "", "account": clearing.pk, "tax": tax.pk}
        return ChargeMappingForm(data, organisation=club, row=row, charge_type=ChargeType.TOP_UP)

    refused = form(taxed)
    assert not refused.is_valid()
    assert "choose a tax of 0 %" in refused.non_field_errors()[0]
    assert form(untaxed).is_valid()
    assert mapping_for(club).position_problems(ChargeType.TOP_UP) == []

    ChargeMapping.objects.filter(pk=row.pk).update(article=None, account=clearing, tax=taxed)
    [problem] = mapping_for(club).position_problems(ChargeType.TOP_UP)
    assert "choose a tax of 0 %" in problem and "UN81" in problem
    # New top-ups wait for the fix; one paid meanwhile is still re-booked from the clearing account.
    assert mapping_for(club).top_ups_need_rebooking


def test_a_reversal_waits_for_its_credit_use_to_reach_bexio_and_is_blocked_without_one(sb, client, club):
    """The reversal is planned from the use as bexio got it: while that use is still on its way
    (waiting, sending, failed with a retry to come) the reversal waits and is tried again; without
    any booked use there is nothing to reverse and a person is told."""
    from aeroledger.bexio_link.transfer.bookings.plan import plan_credit_entry

    book_opening(club, client)
    transfer(club, client)
    invoice = Invoice.objects.filter(organisation=club, credit_applied__gt=0, amount_due__gt=0).first()
    client.invoices.cancel(invoice.bexio_invoice.bexio_id)
    sync_status(club, client)
    back = invoice.credit_entries.get(kind=CreditKind.USAGE, amount__gt=0)
    use = OutboxItem.objects.filter(organisation=club, key=usage_reference(invoice))
    assert (
        plan_credit_entry(back, mapping_for(club)).ok
        and not plan_credit_entry(back, mapping_for(club)).waits_for
    )

    use.update(status=ItemStatus.SENDING)
    waiting = plan_credit_entry(back, mapping_for(club))
    assert waiting.waits_for and not waiting.blockers and not waiting.lines

    use.update(status=ItemStatus.CANCELLED)
    blocked = plan_credit_entry(back, mapping_for(club))
    assert blocked.blockers and not blocked.waits_for
