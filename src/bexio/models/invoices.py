"""Invoices (kb_invoice), their positions and payments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, Discriminator, Field, Tag

from bexio.models.base import BexioInput, BexioModel
from bexio.models.enums import InvoiceStatus, PositionType, VatMode, lenient
from bexio.models.types import Decimal6, LenientDate, ZurichDateTime

# ---- positions as bexio returns them -------------------------------------------------------
# Field groups shared by the read and the write models of a position type.


class _TextFields(BaseModel):
    """Text and sub-positions: the text, and whether it carries a position number."""

    text: str | None = None
    show_pos_nr: bool | None = None


class _PriceRefs(BaseModel):
    """What a priced position refers to: unit, revenue account, sales tax."""

    text: str | None = None
    unit_id: int | None = None
    account_id: int | None = None
    tax_id: int | None = None


class _Position(BexioModel):
    """`kind` (custom, article, text, ...) is the endpoint suffix, derived from the `type` default."""

    kind: ClassVar[str] = "other"
    type: str
    pos: str | None = None  # a string live ("1"), an int in the docs
    internal_pos: int | None = None
    parent_id: int | None = None
    is_optional: bool | None = None

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.kind = _kind_of(cls)


def _kind_of(cls: type[BaseModel]) -> str:
    field = cls.model_fields.get("type")
    default = field.default if field is not None else None
    if isinstance(default, str) and default.startswith("KbPosition"):
        return default.removeprefix("KbPosition").lower()
    return "other"


class _PricedPosition(_Position, _PriceRefs):
    amount: Decimal | None = None
    amount_reserved: Decimal | None = None
    amount_open: Decimal | None = None
    amount_completed: Decimal | None = None
    unit_name: str | None = None
    tax_value: Decimal | None = None
    unit_price: Decimal | None = None
    discount_in_percent: Decimal | None = None
    position_total: Decimal | None = None


class PositionCustom(_PricedPosition):
    type: Literal["KbPositionCustom"] = "KbPositionCustom"


class PositionArticle(_PricedPosition):
    type: Literal["KbPositionArticle"] = "KbPositionArticle"
    article_id: int | None = None


class PositionText(_Position, _TextFields):
    type: Literal["KbPositionText"] = "KbPositionText"


class PositionSubtotal(_Position):
    type: Literal["KbPositionSubtotal"] = "KbPositionSubtotal"
    text: str | None = None
    value: Decimal | None = None


class PositionDiscount(_Position):
    type: Literal["KbPositionDiscount"] = "KbPositionDiscount"
    text: str | None = None
    is_percentual: bool | None = None
    value: Decimal | None = None
    discount_total: Decimal | None = None


class PositionPagebreak(_Position):
    type: Literal["KbPositionPagebreak"] = "KbPositionPagebreak"
    pagebreak: bool | None = None


class PositionSubposition(_Position, _TextFields):
    type: Literal["KbPositionSubposition"] = "KbPositionSubposition"
    total_sum: Decimal | None = None
    show_pos_prices: bool | None = None


class PositionOther(_Position):
    """A position type this library does not know yet: parsed, never an error."""

    type: str = ""


POSITION_MODELS: dict[str, type[_Position]] = {
    m.model_fields["type"].default: m
    for m in (
        PositionCustom,
        PositionArticle,
        PositionText,
        PositionSubtotal,
        PositionDiscount,
        PositionPagebreak,
        PositionSubposition,
    )
}
POSITION_BY_KIND: dict[str, type[_Position]] = {m.kind: m for m in POSITION_MODELS.values()}


def _position_tag(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return kind if kind in POSITION_MODELS else "other"


Position = Annotated[
    Annotated[PositionCustom, Tag("KbPositionCustom")]
    | Annotated[PositionArticle, Tag("KbPositionArticle")]
    | Annotated[PositionText, Tag("KbPositionText")]
    | Annotated[PositionSubtotal, Tag("KbPositionSubtotal")]
    | Annotated[PositionDiscount, Tag("KbPositionDiscount")]
    | Annotated[PositionPagebreak, Tag("KbPositionPagebreak")]
    | Annotated[PositionSubposition, Tag("KbPositionSubposition")]
    | Annotated[PositionOther, Tag("other")],
    Discriminator(_position_tag),
]


# ---- positions to send ---------------------------------------------------------------------


class _PositionInput(BexioInput):
    """Inline in `InvoiceCreate.positions` the `type` is sent; on the position endpoints not."""

    always_sent: ClassVar[frozenset[str]] = frozenset({"type"})
    kind: ClassVar[str] = "other"
    parent_id: int | None = None
    is_optional: bool | None = None

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.kind = _kind_of(cls)


class _PricedPositionInput(_PositionInput, _PriceRefs):
    amount: Decimal6
    unit_price: Decimal6
    discount_in_percent: Decimal6 | None = None


class PositionCustomCreate(_PricedPositionInput):
    type: Literal["KbPositionCustom"] = "KbPositionCustom"


class PositionArticleCreate(_PricedPositionInput):
    type: Literal["KbPositionArticle"] = "KbPositionArticle"
    article_id: int


class PositionTextCreate(_PositionInput, _TextFields):
    type: Literal["KbPositionText"] = "KbPositionText"
    text: str


class PositionSubtotalCreate(_PositionInput):
    type: Literal["KbPositionSubtotal"] = "KbPositionSubtotal"
    text: str = Field(min_length=1)


class PositionDiscountCreate(_PositionInput):
    type: Literal["KbPositionDiscount"] = "KbPositionDiscount"
    text: str | None = None
    is_percentual: bool
    value: Decimal6


class PositionPagebreakCreate(_PositionInput):
    type: Literal["KbPositionPagebreak"] = "KbPositionPagebreak"
    always_sent: ClassVar[frozenset[str]] = frozenset({"type", "pagebreak"})
    pagebreak: Literal[True] = True


class PositionSubpositionCreate(_PositionInput, _TextFields):
    type: Literal["KbPositionSubposition"] = "KbPositionSubposition"


PositionCreate = Annotated[
    PositionCustomCreate
    | PositionArticleCreate
    | PositionTextCreate
    | PositionSubtotalCreate
    | PositionDiscountCreate
    | PositionPagebreakCreate
    | PositionSubpositionCreate,
    Field(discriminator="type"),
]

# The write model of each position type (e.g. to build a position from the app's own plan).
POSITION_CREATE_MODELS: dict[PositionType, type[_PositionInput]] = {
    PositionType(m.model_fields["type"].default): m
    for m in (
        PositionCustomCreate,
        PositionArticleCreate,
        PositionTextCreate,
        PositionSubtotalCreate,
        PositionDiscountCreate,
        PositionPagebreakCreate,
        PositionSubpositionCreate,
    )
}

# ---- invoices ------------------------------------------------------------------------------


class InvoiceTax(BexioModel):
    """One VAT rate's amount on an invoice (`Invoice.taxs`)."""

    percentage: Decimal | None = None
    value: Decimal | None = None


class _InvoiceDetails(BaseModel):
    """Fields with the same name and meaning when read and written."""

    title: str | None = None
    contact_id: int | None = None
    contact_sub_id: int | None = None
    document_nr: str | None = None  # write it only when automatic numbering is off
    language_id: int | None = None
    bank_account_id: int | None = None
    currency_id: int | None = None
    payment_type_id: int | None = None
    header: str | None = None
    footer: str | None = None
    mwst_is_net: bool | None = None
    show_position_taxes: bool | None = None
    is_valid_from: LenientDate | None = None
    is_valid_to: LenientDate | None = None  # the due date
    reference: str | None = None
    api_reference: str | None = None  # ours: the Aeroledger invoice UUID; searchable
    template_slug: str | None = None


class Invoice(BexioModel, _InvoiceDetails):
    user_id: int | None = None
    project_id: int | None = None
    logopaper_id: int | None = None
    total_gross: Decimal | None = None
    total_net: Decimal | None = None
    total_taxes: Decimal | None = None
    total_received_payments: Decimal | None = None
    total_credit_vouchers: Decimal | None = None
    total_remaining_payments: Decimal | None = None
    total: Decimal | None = None
    total_rounding_difference: Decimal | None = None
    mwst_type: lenient(VatMode, int | None) = None
    contact_address: str | None = None
    kb_item_status_id: lenient(InvoiceStatus, int | None) = None  # `status` is the typed view
    viewed_by_client_at: ZurichDateTime | None = None
    updated_at: ZurichDateTime | None = None
    esr_id: int | None = None
    qr_invoice_id: int | None = None
    taxs: list[InvoiceTax] = Field(default_factory=list)
    positions: list[Position] = Field(default_factory=list)  # not in list/search answers
    network_link: str | None = None

    @property
    def status(self) -> InvoiceStatus | None:
        """The status, or None when bexio sent none or an id this library does not know."""
        return InvoiceStatus.of(self.kb_item_status_id)


class _InvoiceFields(BexioInput, _InvoiceDetails):
    project_id: int | None = Field(default=None, serialization_alias="pr_project_id")
    mwst_type: VatMode | None = None  # 0 including taxes, 1 excluding, 2 exempt
    contact_address_manual: str | None = None


class InvoiceCreate(_InvoiceFields):
    """`POST /2.0/kb_invoice` with inline positions (bexio recommends at most 150)."""

    user_id: int
    positions: list[PositionCreate] = Field(default_factory=list)


class InvoiceUpdate(_InvoiceFields):
    """`POST /2.0/kb_invoice/{id}`: positions are changed through the position endpoints."""

    user_id: int | None = None


class InvoiceCopy(BexioInput):
    contact_id: int
    contact_sub_id: int | None = None
    is_valid_from: dt.date | None = None
    title: str | None = None


class InvoiceSend(BexioInput):
    recipient_email: str
    subject: str
    message: str  # must contain "[Network Link]"
    mark_as_open: bool | None = None
    attach_pdf: bool | None = None


class Payment(BexioModel):
    date: LenientDate | None = None
    value: Decimal | None = None
    bank_account_id: int | None = None
    title: str | None = None
    payment_service_id: int | None = None
    is_client_account_redemption: bool | None = None
    is_cash_discount: bool | None = None
    kb_invoice_id: int | None = None
    kb_credit_voucher_id: int | None = None
    kb_credit_voucher_text: str | None = None
    kb_bill_id: int | None = None


class PaymentCreate(BexioInput):
    value: Decimal6
    date: dt.date | None = None
    bank_account_id: int | None = None
    payment_service_id: int | None = None  # 1 PayPal, 2 Stripe, 3 SIX Payments


class Pdf(BexioModel):
    name: str | None = None
    size: int | None = None
    mime: str | None = None
    content: str = Field(default="", repr=False)
