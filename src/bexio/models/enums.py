"""bexio's codes as enums: the only spelling of its status ids and type names outside the wire.

Read models keep values bexio may add later (an unknown id stays a plain int or str, never an
error): see `lenient()`.
"""

from __future__ import annotations

import enum
from typing import Annotated, Any

from pydantic import AfterValidator


class InvoiceStatus(enum.IntEnum):
    """`kb_item_status_id` of an invoice (not enumerated by bexio's docs; 7, 8, 9 and 19 are seen
    live, 16 and 31 agree across client libraries)."""

    DRAFT = 7
    OPEN = 8
    PAID = 9
    PARTIALLY_PAID = 16
    CANCELLED = 19
    UNPAID = 31  # open and overdue

    @classmethod
    def of(cls, value: Any) -> InvoiceStatus | None:
        """The status for a raw id, None for None or an id this library does not know."""
        try:
            return cls(int(value))
        except (TypeError, ValueError):
            return None

    @property
    def is_draft(self) -> bool:
        """Not issued yet: editable, can be issued or deleted."""
        return self is InvoiceStatus.DRAFT

    @property
    def is_open(self) -> bool:
        """Issued and not (fully) paid: money is still expected."""
        return self in (InvoiceStatus.OPEN, InvoiceStatus.UNPAID, InvoiceStatus.PARTIALLY_PAID)

    @property
    def is_paid(self) -> bool:
        return self is InvoiceStatus.PAID

    @property
    def is_cancelled(self) -> bool:
        return self is InvoiceStatus.CANCELLED

    @property
    def is_settled(self) -> bool:
        """Nothing more will happen to it: paid or cancelled."""
        return self in (InvoiceStatus.PAID, InvoiceStatus.CANCELLED)


class PositionType(enum.StrEnum):
    """The `type` of an invoice position; `kind` is its endpoint suffix (`kb_position_<kind>`)."""

    CUSTOM = "KbPositionCustom"
    ARTICLE = "KbPositionArticle"
    TEXT = "KbPositionText"
    SUBTOTAL = "KbPositionSubtotal"
    DISCOUNT = "KbPositionDiscount"
    PAGEBREAK = "KbPositionPagebreak"
    SUBPOSITION = "KbPositionSubposition"

    @property
    def kind(self) -> str:
        return self.value.removeprefix("KbPosition").lower()

    @property
    def changes_total(self) -> bool:
        """Positions that add to (or, discounts, take from) the invoice total."""
        return self in (PositionType.CUSTOM, PositionType.ARTICLE, PositionType.DISCOUNT)

    @classmethod
    def of_kind(cls, kind: str) -> PositionType:
        for member in cls:
            if member.kind == kind:
                return member
        raise ValueError(f"unknown position kind {kind!r}")


class ContactType(enum.IntEnum):
    """`contact_type_id`: a company (name_1 = company name) or a person (name_1 = last name)."""

    COMPANY = 1
    PERSON = 2


class VatMode(enum.IntEnum):
    """An invoice's `mwst_type`."""

    INCLUDING = 0  # prices include VAT (with mwst_is_net False) or VAT is added (mwst_is_net True)
    EXCLUDING = 1  # no VAT computed
    EXEMPT = 2


class AccountType(enum.IntEnum):
    """`account_type` of a ledger account (checked against the recorded Swiss chart: 1020 bank is
    3, 2030 prepayments received is 4, 3200 revenue is 1, 4200 purchases is 2, 9200 is 5)."""

    EARNINGS = 1
    EXPENDITURE = 2
    ASSETS = 3
    LIABILITIES = 4
    CLOSING = 5


class TaxType(enum.StrEnum):
    """A tax's `type` (values seen in the recorded Swiss tax list)."""

    SALES_TAX = "sales_tax"
    OPTED_SALES_TAX = "opted_sales_tax"
    NON_CONSIDERATION_SALES_TAX = "non_consideration_sales_tax"
    NOT_TAXABLE_TURNOVER = "not_taxable_turnover"
    PRE_TAX_MATERIAL = "pre_tax_material"
    PRE_TAX_INVESTMENT = "pre_tax_investment"
    PRE_CUSTOMS_TAX_MATERIAL = "pre_customs_tax_material"
    PRE_CUSTOMS_TAX_INVESTMENT = "pre_customs_tax_investment"
    PRE_REGARDS_TAX_MATERIAL = "pre_regards_tax_material"
    PRE_REGARDS_TAX_INVESTMENT = "pre_regards_tax_investment"

    @property
    def is_sales(self) -> bool:
        """Taxes on revenue (usable on invoice positions when active), not input tax."""
        return not self.value.startswith("pre_")


class TaxScope(enum.StrEnum):
    """`scope` filter of `GET /3.0/taxes`."""

    ACTIVE = "active"
    INACTIVE = "inactive"


class TaxTypes(enum.StrEnum):
    """`types` filter of `GET /3.0/taxes`."""

    SALES_TAX = "sales_tax"
    PRE_TAX = "pre_tax"


class ManualEntryType(enum.StrEnum):
    """A manual entry's `type`: one line with both sides; lines with one side each that balance;
    several one-line bookings under one reference number."""

    SINGLE = "manual_single_entry"
    COMPOUND = "manual_compound_entry"
    GROUP = "manual_group_entry"


def lenient(enum_cls: type[enum.Enum], base: Any) -> Any:
    """A read-model field type: known values become `enum_cls` members, others stay as they are."""

    def convert(value: Any) -> Any:
        try:
            return enum_cls(value)
        except ValueError:
            return value

    return Annotated[base, AfterValidator(convert)]
