"""Billing runs and top-up invoices: turning signed-off charges into draft invoices."""

import calendar
import re
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from aeroledger.members.models import Member
from aeroledger.tenancy.models import Organisation

from .models import (
    BillingRun,
    Charge,
    ChargeType,
    Invoice,
    InvoiceKind,
    InvoicePosition,
    credit_available_for,
    outstanding_on_invoices,  # noqa: F401 (moved to models; still importable from here)
)

PAYMENT_TERM_DAYS = 30
_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")


class BadPeriod(ValueError):
    """A billing period that is not YYYY-MM."""


def parse_period(text: str) -> tuple[date, date]:
    """'2026-11' -> (2026-11-01, 2026-11-30)."""
    match = _PERIOD.match((text or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise BadPeriod(_("The period must look like YYYY-MM, e.g. 2026-11."))
    year, month = int(match.group(1)), int(match.group(2))
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _lock_organisation(organisation: Organisation) -> None:
    """Serialise numbering and billing per organisation across processes."""
    Organisation.objects.select_for_update().filter(pk=organisation.pk).first()


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


@transaction.atomic
def billing_run(organisation: Organisation, period: str, *, user=None, approve: bool = False):
    """One draft invoice per bill-to member with a position per billable charge up to the period end.

    Returns (run, invoices). Charges are locked and must still be un-invoiced, so two runs at the
    same time never put a charge on two invoices.
    """
    start, end = parse_period(period)
    _lock_organisation(organisation)
    charges = list(
        Charge.objects.select_for_update(of=("self",))
        .billable()
        .filter(organisation=organisation, date__lte=end)
        .order_by("member_id", "date", "id")
    )
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
        credit = (
            credit_available_for(member, member_charges, exclude=invoice) if organisation.is_prepaid else None
        )
        invoice.recalculate(credit)
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
