"""The outbox sender of bookings: one manual entry in bexio's ledger per credit event, exactly once.

send: `POST /3.0/accounting/manual_entries` (a single entry, or a compound one for the credit an
invoice used). find (before any retry): bexio lists manual entries without a search, so the client
pages the list for our reference number and date. complete: the entry's amount must match ours.
done: an invoice that credit paid in full is "paid" here once its booking is in bexio.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.utils.translation import gettext as _

from aeroledger.billing.models import CreditEntry, Invoice, InvoiceStatus
from bexio.models import ManualEntryCreate, ManualEntryLineCreate, ManualEntryType

from ..invoices.sender import mapping_of
from ..models import ItemKind, OutboxItem
from ..outbox.db import db_section
from ..outbox.senders import Blocked, NotYet, OrgState, Progress, Rejected, Sender, register
from .plan import BookingLine, BookingPlan, plan_credit_entry, plan_usage


def body(plan: BookingPlan, currency_id: int | None) -> ManualEntryCreate:
    """The manual entry: a single booking, or a compound one (one side per line) for credit used."""
    currency = {"currency_id": currency_id, "currency_factor": Decimal("1")} if currency_id else {}
    lines = [
        ManualEntryLineCreate(
            debit_account_id=line.debit_account_id,
            credit_account_id=line.credit_account_id,
            tax_id=line.tax_id,
            amount=line.amount,
            description=line.description[:255] or None,
            **currency,
        )
        for line in plan.lines
    ]
    if plan.compound:
        return ManualEntryCreate.compound(date=plan.date, reference_nr=plan.reference_nr, entries=lines)
    return ManualEntryCreate(
        type=ManualEntryType.SINGLE, date=plan.date, reference_nr=plan.reference_nr, entries=lines
    )


# --- bookings that carry their own lines ---------------------------------------------------------
# An item about neither an invoice nor a credit entry (the opening balance of members' credit, see
# bexio_link/books/opening.py) was planned when it was queued: its lines are in `item.sent`, in the
# shape of `BookingPlan.as_json()`, and are sent as they are.
def plan_from_sent(sent: dict | None) -> BookingPlan:
    sent = sent or {}
    lines = [
        BookingLine(
            Decimal(str(line["amount"])),
            debit_account_id=line.get("debit"),
            credit_account_id=line.get("credit"),
            tax_id=line.get("tax_id"),
            description=line.get("description") or "",
        )
        for line in sent.get("lines") or []
    ]
    plan = BookingPlan(
        reference_nr=sent.get("reference_nr") or "",
        date=date.fromisoformat(sent["date"]) if sent.get("date") else date.today(),
        description=lines[0].description if lines else "",
        lines=lines,
    )
    if not lines or not plan.reference_nr:
        plan.blockers.append(_("This booking has no lines to send."))
    return plan


def booked_amount(entry) -> Decimal:
    """The debit side of a manual entry as bexio answered it."""
    lines = entry.entries or []
    if len(lines) == 1:
        return Decimal(lines[0].amount)
    return sum((Decimal(line.amount) for line in lines if line.debit_account_id), Decimal("0"))


@register
class ManualEntrySender(Sender):
    kind = ItemKind.MANUAL_ENTRY

    def load(self, items: list[OutboxItem]) -> None:
        invoices = Invoice.objects.in_bulk([i.invoice_id for i in items if i.invoice_id])
        entries = CreditEntry.objects.select_related("member", "organisation").in_bulk(
            [i.credit_entry_id for i in items if i.credit_entry_id]
        )
        for item in items:
            item.invoice = invoices.get(item.invoice_id) if item.invoice_id else None
            item.credit_entry = entries.get(item.credit_entry_id) if item.credit_entry_id else None

    def _plan(self, item: OutboxItem, org: OrgState) -> BookingPlan:
        plan = getattr(item, "_plan", None)
        if plan is None:
            with db_section():
                mapping = mapping_of(org)
                if item.credit_entry_id:
                    plan = plan_credit_entry(item.credit_entry, mapping)
                elif item.invoice_id:
                    plan = plan_usage(item.invoice, mapping)
                else:
                    plan = plan_from_sent(item.sent)
            item._plan = plan
        return plan

    def find(self, item: OutboxItem, client, org: OrgState):
        plan = self._plan(item, org)
        found = client.manual_entries.find_by_reference(plan.reference_nr, date=plan.date)
        if item.bexio_id:
            found = [e for e in found if e.id == item.bexio_id] or found
        return min(found, key=lambda e: e.id) if found else None

    def find_many(self, items: list[OutboxItem], client, org: OrgState) -> None:
        """One pass over bexio's manual entries for every reference of the slice (bexio has no
        search for manual entries: each look-up on its own would page the whole list)."""
        plans = {item.pk: self._plan(item, org) for item in items}
        wanted = {(plan.reference_nr, plan.date) for plan in plans.values()}
        found: dict[tuple, object] = {}
        for entry in client.manual_entries.iter():
            key = (entry.reference_nr, entry.date)
            if key in wanted and (key not in found or entry.id < found[key].id):
                found[key] = entry
        for item in items:
            plan = plans[item.pk]
            item.looked_up = found.get((plan.reference_nr, plan.date))

    def send(self, item: OutboxItem, client, org: OrgState):
        plan = self._plan(item, org)
        if plan.blockers:
            raise Blocked("; ".join(plan.blockers))
        if plan.waits_for:
            raise NotYet(plan.waits_for)
        return client.manual_entries.create(body(plan, mapping_of(org).currency_id))

    def complete(self, item: OutboxItem, client, org: OrgState, answer, progress: Progress) -> None:
        plan = self._plan(item, org)
        item.bexio_ref = plan.reference_nr
        item.sent = plan.as_json()
        got = booked_amount(answer)
        if abs(got - plan.amount) >= Decimal("0.01"):
            raise Rejected(
                _("bexio's booking %(ref)s is of %(got)s, Aeroledger's of %(want)s.")
                % {"ref": plan.reference_nr, "got": got, "want": plan.amount}
            )

    def lock_local(self, item: OutboxItem) -> None:
        if item.invoice_id:
            Invoice.objects.select_for_update().filter(pk=item.invoice_id).values_list(
                "pk", flat=True
            ).first()

    def done(self, item: OutboxItem) -> None:
        """A statement (credit paid all of it) is paid here once its booking is in bexio."""
        if item.invoice_id is None:
            return
        invoice = Invoice.objects.get(pk=item.invoice_id)
        if invoice.status == InvoiceStatus.APPROVED and invoice.is_statement:
            invoice.mark_paid_from_credit()
