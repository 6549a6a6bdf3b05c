"""Accounting (3.0): manual entries, the journal, calendar and business years, VAT periods.

Amounts are `Decimal`; on the wire the 3.0 API uses JSON numbers, sent exactly (`Number6`: at
most 6 decimals, half-up, refused rather than rounded when a number cannot be written exactly).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import ClassVar

from pydantic import Field, model_validator

from bexio.models.base import BexioInput, BexioModel
from bexio.models.enums import ManualEntryType, lenient
from bexio.models.types import IsoDateTime, LenientDate, Number6

REFERENCE_NR_MAX = 80


# ---- manual entries ------------------------------------------------------------------------


class ManualEntryLine(BexioModel):
    """One line of a manual entry as bexio returns it (`id` is the line's own id)."""

    debit_account_id: int | None = None
    credit_account_id: int | None = None
    tax_id: int | None = None
    tax_account_id: int | None = None
    description: str | None = None
    amount: Decimal | None = None
    currency_id: int | None = None
    currency_factor: Decimal | None = None


class ManualEntry(BexioModel):
    type: lenient(ManualEntryType, str | None) = None
    date: LenientDate | None = None
    reference_nr: str | None = None
    created_by_user_id: int | None = None
    edited_by_user_id: int | None = None
    entries: list[ManualEntryLine] = Field(default_factory=list)
    is_locked: bool | None = None
    locked_info: str | None = None  # why it is locked, e.g. "closed_business_year"


class ManualEntryLineCreate(BexioInput):
    """One line to book. `amount` is the gross amount; with `tax_id` bexio books the VAT part to
    the tax's account (or `tax_account_id`)."""

    debit_account_id: int | None = None
    credit_account_id: int | None = None
    amount: Number6 = Field(gt=0)
    description: str | None = None
    tax_id: int | None = None
    tax_account_id: int | None = None
    currency_id: int | None = None
    currency_factor: Number6 | None = None

    @property
    def sides(self) -> int:
        return (self.debit_account_id is not None) + (self.credit_account_id is not None)


class ManualEntryCreate(BexioInput):
    """`POST /3.0/accounting/manual_entries` (and the body of `PUT .../{id}`, which replaces it).

    The shape is checked before sending, so that bexio never sees an entry it would half accept:
    - single: exactly one line, with a debit and a credit account;
    - compound: two lines or more, each with ONE side, the debit lines summing to the credit lines;
    - group: one line or more, each a one-line booking with both sides.
    Build them with `ManualEntryCreate.single(...)`, `.compound(...)`, `.group(...)`.
    """

    always_sent: ClassVar[frozenset[str]] = frozenset({"type"})

    type: ManualEntryType
    date: dt.date
    reference_nr: str | None = Field(default=None, max_length=REFERENCE_NR_MAX)
    entries: list[ManualEntryLineCreate] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_shape(self) -> ManualEntryCreate:
        lines = self.entries
        if self.type is ManualEntryType.SINGLE:
            if len(lines) != 1 or lines[0].sides != 2:
                raise ValueError("a single entry is one line with a debit and a credit account")
        elif self.type is ManualEntryType.GROUP:
            if any(line.sides != 2 for line in lines):
                raise ValueError("each line of a group entry needs a debit and a credit account")
        else:
            if len(lines) < 2 or any(line.sides != 1 for line in lines):
                raise ValueError("a compound entry has two lines or more, each with one side only")
            debit = sum((line.amount for line in lines if line.debit_account_id is not None), Decimal(0))
            credit = sum((line.amount for line in lines if line.credit_account_id is not None), Decimal(0))
            if debit != credit or not debit:
                raise ValueError(f"a compound entry must balance: debit {debit} != credit {credit}")
        return self

    @classmethod
    def single(
        cls,
        *,
        date: dt.date,
        debit_account_id: int,
        credit_account_id: int,
        amount: Decimal | str | int,
        reference_nr: str | None = None,
        description: str | None = None,
        tax_id: int | None = None,
        tax_account_id: int | None = None,
        currency_id: int | None = None,
        currency_factor: Decimal | None = None,
    ) -> ManualEntryCreate:
        line = _line(
            debit_account_id=debit_account_id,
            credit_account_id=credit_account_id,
            amount=amount,
            description=description,
            tax_id=tax_id,
            tax_account_id=tax_account_id,
            currency_id=currency_id,
            currency_factor=currency_factor,
        )
        return cls(type=ManualEntryType.SINGLE, date=date, reference_nr=reference_nr, entries=[line])

    @classmethod
    def compound(
        cls, *, date: dt.date, entries: Sequence[ManualEntryLineCreate], reference_nr: str | None = None
    ) -> ManualEntryCreate:
        return cls(type=ManualEntryType.COMPOUND, date=date, reference_nr=reference_nr, entries=list(entries))

    @classmethod
    def group(
        cls, *, date: dt.date, entries: Sequence[ManualEntryLineCreate], reference_nr: str | None = None
    ) -> ManualEntryCreate:
        return cls(type=ManualEntryType.GROUP, date=date, reference_nr=reference_nr, entries=list(entries))


def _line(**fields: object) -> ManualEntryLineCreate:
    """A line with only the fields given (None left out, so it is not sent as null)."""
    return ManualEntryLineCreate(**{k: v for k, v in fields.items() if v is not None})


class NextRefNr(BexioModel):
    next_ref_nr: str | None = None


# ---- journal and periods -------------------------------------------------------------------


class JournalEntry(BexioModel):
    """One booking of `GET /3.0/accounting/journal`; `ref_class`/`ref_id` name its origin
    (e.g. "KbInvoice", or a manual entry)."""

    ref_id: int | None = None
    ref_uuid: str | None = None
    ref_class: str | None = None
    date: LenientDate | None = None  # bexio sends the booking date as an ISO datetime at midnight
    debit_account_id: int | None = None
    credit_account_id: int | None = None
    description: str | None = None
    amount: Decimal | None = None
    currency_id: int | None = None
    currency_factor: Decimal | None = None


class CalendarYear(BexioModel):
    start: LenientDate | None = None
    end: LenientDate | None = None
    is_vat_subject: bool | None = None
    vat_accounting_method: str | None = None  # "effective" | "net_tax"
    vat_accounting_type: str | None = None  # "agreed" | "collected"
    created_at: IsoDateTime | None = None
    updated_at: IsoDateTime | None = None


class BusinessYear(BexioModel):
    start: LenientDate | None = None
    end: LenientDate | None = None
    status: str | None = None  # "open" | "closed"
    closed_at: LenientDate | None = None


class VatPeriod(BexioModel):
    start: LenientDate | None = None
    end: LenientDate | None = None
    type: str | None = None  # "quarter", ...
    status: str | None = None
    closed_at: LenientDate | None = None
