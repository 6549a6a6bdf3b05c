"""The kb document types bexio has (invoices, quotes, orders, deliveries), as data: their answer fields
in bexio's order, numbering prefix, statuses, what may be edited, searched and ordered, their default
texts and their status actions. Everything else about a document is shared (documents.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

POSITION_TYPES = {
    "custom": "KbPositionCustom",
    "article": "KbPositionArticle",
    "text": "KbPositionText",
    "subtotal": "KbPositionSubtotal",
    "discount": "KbPositionDiscount",
    "pagebreak": "KbPositionPagebreak",
    "subposition": "KbPositionSubposition",
}
PRICED = ("KbPositionCustom", "KbPositionArticle")
REFS = (
    ("language_id", "language"),
    ("bank_account_id", "bank_account"),
    ("currency_id", "currency"),
    ("payment_type_id", "payment_type"),
    ("user_id", "user"),
)
HEAD = (
    "id",
    "document_nr",
    "title",
    "contact_id",
    "contact_sub_id",
    "user_id",
    "project_id",
    "logopaper_id",
    "language_id",
    "bank_account_id",
    "currency_id",
    "payment_type_id",
    "header",
    "footer",
)
MWST = ("total_rounding_difference", "mwst_type", "mwst_is_net", "show_position_taxes", "is_valid_from")
ADDRESSES = ("contact_address", "delivery_address_type", "delivery_address", "kb_item_status_id")
EDITABLE = (
    "title",
    "contact_id",
    "contact_sub_id",
    "user_id",
    "pr_project_id",
    *HEAD[7:],  # logopaper_id … footer
    "mwst_type",
    "mwst_is_net",
    "show_position_taxes",
    "is_valid_from",
    "contact_address_manual",
    "api_reference",
    "template_slug",
    "viewed_by_client_at",
)
SEARCH = (
    "id",
    "kb_item_status_id",
    "document_nr",
    "title",
    "api_reference",
    "contact_id",
    "contact_sub_id",
    "user_id",
    "currency_id",
    "total_gross",
    "total_net",
    "total",
    "is_valid_from",
    "is_valid_to",
    "updated_at",
)
ORDER_BY = ("id", "total", "total_net", "total_gross", "updated_at", "document_nr", "is_valid_from")


@dataclass(frozen=True)
class DocType:
    """What differs between the kb document types; everything else is shared."""

    kind: str  # kb_invoice
    prefix: str  # RE -> RE-00001
    label: str  # for messages: "invoice"
    fields: tuple[str, ...]  # answer keys in bexio's order ("positions" where they go)
    created: int  # status after create
    editable: tuple[int, ...]  # statuses in which the document and its positions may change
    extra_editable: tuple[str, ...] = ()
    valid_to: str | None = None  # is_valid_to / is_valid_until (+30 days by default)
    search_fields: tuple[str, ...] = SEARCH
    defaults: dict = field(default_factory=dict)
    header: str = ""
    footer: str = (
        "Sie haben Fragen? Melden Sie sich bei uns.<br/><br/>Freundliche Grüsse<br/>{firstname} {lastname}"
    )
    # action -> (allowed statuses, new status or None = unchanged)
    actions: dict = field(default_factory=dict)


def _fields(*middle: str, tail: tuple[str, ...]) -> tuple[str, ...]:
    return (*HEAD, *middle, *tail)


INVOICE = DocType(
    kind="kb_invoice",
    prefix="RE",
    label="invoice",
    fields=_fields(
        "total_gross",
        "total_net",
        "total_taxes",
        "total_received_payments",
        "total_credit_vouchers",
        "total_remaining_payments",
        "total",
        *MWST,
        "is_valid_to",
        "contact_address",
        "kb_item_status_id",
        "reference",
        "api_reference",
        "viewed_by_client_at",
        "updated_at",
        "esr_id",
        "qr_invoice_id",
        "template_slug",
        "taxs",
        tail=("positions", "network_link"),
    ),
    created=7,
    editable=(7,),
    extra_editable=("is_valid_to", "reference"),
    valid_to="is_valid_to",
    defaults={"reference": "", "payments": []},
    header="Guten Tag {name}<br/><br/>Danke für Ihr Vertrauen. Ihre Rechnung setzt sich wie folgt zusammen:",
    actions={
        "issue": ((7,), 8),
        "revert_issue": ((8,), 7),
        "cancel": ((8, 16, 31), 19),
        "mark_as_sent": ((7, 8, 16, 9, 31), None),
    },
)
QUOTE_FIELDS = ("total_gross", "total_net", "total_taxes", "total", *MWST)
OFFER = DocType(
    kind="kb_offer",
    prefix="AN",
    label="quote",
    fields=_fields(
        *QUOTE_FIELDS,
        "is_valid_until",
        *ADDRESSES,
        "api_reference",
        "viewed_by_client_at",
        "kb_terms_of_payment_template_id",
        "show_total",
        "updated_at",
        "template_slug",
        "taxs",
        tail=("network_link", "positions"),
    ),
    created=1,
    editable=(1,),
    extra_editable=("is_valid_until", "delivery_address_type", "kb_terms_of_payment_template_id"),
    valid_to="is_valid_until",
    search_fields=(*SEARCH, "is_valid_until"),
    defaults={"delivery_address_type": 0, "kb_terms_of_payment_template_id": None, "show_total": True},
    header=(
        "Guten Tag {name}<br/><br/>Vielen Dank für Ihre Anfrage. "
        "Gerne unterbreiten wir Ihnen folgendes Angebot:"
    ),
    actions={
        "issue": ((1,), 2),
        "revertIssue": ((2,), 1),
        "accept": ((2,), 3),
        "reject": ((2,), 4),
        "reissue": ((3, 4), 2),
        "mark_as_sent": ((1, 2, 3, 4), None),
    },
)
ORDER_DOC = DocType(
    kind="kb_order",
    prefix="AU",
    label="order",
    fields=_fields(
        *QUOTE_FIELDS,
        *ADDRESSES,
        "is_recurring",
        "api_reference",
        "viewed_by_client_at",
        "updated_at",
        "template_slug",
        "taxs",
        tail=("network_link", "positions"),
    ),
    created=5,
    editable=(5,),
    extra_editable=("delivery_address_type",),
    defaults={"delivery_address_type": 0, "is_recurring": False},
    header="Guten Tag {name}<br/><br/>Vielen Dank für Ihren Auftrag. Er setzt sich wie folgt zusammen:",
)
DELIVERY = DocType(
    kind="kb_delivery",
    prefix="LS",
    label="delivery",
    fields=(
        *(f for f in HEAD if f not in ("project_id", "payment_type_id")),
        *QUOTE_FIELDS[:-2],
        "is_valid_from",
        *ADDRESSES,
        "api_reference",
        "viewed_by_client_at",
        "updated_at",
        "taxs",
        "positions",
    ),
    created=10,
    editable=(10,),
    defaults={"delivery_address_type": 0},
    header="Guten Tag {name}<br/><br/>Wir liefern Ihnen:",
    actions={"issue": ((10,), 18)},
)
TYPES = {t.kind: t for t in (INVOICE, OFFER, ORDER_DOC, DELIVERY)}
POSITION_DOCS = ("kb_offer", "kb_order", "kb_invoice")
