""" "How Aeroledger books to bexio": the accounts and VAT codes in use and a sample month's bookings,
from the organisation's real mapping and data (reads only the database, never bexio)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Prefetch
from django.utils.translation import gettext as _

from aeroledger.bexio_link.masterdata.mapping import Mapping, charge_type_label
from aeroledger.bexio_link.masterdata.models import ChargeMapping
from aeroledger.bexio_link.transfer.bookings.plan import books_on_its_own, plan_credit_entry, plan_usage
from aeroledger.billing.models import (
    BillingRun,
    ChargeType,
    CreditEntry,
    Invoice,
    InvoiceKind,
    InvoicePayment,
    InvoicePosition,
    InvoiceStatus,
)

from . import ledger, maths

MAX_ROWS = 40


@dataclass
class AccountRow:
    what: str
    account: str
    tax: str = ""
    note: str = ""


@dataclass
class BookingRow:
    date: date
    debit: str
    credit: str
    amount: Decimal
    vat: Decimal = Decimal("0.00")
    vat_code: str = ""
    text: str = ""


@dataclass
class Sample:
    month: date | None
    rows: list[BookingRow] = field(default_factory=list)
    total_rows: int = 0
    totals: list[BookingRow] = field(default_factory=list)  # per debit, credit and VAT code

    @property
    def truncated(self) -> bool:
        return self.total_rows > len(self.rows)


def tax_label(mapping: Mapping, tax_id) -> str:
    if not tax_id:
        return ""
    rate = mapping.tax_rate(tax_id)
    name = mapping.tax_name(tax_id) or f"#{tax_id}"
    return f"{name} ({rate:.2f} %)" if rate is not None and str(rate) not in name else name


def accounts_in_use(org, mapping: Mapping) -> list[AccountRow]:
    rows = []
    name = mapping.account_name
    if org.is_prepaid:
        rows.append(
            AccountRow(
                _("Members' credit (a liability of the club)"),
                name(mapping.credit_account_id) if mapping.credit_account_id else _("not chosen yet"),
                _("no VAT"),
                _("Deposits and top-ups paid are booked to it; the credit used is booked from it."),
            )
        )
    top_up = mapping.target_for(ChargeType.TOP_UP)
    if top_up is not None:
        note = (
            _("A paid top-up is re-booked from this clearing account to the members' credit account.")
            if mapping.top_ups_need_rebooking
            else _("Top-up invoices are booked straight to the members' credit account.")
        )
        rows.append(
            AccountRow(_("Top-up invoices"), name(top_up.account_id), tax_label(mapping, top_up.tax_id), note)
        )
    specific = ChargeMapping.objects.filter(organisation=org).select_related("aircraft", "aerodrome")
    for row in sorted(specific, key=lambda r: (r.charge_type, r.aircraft_id or 0, r.aerodrome_id or 0)):
        if row.charge_type == ChargeType.TOP_UP:
            continue
        target = mapping.target_for(row.charge_type, row.aircraft_id, row.aerodrome_id)
        what = charge_type_label(row.charge_type)
        if row.aircraft_id:
            what += f" {row.aircraft}"
        elif row.aerodrome_id:
            what += f" {row.aerodrome}"
        if target is None:
            rows.append(AccountRow(what, _("not mapped"), "", ""))
            continue
        note = (
            mapping.target_label(row.charge_type, row.aircraft_id, row.aerodrome_id) if row.article_id else ""
        )
        rows.append(AccountRow(what, name(target.account_id), tax_label(mapping, target.tax_id), note))
    bank = mapping.bank_account
    if bank is not None:
        rows.append(
            AccountRow(
                _("Bank (deposits, refunds, payments)"),
                name(mapping.bank_ledger_account_id()),
                "",
                bank.name,
            )
        )
    if org.is_prepaid:
        rows.append(
            AccountRow(
                _("Corrections of members' credit"),
                name(mapping.corrections_account_id)
                if mapping.corrections_account_id
                else _("not chosen yet"),
                _("no VAT"),
                "",
            )
        )
    return rows


def vat_codes_in_use(mapping: Mapping) -> list[AccountRow]:
    seen, rows = set(), []
    for charge_type, aircraft_id, aerodrome_id in mapping.rows:
        target = mapping.target_for(charge_type, aircraft_id, aerodrome_id)
        if target is None or not target.tax_id or target.tax_id in seen:
            continue
        seen.add(target.tax_id)
        tax = mapping.tax(target.tax_id)
        account = tax.data.get("account_id") if tax is not None else None
        rate = mapping.tax_rate(target.tax_id)
        rows.append(
            AccountRow(
                tax_label(mapping, target.tax_id),
                mapping.account_name(account) if account else "",
                note="" if rate else _("no VAT is booked"),
            )
        )
    return rows


def sample_month(org, month: date | None = None) -> date | None:
    """The month shown: the one asked for, else that of the last billing run's invoices."""
    if month is not None:
        return month.replace(day=1)
    run = BillingRun.objects.filter(organisation=org).first()
    day = None
    if run is not None:
        day = Invoice.objects.filter(run=run).order_by("date").values_list("date", flat=True).first()
    day = (
        day
        or Invoice.objects.filter(organisation=org).order_by("-date").values_list("date", flat=True).first()
    )
    return day.replace(day=1) if day else None


def _month_end(first: date) -> date:
    """The first day of the next month."""
    return date(first.year + (first.month == 12), first.month % 12 + 1, 1)


def sample_bookings(org, mapping: Mapping, month: date | None) -> Sample:
    sample = Sample(month)
    if month is None:
        return sample
    end = _month_end(month)
    name = mapping.account_name
    debtors = _("Debtors (bexio)")
    rows: list[BookingRow] = []
    tax_of = ledger.tax_lookup(mapping)
    invoices = (
        Invoice.objects.filter(organisation=org, date__gte=month, date__lt=end)
        .exclude(status__in=[InvoiceStatus.DRAFT, InvoiceStatus.CANCELLED])
        .select_related("member", "organisation")
        .prefetch_related(Prefetch("positions", queryset=InvoicePosition.objects.order_by("pos")))
        .order_by("date", "number")
    )
    for inv in invoices:
        who = f"{inv.number} {inv.member.display_name}"
        if inv.credit_applied > 0:
            plan = plan_usage(inv, mapping)
            for line in plan.lines[1:]:
                tax = tax_of(line.tax_id)
                rows.append(
                    BookingRow(
                        inv.date,
                        name(mapping.credit_account_id),
                        name(line.credit_account_id),
                        line.amount,
                        maths.vat_included(line.amount, tax.rate if tax else None),
                        tax_label(mapping, line.tax_id),
                        _("%(who)s: paid from credit") % {"who": who},
                    )
                )
        if inv.amount_due > 0:
            by_target: dict = {}
            for position in inv.positions.all():
                due = position.amount - position.credit_covered
                target = mapping.target_for(position.charge_type, position.aircraft_id, position.aerodrome_id)
                if due <= 0 or target is None:
                    continue
                key = (target.account_id, target.tax_id)
                by_target[key] = by_target.get(key, Decimal("0.00")) + due
            text = (
                _("%(who)s: top-up invoice")
                if inv.kind == InvoiceKind.TOP_UP
                else _("%(who)s: invoice, rest due")
            ) % {"who": who}
            for (account_id, tax_id), amount in by_target.items():
                tax = tax_of(tax_id)
                rows.append(
                    BookingRow(
                        inv.date,
                        debtors,
                        name(account_id),
                        amount,
                        maths.vat_included(amount, tax.rate if tax else None),
                        tax_label(mapping, tax_id),
                        text,
                    )
                )
    entries = (
        CreditEntry.objects.filter(organisation=org, date__gte=month, date__lt=end)
        .exclude(kind="usage")
        .select_related("member", "organisation")
        .order_by("date", "id")
    )
    for entry in entries:
        if not books_on_its_own(entry, mapping):
            continue
        plan = plan_credit_entry(entry, mapping)
        for line in plan.lines:
            rows.append(
                BookingRow(
                    entry.date,
                    name(line.debit_account_id),
                    name(line.credit_account_id),
                    line.amount,
                    text=plan.description,
                )
            )
    payments = (
        InvoicePayment.objects.filter(organisation=org, date__gte=month, date__lt=end, amount__gt=0)
        .select_related("invoice__member")
        .order_by("date", "id")
    )
    bank = name(mapping.bank_ledger_account_id())
    for payment in payments:
        rows.append(
            BookingRow(
                payment.date,
                bank,
                debtors,
                payment.amount,
                text=_("%(who)s: payment received (booked by bexio)")
                % {"who": f"{payment.invoice.number} {payment.invoice.member.display_name}"},
            )
        )
    rows.sort(key=lambda r: r.date)
    totals: dict[tuple, BookingRow] = {}
    for row in rows:
        key = (row.debit, row.credit, row.vat_code)
        if key not in totals:
            totals[key] = BookingRow(
                month, row.debit, row.credit, Decimal("0.00"), Decimal("0.00"), row.vat_code
            )
        totals[key].amount += row.amount
        totals[key].vat += row.vat
    sample.totals = sorted(totals.values(), key=lambda r: (r.debit, r.credit, r.vat_code))
    sample.total_rows = len(rows)
    sample.rows = rows[:MAX_ROWS]
    return sample
