"""The money figures of the list pages and the overview: open amounts, totals, balances.

One place for what "owed", "open amount" and "below the threshold" mean, so that the overview's
numbers and the filtered lists they link to always agree:

- an invoice is *owed* while it is approved, transferred, open or partially paid with something
  due; its *open amount* is what is due minus the payments booked on it (`InvoicePayment`, as the
  accounting reports them; a payment of an invoice is never credit);
- a member is *below zero* / *below the threshold* when their credit account is in use (it has
  entries) and its balance is below 0 / the organisation's low-balance threshold. Only members who
  pay for themselves have a credit account.

Everything here is an aggregate or an annotation the database computes; nothing loops over rows.
Single balances are read through `models.credit_balance(member)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, DecimalField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from aeroledger.members.models import Member

from .models import BillingRun, CreditEntry, Invoice, InvoicePayment, InvoiceStatus

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=12, decimal_places=2)
OWED_STATUSES = (
    InvoiceStatus.APPROVED,
    InvoiceStatus.TRANSFERRED,
    InvoiceStatus.OPEN,
    InvoiceStatus.PARTIALLY_PAID,
)


def _sum_per_row(model, link: str):
    """The sum of `model.amount` over the rows whose `link` is the annotated row (0 without any)."""
    total = (
        model.objects.filter(**{link: OuterRef("pk")})
        .order_by()
        .values(link)
        .annotate(s=Sum("amount"))
        .values("s")
    )
    return Coalesce(Subquery(total, output_field=MONEY), Value(ZERO), output_field=MONEY)


def _money(value) -> Decimal:
    return (value or ZERO).quantize(Decimal("0.01"))


# --- invoices -----------------------------------------------------------------------------------
def owed(invoices):
    """The invoices of `invoices` that are owed to the club (see the module docstring)."""
    return invoices.filter(status__in=OWED_STATUSES, amount_due__gt=0)


def with_open_amount(invoices):
    """Annotate `paid` (the payments booked on each invoice; `open_amount()` reads it)."""
    return invoices.annotate(paid=_sum_per_row(InvoicePayment, "invoice"))


def open_amount(invoice) -> Decimal:
    """The open amount of one invoice annotated by `with_open_amount`."""
    if invoice.status not in OWED_STATUSES:
        return ZERO
    return max(ZERO, invoice.amount_due - invoice.paid)


@dataclass(frozen=True)
class InvoiceTotals:
    count: int
    total: Decimal
    due: Decimal
    open: Decimal
    open_count: int = 0


def invoice_totals(invoices) -> InvoiceTotals:
    """Count, sum of totals, sum due and open amount of `invoices`.

    One pass over the rows (the counts and sums share it), plus the payments booked on the
    partially paid ones among them: payments are booked when bexio reports an invoice (partially)
    paid, so only those carry payments that lower an open amount.
    """
    owed_q = Q(status__in=OWED_STATUSES, amount_due__gt=0)
    sums = invoices.order_by().aggregate(
        count=Count("pk"),
        total=Sum("total"),
        due=Sum("amount_due"),
        owed_due=Sum("amount_due", filter=owed_q),
        owed_count=Count("pk", filter=owed_q),
        partly_paid=Count("pk", filter=Q(status=InvoiceStatus.PARTIALLY_PAID)),
    )
    paid = None
    if sums["partly_paid"]:
        partly = invoices.order_by().filter(status=InvoiceStatus.PARTIALLY_PAID, amount_due__gt=0)
        paid = InvoicePayment.objects.filter(invoice__in=partly.values("pk")).aggregate(s=Sum("amount"))["s"]
    return InvoiceTotals(
        count=sums["count"],
        total=_money(sums["total"]),
        due=_money(sums["due"]),
        open=max(ZERO, _money(sums["owed_due"]) - _money(paid)),
        open_count=sums["owed_count"],
    )


def owed_summary(organisation) -> InvoiceTotals:
    return invoice_totals(owed(Invoice.objects.filter(organisation=organisation)))


def drafts_summary(organisation) -> InvoiceTotals:
    drafts = Invoice.objects.filter(organisation=organisation, status=InvoiceStatus.DRAFT).order_by()
    sums = drafts.aggregate(count=Count("pk"), total=Sum("total"), due=Sum("amount_due"))
    return InvoiceTotals(sums["count"], _money(sums["total"]), _money(sums["due"]), ZERO)


def last_run(organisation):
    """The newest billing run with `invoice_count`, `invoice_total` and `draft_count`, or None."""
    run = BillingRun.objects.filter(organisation=organisation).order_by("-created_at", "-id").first()
    if run is not None:
        sums = (
            Invoice.objects.filter(run=run)
            .order_by()
            .aggregate(
                n=Count("pk"), total=Sum("total"), drafts=Count("pk", filter=Q(status=InvoiceStatus.DRAFT))
            )
        )
        run.invoice_count, run.draft_count = sums["n"], sums["drafts"]
        run.invoice_total = _money(sums["total"])
    return run


# --- credit accounts ----------------------------------------------------------------------------
def with_balance(members):
    """Annotate each member's credit balance (`balance`, 0 without entries)."""
    return members.annotate(balance=_sum_per_row(CreditEntry, "member"))


def _balances_below(organisation, limit: Decimal) -> list[tuple[int, Decimal]]:
    """(member id, balance) of the accounts in use below `limit`, of members who pay for themselves.

    One pass over the organisation's entries grouped by member; members paid by someone else (no
    account of their own) are left out by id, which is cheaper than joining every entry.
    """

    others = Member.objects.filter(organisation=organisation, invoice_to__isnull=False)
    paid_by_others = set(others.values_list("pk", flat=True))
    balances = (
        CreditEntry.objects.filter(organisation=organisation)
        .order_by()
        .values("member")
        .annotate(s=Sum("amount"))
        .filter(s__lt=limit)
        .values_list("member", "s")
    )
    return [(member, s) for member, s in balances if member not in paid_by_others]


def accounts_below_ids(organisation) -> dict[str, tuple[list[int], Decimal]]:
    """{"negative": (ids, sum of their balances) below zero, "low": the same below the threshold}."""
    threshold = organisation.low_balance_threshold
    rows = _balances_below(organisation, max(threshold, ZERO))
    negative = [(m, s) for m, s in rows if s < 0]
    low = [(m, s) for m, s in rows if s < threshold]
    return {
        "negative": ([m for m, _s in negative], _money(sum((s for _m, s in negative), ZERO))),
        "low": ([m for m, _s in low], _money(sum((s for _m, s in low), ZERO))),
    }


@dataclass(frozen=True)
class BalanceSummary:
    below_zero: int
    below_threshold: int
    threshold: Decimal
    below_threshold_sum: Decimal  # the sum of those balances (negative when they owe)


def balance_summary(organisation) -> BalanceSummary:
    """How many credit accounts are below zero and below the threshold (one pass, see above)."""
    threshold = organisation.low_balance_threshold
    rows = [s for _member, s in _balances_below(organisation, max(threshold, ZERO))]
    return BalanceSummary(
        below_zero=sum(1 for s in rows if s < 0),
        below_threshold=sum(1 for s in rows if s < threshold),
        threshold=threshold,
        below_threshold_sum=_money(sum((s for s in rows if s < threshold), ZERO)),
    )


def balance_total(members) -> Decimal:
    """The sum of the balances of `members` (one aggregate over their entries)."""
    return _money(
        CreditEntry.objects.filter(member__in=members.order_by().values("pk")).aggregate(s=Sum("amount"))["s"]
    )
