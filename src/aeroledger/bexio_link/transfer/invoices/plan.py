"""What would be sent to bexio for one invoice: the translation Aeroledger -> kb_invoice, in one place.

`plan_invoice(invoice)` reads only the database (the mapping and the cached master data) and never
calls bexio, so the Preview page and `bexio_transfer --dry-run` show exactly what the transfer sends
and what blocks it, writing nothing.

Only what is due goes to bexio: in prepaid mode the member's credit paid the oldest positions when
the invoice was approved (that part reaches bexio as a booking: see bookings/plan.py); a position
the credit paid in part is invoiced for the rest. An invoice with nothing due is never sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.utils import translation
from django.utils.translation import gettext as _

from aeroledger.bexio_link.masterdata.mapping import Mapping, mapping_for
from aeroledger.bexio_link.masterdata.validation import invoice_positions, validate_invoice
from aeroledger.billing.models import Invoice, InvoiceKind, InvoicePosition, InvoiceStatus
from bexio.models import InvoiceCreate, PositionArticleCreate, PositionCustomCreate

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
    """One bexio position, with what a person needs to check it (source, target, VAT)."""

    source: InvoicePosition
    body: PositionArticleCreate | PositionCustomCreate | None  # None: not mapped (a blocker says why)
    text: str
    quantity: Decimal
    unit_price: Decimal
    total: Decimal
    target_label: str = ""  # "article Flugzeit HB-CQA" / "account 3400 Ertrag Flugzeugmiete"
    vat_label: str = ""  # "8.10 %"
    partly_from_credit: bool = False


@dataclass
class InvoicePlan:
    invoice: Invoice
    contact_label: str = ""
    contact_id: int | None = None  # known bexio contact (None: the transfer creates or matches it)
    positions: list[PlannedPosition] = field(default_factory=list)
    expected_total: Decimal = Decimal("0")
    blockers: list[str] = field(default_factory=list)
    issue: bool = False
    send: bool = False
    send_to: str = ""
    title: str = ""
    valid_from: object = None
    valid_to: object = None
    _header: dict = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return not self.blockers

    def position_bodies(self) -> list:
        return [p.body for p in self.positions]

    def create_body(self, contact_id: int) -> InvoiceCreate:
        return InvoiceCreate(
            contact_id=contact_id, positions=self.position_bodies()[:MAX_INLINE_POSITIONS], **self._header
        )


def _planned(position: InvoicePosition, amount: Decimal, mapping: Mapping, lang: str) -> PlannedPosition:
    """The bexio position for `amount` of `position` (all of it, or the part credit did not pay)."""
    text, quantity, unit_price = position.text, Decimal(position.quantity), Decimal(position.unit_price)
    partly = amount != position.amount
    if partly:
        with translation.override(lang):
            text = _("%(text)s (rest after the credit)") % {"text": text}
    if partly or quantity * unit_price != amount:
        # bexio multiplies without rounding to cents; Aeroledger rounded this position (or only a
        # part is invoiced). Send 1 x amount (quantity and price stay in the text) so totals agree.
        if not partly:
            text = f"{text} ({six(quantity)} x {six(unit_price)})"
        quantity, unit_price = Decimal("1"), amount
    planned = PlannedPosition(position, None, text, quantity, unit_price, amount, partly_from_credit=partly)
    target = mapping.target_for(position.charge_type, position.aircraft_id, position.aerodrome_id)
    if target is None:
        planned.target_label = _("not mapped")
        return planned
    fields = dict(
        text=text,
        amount=six(quantity),
        unit_price=six(unit_price),
        account_id=target.account_id,
        tax_id=target.tax_id,
        unit_id=target.unit_id or None,
    )
    planned.body = (
        PositionArticleCreate(article_id=target.article_id, **fields)
        if target.article_id
        else PositionCustomCreate(**fields)
    )
    planned.target_label = mapping.target_label(
        position.charge_type, position.aircraft_id, position.aerodrome_id
    )
    rate = mapping.tax_rate(target.tax_id)
    planned.vat_label = f"{rate:.2f} %" if rate is not None else ""
    return planned


def plan_invoice(
    invoice: Invoice, *, mapping: Mapping | None = None, with_contact: bool = True
) -> InvoicePlan:
    """Everything the transfer of `invoice` would send, and what blocks it (reads only).

    Pass `mapping` (masterdata's `mapping_for(org)`) when planning many invoices of one organisation;
    load the invoice with `prefetch_related("positions")` (and the member with
    `select_related("member__bexio_link")`) to save the queries per invoice.
    """
    mapping = mapping or mapping_for(invoice.organisation)
    plan = InvoicePlan(invoice=invoice)
    member = invoice.member

    if invoice.status == InvoiceStatus.DRAFT:
        plan.blockers.append(_("The invoice is not approved yet."))
    elif invoice.status == InvoiceStatus.CANCELLED:
        plan.blockers.append(_("The invoice is cancelled."))
    elif invoice.amount_due <= 0:
        plan.blockers.append(_("Nothing is due: the credit paid it all. No invoice goes to bexio."))
    if with_contact:  # the known bexio contact, for the preview (the transfer ensures it anyway)
        plan.contact_id = mapping.known_contact_id(member)
    plan.contact_label = f"{member.display_name} ({member.number})"

    plan.issue = bool(mapping.issue_automatically)
    plan.send = bool(mapping.send_automatically)
    plan.send_to = member.email or ""
    if plan.send and not plan.send_to:
        plan.blockers.append(_("The invoice is to be sent by e-mail but the member has no e-mail address."))
    lang = (invoice.language or member.language or "de")[:2]
    plan.valid_from = invoice.date
    plan.valid_to = invoice.due_date or (invoice.date + timedelta(days=mapping.payment_terms_days))
    with translation.override(lang):  # what the member reads is in the member's language
        plan.title = invoice.title or _("Invoice %(number)s") % {"number": invoice.number}
    plan._header = dict(
        title=plan.title,
        user_id=mapping.user_id or 0,
        bank_account_id=mapping.bank_account_id,
        currency_id=mapping.currency_id,
        language_id=mapping.language_id(lang) or LANGUAGE_IDS.get(lang, 1),
        mwst_type=0,  # prices include VAT
        mwst_is_net=False,
        is_valid_from=plan.valid_from,
        is_valid_to=plan.valid_to,
        api_reference=str(invoice.uuid),
        reference=invoice.number or None,
    )

    positions = invoice_positions(invoice)  # prefetched by the transfer; read here otherwise
    for position in positions:
        due = position.amount - position.credit_covered
        if due > 0:
            plan.positions.append(_planned(position, due, mapping, lang))
    plan.expected_total = invoice.amount_due if invoice.kind == InvoiceKind.CHARGES else invoice.total

    invoiced = [p.source for p in plan.positions]
    for reason in validate_invoice(invoice, mapping, positions=invoiced or positions):
        if reason not in plan.blockers:
            plan.blockers.append(reason)
    return plan
