"""What would be sent to bexio for one invoice: the translation Aeroledger -> kb_invoice, in one place.

`plan_invoice(invoice)` reads only the database (the mapping and the cached master data) and never
calls bexio, so the Preview page and `bexio_transfer --dry-run` show exactly what the transfer sends
and what blocks it, writing nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import ObjectDoesNotExist
from django.utils import translation
from django.utils.translation import gettext as _

from aeroledger.billing.models import Invoice, InvoiceStatus

# bexio recommends at most 150 positions per create; the rest go through the position endpoints.
MAX_INLINE_POSITIONS = 150
# bexio's language ids (reference §3.2), used when the language master data is not cached.
LANGUAGE_IDS = {"de": 1, "fr": 2, "it": 3, "en": 4}
SIX = Decimal("0.000001")


def six(value) -> Decimal:
    """A decimal with at most 6 places (bexio's maximum), without trailing zeros."""
    d = Decimal(value).quantize(SIX)
    return d.normalize() if d == d.to_integral_value() else d


@dataclass
class PlannedPosition:
    kind: str  # "article" | "custom" | "discount"
    text: str
    amount: Decimal = Decimal("0")  # bexio's word for the quantity
    unit_price: Decimal = Decimal("0")
    total: Decimal = Decimal("0")
    article_id: int | None = None
    account_id: int | None = None
    tax_id: int | None = None
    unit_id: int | None = None
    discount_value: Decimal | None = None
    # For the preview: what the ids are.
    target_label: str = ""

    @property
    def bexio_type(self) -> str:
        return {
            "article": "KbPositionArticle",
            "custom": "KbPositionCustom",
            "discount": "KbPositionDiscount",
        }[self.kind]

    def body(self, *, inline: bool) -> dict:
        """The JSON for bexio: inline in the create (with `type`) or for a position endpoint."""
        if self.kind == "discount":
            data = {"text": self.text, "is_percentual": False, "value": str(six(self.discount_value or 0))}
        else:
            data = {
                "text": self.text,
                "amount": str(six(self.amount)),
                "unit_price": str(six(self.unit_price)),
                "account_id": self.account_id,
                "tax_id": self.tax_id,
            }
            if self.unit_id:
                data["unit_id"] = self.unit_id
            if self.kind == "article":
                data["article_id"] = self.article_id
        if inline:
            data["type"] = self.bexio_type
        return data


@dataclass
class InvoicePlan:
    invoice: Invoice
    contact_label: str = ""
    contact_id: int | None = None  # known bexio contact (None: ensure_contact creates it)
    header: dict = field(default_factory=dict)  # kb_invoice fields except positions
    positions: list[PlannedPosition] = field(default_factory=list)
    expected_total: Decimal = Decimal("0")
    blockers: list[str] = field(default_factory=list)
    issue: bool = False
    send: bool = False
    send_to: str = ""

    @property
    def ok(self) -> bool:
        return not self.blockers

    def create_body(self, contact_id: int) -> dict:
        body = dict(self.header)
        body["contact_id"] = contact_id
        body["positions"] = [p.body(inline=True) for p in self.positions[:MAX_INLINE_POSITIONS]]
        return body


def plan_invoice(invoice: Invoice, *, mapping=None, with_contact: bool = True) -> InvoicePlan:
    """Everything the transfer of `invoice` would send, and what blocks it (reads only).

    Pass `mapping` (masterdata's `mapping_for(org)`) when planning many invoices of one organisation;
    load the invoice with `prefetch_related("positions")` (and the member with
    `select_related("member__bexio_link")`) to save the queries per invoice.
    """
    from aeroledger.bexio_link.masterdata.services import invoice_positions, mapping_for, validate_invoice

    org = invoice.organisation
    mapping = mapping or mapping_for(org)
    plan = InvoicePlan(invoice=invoice)
    member = invoice.member

    if invoice.status == InvoiceStatus.DRAFT:
        plan.blockers.append(_("The invoice is not approved yet."))
    elif invoice.status == InvoiceStatus.CANCELLED:
        plan.blockers.append(_("The invoice is cancelled."))
    link = None
    if with_contact:  # the known bexio contact, for the preview (the transfer ensures it anyway)
        try:
            link = member.bexio_link
        except ObjectDoesNotExist:
            link = None
    plan.contact_id = int(link.bexio_id) if link is not None and link.bexio_id else None
    plan.contact_label = f"{member.display_name} ({member.number})"

    plan.issue = bool(mapping.issue_automatically)
    plan.send = bool(mapping.send_automatically)
    plan.send_to = member.email or ""
    if plan.send and not plan.send_to:
        plan.blockers.append(_("The invoice is to be sent by e-mail but the member has no e-mail address."))
    lang = (getattr(invoice, "language", "") or member.language or "de")[:2]
    language_id = mapping.language_id(lang) or LANGUAGE_IDS.get(lang, 1)
    valid_to = invoice.due_date or (invoice.date + timedelta(days=mapping.payment_terms_days))
    with translation.override(lang):  # what the member reads is in the member's language
        title = invoice.title or _("Invoice %(number)s") % {"number": invoice.number}
        credit_text = _("Paid from the credit account")
    plan.header = {
        "title": title,
        "user_id": mapping.user_id,
        "bank_account_id": mapping.bank_account_id,
        "currency_id": mapping.currency_id,
        "language_id": language_id,
        "mwst_type": 0,  # prices include VAT
        "mwst_is_net": False,
        "is_valid_from": invoice.date.isoformat(),
        "is_valid_to": valid_to.isoformat(),
        "api_reference": str(invoice.uuid),
    }
    if invoice.number:
        plan.header["reference"] = invoice.number

    positions = invoice_positions(invoice)  # prefetched by the transfer; read here otherwise
    for p in positions:
        target = mapping.target_for(p.charge_type, p.aircraft_id, p.aerodrome_id)
        pp = PlannedPosition(
            kind="custom", text=p.text, amount=p.quantity, unit_price=p.unit_price, total=p.amount
        )
        if Decimal(p.quantity) * Decimal(p.unit_price) != Decimal(p.amount):
            # bexio multiplies without rounding to cents; Aeroledger rounded this position. Send the
            # rounded amount as 1 x amount (quantity and price stay in the text) so totals agree.
            pp.text = f"{p.text} ({six(p.quantity)} x {six(p.unit_price)})"
            pp.amount, pp.unit_price = Decimal("1"), Decimal(p.amount)
        if target is None:
            pp.target_label = _("not mapped")
        else:
            pp.kind = "article" if target.article_id else "custom"
            pp.article_id, pp.account_id = target.article_id, target.account_id
            pp.tax_id, pp.unit_id = target.tax_id, target.unit_id
            row = mapping.row_for(p.charge_type, p.aircraft_id, p.aerodrome_id)
            if target.article_id:
                pp.target_label = _("article %(name)s") % {
                    "name": row.article.name if row else target.article_id
                }
            else:
                pp.target_label = _("account %(account)s, tax %(tax)s") % {
                    "account": row.account.name if row else target.account_id,
                    "tax": row.tax.name if row else target.tax_id,
                }
        plan.positions.append(pp)

    if invoice.credit_applied and invoice.credit_applied > 0:
        plan.positions.append(
            PlannedPosition(
                kind="discount",
                text=credit_text,
                discount_value=invoice.credit_applied,
                total=-invoice.credit_applied,
                target_label=_("fixed discount"),
            )
        )
    plan.expected_total = invoice.amount_due if invoice.credit_applied else invoice.total

    for reason in validate_invoice(invoice, mapping, positions=positions):
        if reason not in plan.blockers:
            plan.blockers.append(reason)
    return plan
