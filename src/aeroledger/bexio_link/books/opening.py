"""The opening balance of members' credit: the credit members had before bexio was connected.

Bookings of credit are queued only once the organisation is connected (transfer/hooks.py), so the
credit from before (deposits, corrections, top-ups recorded earlier) was never booked in bexio. It is
booked once, as one manual entry: an account the treasurer chooses (bexio's 9100 Eröffnungsbilanz by
default) -> the credit account, of the credit entries no booking covers (`ledger.not_booked`). A
negative amount (members owing the club) books the other way round.

It goes through the outbox like every other write (kind `manual_entry`, key `AL-<org>-O1`, exactly
once): the item carries its lines in `item.sent`, which the booking sender sends as they are. While
nothing of it can be in bexio (waiting, or refused by bexio) it may be planned again, e.g. on
another day; once in bexio it is never booked twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aeroledger.bexio_link.masterdata.mapping import Mapping, mapping_for
from aeroledger.bexio_link.masterdata.models import BexioRecord, Kind
from aeroledger.bexio_link.transfer.bookings.plan import BookingLine, BookingPlan
from aeroledger.bexio_link.transfer.models import ItemKind, ItemStatus, OutboxItem
from aeroledger.bexio_link.transfer.outbox import enqueue
from aeroledger.tenancy.templatetags.money import format_chf

from . import ledger

OPENING_ACCOUNT_NO = "9100"  # Eröffnungsbilanz in the Swiss chart of accounts


class OpeningRefused(Exception):
    """The opening balance cannot be booked now; the message says why."""


@dataclass
class Opening:
    amount: Decimal  # the credit no booking covers: what the opening balance books
    entries: int
    members: int
    last_date: date | None
    item: OutboxItem | None
    accounts: list[BexioRecord] = field(default_factory=list)
    default_account: BexioRecord | None = None
    problems: list[str] = field(default_factory=list)
    credit_account_id: int | None = None

    @property
    def booked(self) -> Decimal | None:
        """The opening balance asked for, as it moves the credit account (None: not yet)."""
        if self.item is None or not self.item.sent:
            return None
        total = Decimal("0")
        for line in self.item.sent.get("lines") or []:
            amount = Decimal(str(line["amount"]))
            total += amount if line.get("credit") == self.credit_account_id else -amount
        return total

    @property
    def booked_on(self) -> date | None:
        sent = self.item.sent if self.item is not None else None
        return date.fromisoformat(sent["date"]) if sent and sent.get("date") else None

    @property
    def replannable(self) -> bool:
        return self.item is None or self.item.withdrawable

    @property
    def remaining(self) -> Decimal:
        """What is still not booked once the opening balance asked for is counted."""
        if self.item is None or self.item.status == ItemStatus.CANCELLED:
            return self.amount
        return self.amount - (self.booked or Decimal("0"))

    @property
    def default_date(self) -> date:
        return self.last_date or timezone.localdate()


def accounts(mapping: Mapping) -> list[BexioRecord]:
    """The accounts the opening balance may be booked against: bexio's active accounts but the
    credit account itself, closing accounts (9xxx) first."""
    records = [r for r in mapping.master.all(Kind.ACCOUNT) if r.bexio_id != mapping.credit_account_id]
    return sorted(
        records, key=lambda r: (r.data.get("account_type") != 5, r.data.get("account_no") or "", r.name)
    )


def state(org, mapping: Mapping | None = None) -> Opening:
    mapping = mapping or mapping_for(org)
    missing = ledger.not_booked(org, mapping)
    item = OutboxItem.objects.filter(
        organisation=org, kind=ItemKind.MANUAL_ENTRY, key=ledger.opening_key(org)
    ).first()
    choices = accounts(mapping)
    default = next((r for r in choices if r.data.get("account_no") == OPENING_ACCOUNT_NO), None)
    return Opening(
        amount=missing.amount,
        entries=missing.entries,
        members=missing.members,
        last_date=missing.last_date,
        item=item,
        accounts=choices,
        default_account=default,
        problems=mapping.ledger_problems()
        if org.is_prepaid
        else [_("The organisation has no prepaid credit.")],
        credit_account_id=mapping.credit_account_id,
    )


def plan(org, mapping: Mapping, amount: Decimal, account_id: int, day: date, members: int) -> BookingPlan:
    description = _("Opening balance of members' credit (%(n)s members)") % {"n": members}
    credit_account = mapping.credit_account_id
    debit, credit = (account_id, credit_account) if amount > 0 else (credit_account, account_id)
    return BookingPlan(
        reference_nr=ledger.opening_key(org),
        date=day,
        description=description,
        lines=[
            BookingLine(
                abs(amount), debit_account_id=debit, credit_account_id=credit, description=description
            )
        ],
    )


def book(org, *, account_id: int, day: date, expected: Decimal, user=None) -> OutboxItem:
    """Queue the opening balance (once). `expected` is the amount the person confirmed: if the
    credit changed since, nothing is booked and OpeningRefused says the new amount."""
    mapping = mapping_for(org)
    if not org.is_prepaid:
        raise OpeningRefused(_("The organisation has no prepaid credit."))
    problems = mapping.ledger_problems()
    if problems:
        raise OpeningRefused(problems[0])
    if mapping.account(account_id) is None or account_id == mapping.credit_account_id:
        raise OpeningRefused(_("Choose an account of bexio other than the credit account."))
    with transaction.atomic():
        # One at a time per organisation: two people confirming at once book it once.
        type(org).objects.select_for_update().filter(pk=org.pk).values_list("pk", flat=True).first()
        now = state(org, mapping)
        if not now.replannable:
            raise OpeningRefused(_("The opening balance is booked in bexio already (or on its way)."))
        if now.amount == 0:
            raise OpeningRefused(
                _("All of the members' credit is booked in bexio: there is no opening balance.")
            )
        if now.amount != Decimal(expected):
            raise OpeningRefused(
                _(
                    "The members' credit changed meanwhile: the opening balance is now CHF %(amount)s. "
                    "Check it and confirm again."
                )
                % {"amount": format_chf(now.amount)}
            )
        booking = plan(org, mapping, now.amount, account_id, day, now.members)
        label = (
            _("Opening balance of members' credit: CHF %(amount)s") % {"amount": format_chf(now.amount)}
        )[:200]
        item = enqueue.add(org, ItemKind.MANUAL_ENTRY, booking.reference_nr, label=label)
        OutboxItem.objects.filter(pk=item.pk).update(
            sent=booking.as_json(),
            status=ItemStatus.PENDING,
            next_try_at=None,
            last_error="",
            last_error_status=None,
            label=label,
        )
        enqueue.wake(org)
    item.refresh_from_db()
    return item
