"""What must hold for an organisation's money whatever ran at the same time (issue 13).

Each function returns the violations it finds, as sentences (empty: all holds). The race tests and
the concurrency suite (bench/races.py) call them after every interleaving.

- charges: every charge on at most one live (not cancelled) invoice, and pointing at it; a billed
  position has its charge's amount; only signed-off flights are billed; an invoice's totals add up.
- credit: every entry is backed by an approval (usage), a payment (top-up) or a permissioned manual
  entry (deposit, refund, correction with its reason); the usage of an invoice is its credit_applied;
  the balances are the sum of the entries and usage never takes one below zero.
- flights: a flight once signed off stays signed off; a flight has exactly its tariff's charges.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db.models import Sum

from aeroledger.billing import lists
from aeroledger.billing.models import (
    Charge,
    CreditEntry,
    CreditKind,
    Invoice,
    InvoiceKind,
    InvoicePayment,
    InvoicePosition,
    InvoiceStatus,
)
from aeroledger.members.models import Member
from aeroledger.tenancy.models import Membership

ZERO = Decimal("0.00")
NOT_BILLED = (InvoiceStatus.DRAFT, InvoiceStatus.CANCELLED)


def charge_violations(org) -> list[str]:
    found = []
    charges = {c.pk: c for c in Charge.objects.filter(organisation=org).select_related("flight")}
    status = dict(Invoice.objects.filter(organisation=org).values_list("pk", "status"))
    live_positions: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
    for charge_id, invoice_id, amount in InvoicePosition.objects.filter(
        invoice__organisation=org, charge__isnull=False
    ).values_list("charge_id", "invoice_id", "amount"):
        if status[invoice_id] != InvoiceStatus.CANCELLED:
            live_positions[charge_id].append((invoice_id, amount))
    for charge_id, rows in live_positions.items():
        charge = charges[charge_id]
        if len(rows) > 1:
            found.append(f"charge {charge_id} is on {len(rows)} live invoices {[r[0] for r in rows]}")
        invoice_id, amount = rows[0]
        if charge.invoice_id != invoice_id:
            found.append(
                f"charge {charge_id} is a position of live invoice {invoice_id} ({status[invoice_id]}) "
                f"but points to invoice {charge.invoice_id}"
            )
        if amount != charge.amount:
            found.append(f"charge {charge_id} is billed at {amount} but amounts to {charge.amount}")
        if charge.flight_id is not None and charge.flight.signed_off_at is None:
            found.append(
                f"charge {charge_id} of flight {charge.flight_id} is billed, the flight is not signed off"
            )
    for charge in charges.values():
        if charge.invoice_id is None:
            continue
        if status.get(charge.invoice_id) == InvoiceStatus.CANCELLED:
            found.append(f"charge {charge.pk} points to cancelled invoice {charge.invoice_id}")
        elif charge.pk not in live_positions:
            found.append(f"charge {charge.pk} points to invoice {charge.invoice_id} without a position of it")
    sums = dict(
        InvoicePosition.objects.filter(invoice__organisation=org)
        .values("invoice")
        .annotate(s=Sum("amount"))
        .values_list("invoice", "s")
    )
    covered = dict(
        InvoicePosition.objects.filter(invoice__organisation=org)
        .values("invoice")
        .annotate(s=Sum("credit_covered"))
        .values_list("invoice", "s")
    )
    for inv in Invoice.objects.filter(organisation=org).exclude(status__in=NOT_BILLED):
        subtotal = sums.get(inv.pk) or ZERO
        if inv.total != inv.credit_applied + inv.amount_due:
            found.append(
                f"invoice {inv.number}: total {inv.total} != credit {inv.credit_applied} "
                f"+ due {inv.amount_due}"
            )
        if inv.total - inv.rounding_difference != subtotal:
            found.append(
                f"invoice {inv.number}: total {inv.total} does not add up to its positions ({subtotal})"
            )
        if (covered.get(inv.pk) or ZERO) != inv.credit_applied:
            found.append(
                f"invoice {inv.number}: positions covered {covered.get(inv.pk)}, credit {inv.credit_applied}"
            )
    return found


def credit_violations(org) -> list[str]:
    found = []
    invoices = {i.pk: i for i in Invoice.objects.filter(organisation=org)}
    payments = {p.pk: p for p in InvoicePayment.objects.filter(organisation=org)}
    may_book = set(
        Membership.objects.filter(organisation=org, manage_invoicing=True).values_list("user_id", flat=True)
    )
    usage: dict[int, Decimal] = defaultdict(lambda: ZERO)
    top_ups: dict[int, int] = defaultdict(int)
    running: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for e in CreditEntry.objects.filter(organisation=org).order_by("id"):
        what = f"credit entry {e.pk} ({e.kind} {e.amount}, member {e.member_id})"
        if e.amount == 0:
            found.append(f"{what} is of 0.00")
        if e.kind == CreditKind.USAGE:
            inv = invoices.get(e.invoice_id)
            if inv is None or inv.kind != InvoiceKind.CHARGES or inv.member_id != e.member_id:
                found.append(f"{what} is not backed by an approved invoice of the member")
            else:
                usage[inv.pk] += e.amount
        elif e.kind == CreditKind.TOP_UP:
            payment = payments.get(e.payment_id)
            if (
                payment is None
                or payment.invoice_id != e.invoice_id
                or invoices[payment.invoice_id].kind != InvoiceKind.TOP_UP
                or payment.amount != e.amount
            ):
                found.append(f"{what} is not backed by a payment of a top-up invoice")
            else:
                top_ups[payment.pk] += 1
        else:
            if e.created_by_id not in may_book:
                found.append(f"{what} was booked by user {e.created_by_id}, who may not book credit")
            if e.kind == CreditKind.CORRECTION and not e.reason.strip():
                found.append(f"{what}: a correction without a reason")
            if e.kind == CreditKind.DEPOSIT and e.amount < 0 or e.kind == CreditKind.REFUND and e.amount > 0:
                found.append(f"{what} has the wrong sign")
        running[e.member_id] += e.amount
        if e.kind == CreditKind.USAGE and e.amount < 0 and running[e.member_id] < 0:
            found.append(f"{what} took the balance below zero ({running[e.member_id]})")
    for inv in invoices.values():
        used = usage.get(inv.pk, ZERO)
        if inv.status == InvoiceStatus.DRAFT and inv.pk in usage:
            found.append(f"draft {inv.number} has usage entries")
        elif inv.status == InvoiceStatus.CANCELLED and used != 0:
            found.append(f"cancelled {inv.number} still uses {-used} of credit")
        elif inv.status not in NOT_BILLED and -used != inv.credit_applied:
            found.append(
                f"invoice {inv.number} ({inv.status}): usage {-used}, credit_applied {inv.credit_applied}"
            )
    for payment in payments.values():
        if (
            invoices[payment.invoice_id].kind == InvoiceKind.TOP_UP
            and payment.amount
            and top_ups[payment.pk] != 1
        ):
            found.append(f"top-up payment {payment.external_ref} is credit {top_ups[payment.pk]} times")
    members = Member.objects.filter(organisation=org)
    for member in lists.with_balance(members):
        if member.balance != running.get(member.pk, ZERO):
            found.append(
                f"member {member.pk}: balance {member.balance}, entries sum {running.get(member.pk)}"
            )
    return found


def flight_violations(org, *, signed=(), flights=None) -> list[str]:
    """`signed`: ids of flights seen signed off (they must still be); `flights` (ids): which flights
    to check the charges of (all by default)."""
    from aeroledger.flights.models import Flight

    found = [
        f"flight {pk} was signed off and is not any more"
        for pk in Flight.objects.filter(pk__in=list(signed), signed_off_at__isnull=True).values_list(
            "pk", flat=True
        )
    ]
    qs = Flight.objects.filter(organisation=org).select_related("aircraft", "pilot", "instructor")
    if flights is not None:
        qs = qs.filter(pk__in=list(flights))
    for flight in qs:
        want = sorted((c["charge_type"], c["member"].pk) for c in flight.tariff_charges())
        have = sorted(flight.charges.values_list("charge_type", "member_id"))
        if want != have:
            found.append(f"flight {flight.pk} has charges {have}, its tariff makes {want}")
    return found


def club_violations(org, *, signed=(), flights=None) -> list[str]:
    return [
        *charge_violations(org),
        *credit_violations(org),
        *flight_violations(org, signed=signed, flights=flights),
    ]
