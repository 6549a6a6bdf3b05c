"""Billing runs and top-up invoices: turning signed-off charges into draft invoices."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from aeroledger.members.models import Member
from aeroledger.tenancy.models import Organisation
from aeroledger.tenancy.params import BadParameter, parse_month

from .models import (
    BillingRun,
    Charge,
    ChargeType,
    Invoice,
    InvoiceKind,
    InvoicePosition,
    credit_balance,
)
from .money import settle

PAYMENT_TERM_DAYS = 30


class BadPeriod(ValueError):
    """A billing period that is not a month."""


def parse_period(text: str) -> tuple[date, date]:
    """'11.2026' or '2026-11' -> (2026-11-01, 2026-11-30)."""
    try:
        return parse_month(text, label=_("period"))
    except BadParameter as exc:
        raise BadPeriod(str(exc)) from exc


def period_label(text: str) -> str:
    """The period as the treasurer reads it: '11.2026'."""
    start, _end = parse_period(text)
    return f"{start:%m.%Y}"


def _lock_organisation(organisation: Organisation) -> None:
    """Serialise numbering and billing per organisation across processes.

    A "no key" lock: billing runs and top-ups wait for each other, but rows that refer to the
    organisation (every charge, entry, outbox item) are written meanwhile. A plain FOR UPDATE made a
    deposit (member locked, its entry waiting for the organisation) and a run approving at once
    (organisation locked, waiting for that member) wait for each other: a deadlock.
    """
    Organisation.objects.select_for_update(no_key=True).filter(pk=organisation.pk).first()


def _next_number(organisation: Organisation, on: date) -> str:
    prefix = f"{on.year}-"
    count = Invoice.objects.filter(organisation=organisation, number__startswith=prefix).count()
    return f"{prefix}{count + 1:05d}"


def _create_invoice(organisation: Organisation, member: Member, kind, title: str, today: date, **fields):
    """A new draft invoice to `member`, numbered next, dated `today`, in the member's language."""
    return Invoice.objects.create(
        organisation=organisation,
        number=_next_number(organisation, today),
        member=member,
        kind=kind,
        language=member.language,
        date=today,
        due_date=today + timedelta(days=PAYMENT_TERM_DAYS),
        title=title,
        **fields,
    )


def _billable(organisation: Organisation, end: date):
    return (
        Charge.objects.billable()
        .filter(organisation=organisation, date__lte=end)
        .order_by("member_id", "date", "id")
    )


@dataclass(frozen=True)
class RunPreview:
    """What a billing run would make, before it makes anything."""

    period_start: date
    period_end: date
    members: int
    charges: int
    total: Decimal  # all charges
    credit: Decimal  # of which paid from credit (as the balances stand now)
    due: Decimal  # invoiced
    invoices: int  # invoices with an amount due
    statements: int  # members whose credit pays everything


def preview_billing_run(organisation: Organisation, period: str) -> RunPreview:
    """The figures of `billing_run(organisation, period)` as of now; writes nothing."""
    start, end = parse_period(period)
    by_member: dict[int, list[Decimal]] = defaultdict(list)
    for member_id, amount in _billable(organisation, end).values_list("member_id", "amount"):
        by_member[member_id].append(amount)
    total = credit = due = Decimal("0")
    invoices = statements = 0
    members = Member.objects.in_bulk(list(by_member)) if organisation.is_prepaid else {}
    for member_id, amounts in by_member.items():
        balance = credit_balance(members[member_id]) if organisation.is_prepaid else None
        s = settle(amounts, balance)
        total += s.subtotal
        credit += s.credit_used
        due += s.amount_due
        invoices += s.amount_due > 0
        statements += s.amount_due == 0 and s.credit_used > 0
    return RunPreview(
        start,
        end,
        len(by_member),
        sum(map(len, by_member.values())),
        total,
        credit,
        due,
        invoices,
        statements,
    )


@transaction.atomic
def billing_run(organisation: Organisation, period: str, *, user=None, approve: bool = False):
    """One draft invoice per bill-to member with a position per billable charge up to the period end.

    Returns (run, invoices); (None, []) when there is nothing to bill (no empty run is recorded).
    Charges are locked and must still be un-invoiced, so two runs at the same time never put a charge
    on two invoices. `approve` approves each invoice at once (credit pays it first, see
    Invoice.approve).
    """
    start, end = parse_period(period)
    _lock_organisation(organisation)
    charges = list(_billable(organisation, end).select_for_update(of=("self",)))
    if not charges:
        return None, []
    run = BillingRun.objects.create(
        organisation=organisation, period_start=start, period_end=end, created_by=user
    )
    by_member: dict[int, list[Charge]] = defaultdict(list)
    for charge in charges:
        by_member[charge.member_id].append(charge)
    members = Member.objects.in_bulk(list(by_member))
    today = timezone.localdate()
    invoices = []
    for member_id, member_charges in by_member.items():
        member = members[member_id]
        with translation.override(member.language):
            title = _("Flights %(period)s") % {"period": f"{start:%m.%Y}"}
        invoice = _create_invoice(
            organisation,
            member,
            InvoiceKind.CHARGES,
            title,
            today,
            period_start=start,
            period_end=end,
            run=run,
        )
        for pos, charge in enumerate(member_charges, start=1):
            InvoicePosition(
                invoice=invoice,
                pos=pos,
                charge_type=charge.charge_type,
                aircraft_id=charge.aircraft_id,
                aerodrome_id=charge.aerodrome_id,
                charge=charge,
                date=charge.date,
                text=f"{charge.date:%d.%m.%Y} {charge.text}",
                quantity=charge.quantity,
                unit_price=charge.unit_price,
            ).save()
        Charge.objects.filter(pk__in=[c.pk for c in member_charges]).update(invoice=invoice)
        invoice.recalculate(credit_balance(member) if organisation.is_prepaid else None)
        invoice.save()
        if approve:
            invoice.approve(user)
        invoices.append(invoice)
    return run, invoices


@transaction.atomic
def create_top_up(organisation: Organisation, member: Member, amount: Decimal, *, user=None) -> Invoice:
    """An invoice for a prepayment of `amount` onto the member's credit account."""
    if amount <= 0:
        raise ValueError("a top-up must be positive")
    _lock_organisation(organisation)
    today = timezone.localdate()
    with translation.override(member.language):
        title = _("Credit top-up")
    invoice = _create_invoice(organisation, member, InvoiceKind.TOP_UP, title, today)
    InvoicePosition(
        invoice=invoice,
        pos=1,
        charge_type=ChargeType.TOP_UP,
        date=today,
        text=title,
        quantity=Decimal("1"),
        unit_price=amount,
    ).save()
    invoice.recalculate(None)
    invoice.save()
    return invoice
