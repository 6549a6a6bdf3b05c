"""What Aeroledger books in bexio's ledger for members' credit: the accounting model, in one place.

A member's credit is a prepayment the club owes the member: a liability (e.g. 2030), without VAT
when it is paid in. Revenue and VAT arise when the credit pays for something, at the VAT of what it
pays for (the mapping's tax of each charge type). So:

| what happens here                         | booking in bexio (debit -> credit)                    |
|-------------------------------------------|-------------------------------------------------------|
| invoice approved, credit pays positions   | credit account -> revenue account per mapping, VAT    |
|                                           | per line (one compound entry per invoice, i.e. per    |
|                                           | member and billing run)                               |
| top-up invoice paid (bexio booked it to   | clearing account -> credit account (none when top-ups |
| the top-up mapping's clearing account)    | are mapped to the credit account itself)              |
| deposit recorded here                     | bank account -> credit account                        |
| refund paid out                           | credit account -> bank account                        |
| correction (+ / -)                        | corrections account -> credit account (or back)       |
| payment of a top-up deleted in bexio      | the top-up's re-booking, reversed                     |
| invoice cancelled (here or in bexio) after| the use of credit as booked, reversed (revenue, VAT   |
| its use of credit was booked              | -> credit account), dated the day of the cancel       |

Every entry carries a reference number (`AL-<organisation>-<kind><number>`) that a retry finds in
bexio before it books again (exactly once). Nothing of CHF 0.00 is ever booked.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.utils.translation import gettext as _

from aeroledger.bexio_link.masterdata.mapping import Mapping, charge_type_label
from aeroledger.billing.models import CreditEntry, CreditKind, Invoice

from ..models import ItemKind, ItemStatus, OutboxItem

ZERO = Decimal("0.00")
# The letter of each kind of booking in its reference number.
LETTERS = {
    "usage": "U",
    CreditKind.DEPOSIT: "D",
    CreditKind.REFUND: "R",
    CreditKind.CORRECTION: "C",
    CreditKind.TOP_UP: "T",
    "reversal": "X",  # credit given back by a cancelled invoice: its use reversed
}


@dataclass
class BookingLine:
    """One line of a manual entry: both accounts (a single booking) or one side (compound)."""

    amount: Decimal
    debit_account_id: int | None = None
    credit_account_id: int | None = None
    tax_id: int | None = None
    description: str = ""


@dataclass
class BookingPlan:
    reference_nr: str
    date: date
    description: str
    lines: list[BookingLine] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)
    waits_for: str = ""  # another booking must reach bexio first (then this one is planned again)

    @property
    def ok(self) -> bool:
        return not self.blockers

    @property
    def compound(self) -> bool:
        return len(self.lines) > 1

    @property
    def amount(self) -> Decimal:
        """The entry's total: the debit side."""
        if not self.compound:
            return sum((line.amount for line in self.lines), ZERO)
        return sum((line.amount for line in self.lines if line.debit_account_id), ZERO)

    def as_json(self) -> dict:
        """What was booked, for the log and the reconciliation (strings: no float ever)."""
        return {
            "reference_nr": self.reference_nr,
            "date": self.date.isoformat(),
            "lines": [
                {
                    "debit": line.debit_account_id,
                    "credit": line.credit_account_id,
                    "amount": str(line.amount),
                    "tax_id": line.tax_id,
                    "description": line.description,
                }
                for line in self.lines
            ],
        }


def reference(org, kind: str, number) -> str:
    return f"AL-{org.slug}-{LETTERS[kind]}{number}"[:80]


def usage_reference(invoice: Invoice) -> str:
    return reference(invoice.organisation, "usage", invoice.number)


def entry_reference(entry: CreditEntry) -> str:
    if is_credit_given_back(entry):
        return reference(entry.organisation, "reversal", entry.invoice.number)
    return reference(entry.organisation, entry.kind, entry.pk)


def given_back_label(entry: CreditEntry) -> str:
    """What a person reads of credit given back by a cancelled invoice (the log, the booking)."""
    return _("%(number)s %(member)s: cancelled, credit given back") % {
        "number": entry.invoice.number,
        "member": entry.member.display_name,
    }


def is_credit_given_back(entry: CreditEntry) -> bool:
    """The entry gives back the credit a cancelled invoice had used."""
    return entry.kind == CreditKind.USAGE and entry.invoice_id is not None and entry.amount > 0


def _credit_account(mapping: Mapping, plan: BookingPlan) -> int | None:
    plan.blockers += mapping.ledger_problems()
    return mapping.credit_account_id


def plan_usage(invoice: Invoice, mapping: Mapping) -> BookingPlan:
    """Credit used by an approved invoice: credit account -> revenue per mapping, VAT per line."""
    member = invoice.member
    plan = BookingPlan(
        reference_nr=usage_reference(invoice),
        date=invoice.date,
        description=_("%(number)s %(member)s: paid from credit")
        % {"number": invoice.number, "member": member.display_name},
    )
    liability = _credit_account(mapping, plan)
    by_target: dict[tuple[int | None, int | None], Decimal] = defaultdict(lambda: ZERO)
    labels: dict[tuple[int | None, int | None], str] = {}
    for position in invoice.positions.all():
        if position.credit_covered <= 0:
            continue
        target = mapping.target_for(position.charge_type, position.aircraft_id, position.aerodrome_id)
        if target is None or not target.account_id:
            for reason in mapping.position_problems(
                position.charge_type, position.aircraft_id, position.aerodrome_id
            ) or [
                _("%(what)s has no revenue account in the mapping.")
                % {"what": charge_type_label(position.charge_type)}
            ]:
                if reason not in plan.blockers:
                    plan.blockers.append(reason)
            continue
        key = (target.account_id, target.tax_id)
        by_target[key] += position.credit_covered
        labels.setdefault(key, charge_type_label(position.charge_type))
    total = sum(by_target.values(), ZERO)
    if total <= 0:
        plan.blockers.append(_("The credit paid nothing of this invoice: there is nothing to book."))
        return plan
    plan.lines.append(BookingLine(total, debit_account_id=liability, description=plan.description))
    for (account_id, tax_id), amount in sorted(
        by_target.items(), key=lambda kv: (kv[0][0] or 0, kv[0][1] or 0)
    ):
        plan.lines.append(
            BookingLine(
                amount,
                credit_account_id=account_id,
                tax_id=tax_id,
                description=f"{invoice.number} {member.display_name}: {labels[(account_id, tax_id)]}",
            )
        )
    return plan


def plan_credit_entry(entry: CreditEntry, mapping: Mapping) -> BookingPlan:
    """A deposit, refund, correction or paid top-up: one single booking against the credit account."""
    member = entry.member
    words = {
        CreditKind.DEPOSIT: _("deposit"),
        CreditKind.REFUND: _("refund"),
        CreditKind.CORRECTION: _("correction"),
        CreditKind.TOP_UP: _("top-up paid"),
        CreditKind.USAGE: _("invoice cancelled, credit given back"),
    }
    plan = BookingPlan(
        reference_nr=entry_reference(entry),
        date=entry.date,
        description=" ".join(
            part
            for part in (f"{member.number} {member.display_name}:", str(words[entry.kind]), entry.text)
            if part
        )[:250]
        if entry.kind in words
        else "",
    )
    liability = _credit_account(mapping, plan)
    if entry.kind in (CreditKind.DEPOSIT, CreditKind.REFUND):
        other = mapping.bank_ledger_account_id(entry.money_account)
        if other is None:
            plan.blockers.append(_("The bank account of this entry has no ledger account in bexio."))
    elif entry.kind == CreditKind.CORRECTION:
        other = mapping.corrections_account_id
        if other is None:
            plan.blockers.append(_("Choose the account for credit corrections on the mapping page."))
    elif entry.kind == CreditKind.TOP_UP:
        other = mapping.top_up_account_id()
        if other is None:
            plan.blockers.append(_("Top-ups are not mapped to an account."))
    elif is_credit_given_back(entry):
        return plan_reversal(entry, mapping, plan)
    else:
        plan.blockers.append(_("This kind of credit entry is not booked on its own."))
        return plan
    amount = Decimal(entry.amount)
    if amount == 0:
        plan.blockers.append(_("Nothing of CHF 0.00 is booked."))
        return plan
    # Credit in (+): the other account -> the credit account; credit out (-): the other way round.
    debit, credit = (other, liability) if amount > 0 else (liability, other)
    plan.lines.append(
        BookingLine(
            abs(amount), debit_account_id=debit, credit_account_id=credit, description=plan.description
        )
    )
    return plan


def plan_reversal(entry: CreditEntry, mapping: Mapping, plan: BookingPlan) -> BookingPlan:
    """Credit given back by a cancelled invoice: the booking of its use exactly as bexio got it
    (accounts and VAT of then, not of today's mapping), sides swapped, dated the day of the cancel."""
    invoice = entry.invoice
    booked = (
        OutboxItem.objects.filter(
            organisation_id=entry.organisation_id,
            kind=ItemKind.MANUAL_ENTRY,
            key=usage_reference(invoice),
            status=ItemStatus.DONE,
            sent__isnull=False,
        )
        .values_list("sent", flat=True)
        .first()
    )
    if not booked:
        use = OutboxItem.objects.filter(
            organisation_id=entry.organisation_id, kind=ItemKind.MANUAL_ENTRY, key=usage_reference(invoice)
        ).exclude(status__in=[ItemStatus.DONE, ItemStatus.CANCELLED])
        if use.exists():  # on its way to bexio (or waiting for a retry): this follows it
            plan.waits_for = _("The booking of the credit this gives back is not in bexio yet.")
        else:
            plan.blockers.append(_("The use of credit this gives back is not booked in bexio."))
        return plan
    plan.description = given_back_label(entry)
    for line in booked["lines"]:
        plan.lines.append(
            BookingLine(
                Decimal(line["amount"]),
                debit_account_id=line["credit"],
                credit_account_id=line["debit"],
                tax_id=line["tax_id"],
                description=line["description"] if line["credit"] else plan.description,
            )
        )
    if plan.amount != entry.amount:
        plan.blockers.append(
            _("The credit given back (%(back)s) is not what its use booked in bexio (%(booked)s).")
            % {"back": entry.amount, "booked": plan.amount}
        )
    return plan


def books_on_its_own(entry: CreditEntry, mapping: Mapping) -> bool:
    """Whether a credit entry gets its own booking (usage is booked per invoice; a paid top-up only
    when it went to a clearing account)."""
    if entry.kind in (CreditKind.DEPOSIT, CreditKind.REFUND, CreditKind.CORRECTION):
        return True
    return entry.kind == CreditKind.TOP_UP and mapping.top_ups_need_rebooking
