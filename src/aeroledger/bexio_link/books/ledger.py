"""Aeroledger's side of the books: what its ledger says bexio should hold (reads only the database).

- `credit_total(org, until)`: the members' credit balances as of a day, the sum of the credit
  entries; the credit an approved invoice used and gave back when it was cancelled (before anything
  of it reached bexio) is left out on both sides, so it never shows as a difference in between.
- `bookings(org, mapping, until)`: every booking of members' credit Aeroledger made or will make
  in bexio: the outbox's manual entries that are not withdrawn (done: the lines it sent; otherwise
  the lines it would send now), and the credit used by approved invoices not queued yet.
- `not_booked(org, mapping, until)`: credit entries that no booking covers: the credit members had
  before the organisation connected bexio (the hook queues bookings only once connected). That is
  the opening balance to book once (`opening.py`).
- `invoice_effects(...)`: what an invoice issued in bexio books on revenue and VAT accounts (the
  due part of each position, at the mapping's account and tax).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Count, Exists, Max, OuterRef, Q, Sum

from aeroledger.bexio_link.masterdata.mapping import Mapping
from aeroledger.bexio_link.transfer.bookings.plan import plan_credit_entry, plan_usage, usage_reference
from aeroledger.bexio_link.transfer.models import ItemKind, ItemStatus, OutboxItem
from aeroledger.billing.models import CreditEntry, CreditKind, Invoice, InvoiceKind, InvoiceStatus

from . import maths

ZERO = Decimal("0.00")

# The state of a booking, from bexio's point of view.
DONE = "done"  # in bexio (the outbox item is done)
WAITING = "waiting"  # queued, or credit used by an approved invoice not queued yet
FAILED = "failed"  # needs attention (the transfer log says why)


def opening_key(org) -> str:
    """The reference number (and outbox key) of the opening balance of members' credit."""
    return f"AL-{org.slug}-O1"[:80]


def tax_lookup(mapping: Mapping):
    """tax_id -> maths.Tax (rate and VAT account) from the cached master data; None when unknown."""
    cache: dict = {}

    def tax_of(tax_id) -> maths.Tax | None:
        if tax_id is None:
            return None
        if tax_id not in cache:
            record = mapping.tax(tax_id)
            account = record.data.get("account_id") if record is not None else None
            cache[tax_id] = maths.Tax(mapping.tax_rate(tax_id), int(account) if account else None)
        return cache[tax_id]

    return tax_of


def line_dicts(lines) -> list[dict]:
    """Lines as the outbox keeps them in `item.sent` (amounts as Decimal here)."""
    return [
        {
            "debit": line.get("debit"),
            "credit": line.get("credit"),
            "amount": Decimal(str(line.get("amount") or "0")),
            "tax_id": line.get("tax_id"),
            "tax_account_id": line.get("tax_account_id"),
        }
        for line in lines
    ]


def effects(lines: list[dict], tax_of) -> maths.Effects:
    out: maths.Effects = {}
    for line in lines:
        maths.add(
            out,
            maths.manual_line(
                amount=line["amount"],
                debit=line["debit"],
                credit=line["credit"],
                tax=tax_of(line["tax_id"]),
                tax_account_id=line.get("tax_account_id"),
            ),
        )
    return out


@dataclass
class Booking:
    """One booking of members' credit in bexio, as Aeroledger made it or will make it."""

    reference_nr: str
    date: date
    kind: str  # "usage", a credit kind ("deposit", "top_up", ...) or "opening"
    state: str  # DONE, WAITING or FAILED
    label: str
    lines: list[dict]
    item_id: int | None = None
    sent: bool = False  # the lines are what was sent (else: what would be sent now)
    blockers: list[str] = field(default_factory=list)

    @property
    def amount(self) -> Decimal:
        """The entry's total: its debit side."""
        if len(self.lines) == 1:
            return self.lines[0]["amount"]
        return sum((line["amount"] for line in self.lines if line["debit"] is not None), ZERO)


def _booking_of(item: OutboxItem, mapping: Mapping) -> Booking:
    state = {ItemStatus.DONE: DONE, ItemStatus.FAILED: FAILED}.get(item.status, WAITING)
    if item.credit_entry_id:
        kind = item.credit_entry.kind
    elif item.invoice_id:
        kind = "usage"
    else:
        kind = "opening"
    if item.sent and (state == DONE or kind == "opening"):
        sent = item.sent
        return Booking(
            reference_nr=sent.get("reference_nr") or item.key,
            date=date.fromisoformat(sent["date"]),
            kind=kind,
            state=state,
            label=item.label,
            lines=line_dicts(sent.get("lines") or []),
            item_id=item.pk,
            sent=True,
        )
    if item.credit_entry_id:
        plan = plan_credit_entry(item.credit_entry, mapping)
    elif item.invoice_id:
        plan = plan_usage(item.invoice, mapping)
    else:  # an opening balance without its lines cannot be: nothing to predict
        return Booking(item.key, item.created_at.date(), kind, state, item.label, [], item.pk)
    return Booking(
        reference_nr=plan.reference_nr,
        date=plan.date,
        kind=kind,
        state=state,
        label=item.label,
        lines=line_dicts(plan.as_json()["lines"]),
        item_id=item.pk,
        blockers=list(plan.blockers),
    )


def bookings(org, mapping: Mapping, *, until: date | None = None) -> list[Booking]:
    """Every booking of members' credit Aeroledger made or will make, dated up to `until`."""
    items = OutboxItem.objects.filter(organisation=org, kind=ItemKind.MANUAL_ENTRY).exclude(
        status=ItemStatus.CANCELLED
    )
    out = []
    done = items.filter(status=ItemStatus.DONE).exclude(sent=None).select_related("credit_entry")
    out += [_booking_of(item, mapping) for item in done.order_by("id")]
    rest = (
        items.exclude(pk__in=done.values("pk"))
        .select_related("credit_entry__member", "credit_entry__organisation", "invoice__member")
        .prefetch_related("invoice__positions")
    )
    out += [_booking_of(item, mapping) for item in rest.order_by("id")]
    queued = OutboxItem.objects.filter(invoice=OuterRef("pk"), kind=ItemKind.MANUAL_ENTRY).exclude(
        status=ItemStatus.CANCELLED
    )
    unqueued = (
        Invoice.objects.filter(organisation=org, credit_applied__gt=0)
        .exclude(status__in=[InvoiceStatus.DRAFT, InvoiceStatus.CANCELLED])
        .filter(~Exists(queued))
        .select_related("member", "organisation")
        .prefetch_related("positions")
    )
    if until is not None:
        unqueued = unqueued.filter(date__lte=until)
    for invoice in unqueued:
        plan = plan_usage(invoice, mapping)
        out.append(
            Booking(
                reference_nr=usage_reference(invoice),
                date=plan.date,
                kind="usage",
                state=WAITING,
                label=f"{invoice.number} {invoice.member.display_name}",
                lines=line_dicts(plan.as_json()["lines"]),
                blockers=list(plan.blockers),
            )
        )
    if until is not None:
        out = [b for b in out if b.date <= until]
    return out


def _void_usage() -> Q:
    """Credit a cancelled invoice used and gave back before that use was booked in bexio: neither
    is there. (A use booked in bexio stays, and the credit given back is booked as its reversal.)"""
    booked_use = OutboxItem.objects.filter(
        invoice=OuterRef("invoice"), kind=ItemKind.MANUAL_ENTRY, credit_entry__isnull=True
    ).exclude(status=ItemStatus.CANCELLED)
    return Q(kind=CreditKind.USAGE, invoice__status=InvoiceStatus.CANCELLED) & ~Q(Exists(booked_use))


def credit_total(org, until: date | None = None) -> Decimal:
    """The sum of the members' credit balances as of `until` (all entries without it)."""
    entries = CreditEntry.objects.filter(organisation=org).exclude(_void_usage())
    if until is not None:
        entries = entries.filter(date__lte=until)
    return (entries.aggregate(s=Sum("amount"))["s"] or ZERO).quantize(Decimal("0.01"))


def top_ups_on_credit_account(mapping: Mapping) -> bool:
    """Top-up invoices book straight to the credit account (no re-booking from a clearing account)."""
    account = mapping.top_up_account_id()
    return account is not None and account == mapping.credit_account_id


def _unbooked_entries(org, mapping: Mapping, until: date | None):
    booked = OutboxItem.objects.filter(credit_entry=OuterRef("pk")).exclude(status=ItemStatus.CANCELLED)
    entries = (
        CreditEntry.objects.filter(organisation=org).exclude(kind=CreditKind.USAGE).filter(~Exists(booked))
    )
    if top_ups_on_credit_account(mapping):
        entries = entries.exclude(kind=CreditKind.TOP_UP)  # bexio books them through the invoice
    if until is not None:
        entries = entries.filter(date__lte=until)
    return entries


@dataclass
class NotBooked:
    amount: Decimal
    entries: int
    members: int
    last_date: date | None


def not_booked(org, mapping: Mapping, until: date | None = None) -> NotBooked:
    """Credit entries no booking covers (the credit from before bexio was connected)."""
    entries = _unbooked_entries(org, mapping, until)
    row = entries.aggregate(
        s=Sum("amount"), n=Count("id"), m=Count("member", distinct=True), last=Max("date")
    )
    return NotBooked((row["s"] or ZERO).quantize(Decimal("0.01")), row["n"], row["m"], row["last"])


def top_ups_paid(org, until: date | None = None) -> Decimal:
    entries = CreditEntry.objects.filter(organisation=org, kind=CreditKind.TOP_UP)
    if until is not None:
        entries = entries.filter(date__lte=until)
    return entries.aggregate(s=Sum("amount"))["s"] or ZERO


def expected_in_bexio(invoice: Invoice) -> Decimal:
    """The total of the bexio invoice: what is due (a top-up: its total)."""
    return invoice.amount_due if invoice.kind == InvoiceKind.CHARGES else invoice.total


def invoice_effects(invoice: Invoice, mapping: Mapping, tax_of) -> maths.Effects:
    """What the invoice books on revenue and VAT accounts once issued in bexio (its due part)."""
    out: maths.Effects = {}
    for position in invoice.positions.all():
        due = position.amount - position.credit_covered
        if due <= 0:
            continue
        target = mapping.target_for(position.charge_type, position.aircraft_id, position.aerodrome_id)
        if target is None:
            continue
        maths.add(out, maths.invoice_position(due, target.account_id, tax_of(target.tax_id)))
    return out
