"""kb documents: invoices, quotes (kb_offer), orders (kb_order) and deliveries (kb_delivery) as one
implementation parametrised by `DocType`: fields, numbering, statuses, totals, positions
(`/2.0/{kb_document_type}/{id}/kb_position_*`), status actions, send, copy, conversion, PDF."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from flask import Blueprint, request

from . import books, chart
from .common import (
    ApiError,
    D,
    company,
    dec,
    f2,
    f4,
    f6,
    fmin,
    invalid,
    json_body,
    not_found,
    now_v2,
    order,
    paginate,
    plus_days,
    respond,
    sb,
    search,
    success,
    today,
)

bp = Blueprint("documents", __name__)

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
ORDER = ("id", "total", "total_net", "total_gross", "updated_at", "document_nr", "is_valid_from")


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


def store():
    return sb().store


def load(id_, kind: str = "kb_invoice") -> dict:
    doc = store().get(kind, company(), id_)
    if doc is None:
        raise not_found()
    return doc


def save(inv: dict, kind: str = "kb_invoice") -> dict:
    inv["updated_at"] = now_v2()
    compute(inv)
    store().put(kind, company(), inv["id"], inv)
    return inv


# totals -----------------------------------------------------------------------------------------
def position_shares(inv: dict) -> list[list]:
    """[position, amount] of each priced, non-optional position after the discounts below it are
    spread over it; sets position_total, subtotal values, discount totals and subposition sums."""
    lines = []  # [position, amount]
    running = Decimal(0)
    sub_sums: dict[int, Decimal] = {}
    for p in inv["positions"]:
        t = p["type"]
        if t in PRICED:
            total = D(p["amount"]) * D(p["unit_price"]) * (1 - D(p["discount_in_percent"]) / 100)
            total = total.quantize(Decimal("0.000001"), ROUND_HALF_UP)
            p["position_total"] = str(total)
            if p.get("is_optional"):
                continue
            lines.append([p, total])
            running += total
            if p.get("parent_id"):
                sub_sums[p["parent_id"]] = sub_sums.get(p["parent_id"], Decimal(0)) + total
        elif t == "KbPositionSubtotal":
            p["value"] = str(running)
        elif t == "KbPositionDiscount":
            value = D(p["value"])
            discount = (running * value / 100) if p["is_percentual"] else value
            discount = discount.quantize(Decimal("0.000001"), ROUND_HALF_UP)
            p["discount_total"] = str(discount)
            if running:
                factor = discount / running
                for line in lines:
                    line[1] -= (line[1] * factor).quantize(Decimal("0.000001"), ROUND_HALF_UP)
            running -= discount
    for p in inv["positions"]:
        if p["type"] == "KbPositionSubposition":
            p["total_sum"] = str(sub_sums.get(p["id"], Decimal(0)))
    return lines


def compute(inv: dict) -> None:
    """Position totals, tax groups and invoice totals after mwst_type/mwst_is_net and round_factor."""
    lines = [(p.get("_tax_rate"), amount) for p, amount in position_shares(inv)]
    groups: dict[str, Decimal] = {}
    base_sum = sum((amount for _, amount in lines), Decimal(0))
    taxes: dict[str, Decimal] = {}
    if inv["mwst_type"] == 0:
        for rate, amount in lines:
            if rate is None:
                continue
            r = D(rate)
            tax = amount * r / 100 if inv["mwst_is_net"] else amount * r / (100 + r)
            taxes[rate] = taxes.get(rate, Decimal(0)) + tax
            groups[rate] = groups.get(rate, Decimal(0)) + amount
    total_taxes = sum((v.quantize(Decimal("0.0001"), ROUND_HALF_UP) for v in taxes.values()), Decimal(0))
    if inv["mwst_type"] == 0 and inv["mwst_is_net"]:
        net, gross = base_sum, base_sum + total_taxes
    elif inv["mwst_type"] == 0:
        gross, net = base_sum, base_sum - total_taxes
    else:
        net = gross = base_sum
    currency = store().get("currency", company(), inv["currency_id"]) or {"round_factor": 0.01}
    rf = D(currency["round_factor"])
    total = ((gross / rf).quantize(Decimal(1), ROUND_HALF_UP) * rf).quantize(Decimal("0.000001"))
    received = sum((D(pay["value"]) for pay in inv.get("payments", ())), Decimal(0))
    inv["total_gross"] = str(gross.quantize(Decimal("0.000001"), ROUND_HALF_UP))
    inv["total_net"] = str(net.quantize(Decimal("0.000001"), ROUND_HALF_UP))
    inv["total_taxes"] = str(total_taxes)
    inv["total"] = str(total)
    diff = (total - gross).quantize(Decimal("0.01"), ROUND_HALF_UP)
    inv["total_rounding_difference"] = 0 if diff == 0 else float(diff)
    inv["total_received_payments"] = str(received)
    inv["total_remaining_payments"] = str(total - received)
    inv["taxs"] = [
        {"percentage": f2(rate), "value": f4(v)} for rate, v in sorted(taxes.items(), key=lambda x: D(x[0]))
    ]


# rendering --------------------------------------------------------------------------------------
def render_position(p: dict, mode: str) -> dict:
    """mode: create (as sent), edit (position edit answer), read (normalised), copy."""
    t = p["type"]
    raw = p.get("_raw", {})
    base = {"id": p["id"], "type": t}
    if t in PRICED:
        fresh = mode in ("create", "edit")
        out = {
            **base,
            "amount": raw.get("amount", fmin(p["amount"])) if fresh else f6(p["amount"]),
            "amount_reserved": None if mode in ("create", "copy") else "0.000000",
            "amount_open": None if mode in ("create", "copy") else "0.000000",
            "amount_completed": None if mode in ("create", "copy") else "0.000000",
            "unit_id": p["unit_id"],
            "account_id": p["account_id"],
            "unit_name": p.get("unit_name"),
            "tax_id": p["tax_id"],
            "tax_value": f2(p["_tax_rate"]) if p.get("_tax_rate") is not None else None,
            "text": p["text"],
            "unit_price": raw.get("unit_price", fmin(p["unit_price"])) if fresh else f6(p["unit_price"]),
            "discount_in_percent": (
                raw.get("discount_in_percent", fmin(p["discount_in_percent"]))
                if fresh
                else f4(p["discount_in_percent"])
            ),
            "position_total": fmin(p["position_total"]) if mode != "read" else f6(p["position_total"]),
            "pos": p["pos"],
            "internal_pos": p["internal_pos"],
            "parent_id": p["parent_id"],
            "is_optional": p["is_optional"],
        }
        if t == "KbPositionArticle":
            out["article_id"] = p["article_id"]
        return out
    if t == "KbPositionText":
        return {
            **base,
            "text": p["text"],
            "show_pos_nr": p["show_pos_nr"],
            "pos": p["pos"],
            "internal_pos": p["internal_pos"],
            "parent_id": p["parent_id"],
            "is_optional": p["is_optional"],
        }
    if t == "KbPositionSubposition":
        return {
            **base,
            "text": p["text"],
            "pos": p["pos"],
            "internal_pos": p["internal_pos"],
            "show_pos_nr": p["show_pos_nr"],
            "parent_id": p["parent_id"],
            "is_optional": p["is_optional"],
            "total_sum": fmin(p.get("total_sum")) if mode != "read" else f6(p.get("total_sum")),
            "show_pos_prices": p["show_pos_prices"],
        }
    if t == "KbPositionSubtotal":
        return {
            **base,
            "text": p["text"],
            "value": fmin(p.get("value")) if mode != "read" else f6(p.get("value")),
            "internal_pos": p["internal_pos"],
            "parent_id": p["parent_id"],
            "is_optional": p["is_optional"],
        }
    if t == "KbPositionDiscount":
        return {
            **base,
            "text": p["text"],
            "is_percentual": p["is_percentual"],
            "value": raw.get("value", fmin(p["value"])) if mode in ("create", "edit") else f6(p["value"]),
            "discount_total": fmin(p.get("discount_total"))
            if mode != "read"
            else f6(p.get("discount_total")),
            "internal_pos": p["internal_pos"],
            "parent_id": p["parent_id"],
            "is_optional": p["is_optional"],
        }
    return {
        **base,
        "internal_pos": p["internal_pos"],
        "is_optional": p["is_optional"],
        "pagebreak": True,
        "parent_id": p["parent_id"],
    }


def render(inv: dict, mode: str = "read", positions: bool = True, dt: DocType = INVOICE) -> dict:
    """mode: read (normalised), create/copy (computed values in short form), edit."""
    short = mode in ("create", "copy", "edit")
    pay6 = mode != "create" and mode != "copy"
    out = {}
    for key in dt.fields:
        if key in ("total_gross", "total_net", "total"):
            out[key] = fmin(inv[key]) if short else f6(inv[key])
        elif key in ("total_taxes", "total_remaining_payments"):
            out[key] = f4(inv[key])
        elif key == "total_received_payments":
            out[key] = f6(inv[key]) if pay6 else fmin(inv[key])
        elif key == "total_credit_vouchers":
            out[key] = f6(0) if pay6 else "0"
        elif key == "positions":
            if positions:
                pmode = {"create": "create", "copy": "copy", "edit": "read"}.get(mode, "read")
                out[key] = [render_position(p, pmode) for p in inv["positions"]]
        elif key == "network_link":
            out[key] = inv.get("network_link", "")
        else:
            out[key] = inv.get(key)
    return out


# building ---------------------------------------------------------------------------------------
def contact_address(contact: dict) -> str:
    name = (
        contact["name_1"]
        if contact["contact_type_id"] == 1
        else " ".join(x for x in (contact.get("name_2"), contact["name_1"]) if x)
    )
    lines = [name]
    if contact.get("address"):
        lines.append(contact["address"])
    place = " ".join(x for x in (contact.get("postcode"), contact.get("city")) if x)
    if place:
        lines.append(place)
    country = store().get("country", company(), contact["country_id"]) if contact.get("country_id") else None
    if country:
        lines.append(country["name"])
    return "\n".join(lines)


def _check_refs(doc: dict) -> list[str]:
    errors = []
    for key, kind in REFS:
        if doc.get(key) is not None and store().get(kind, company(), doc[key]) is None:
            errors.append(f"{key}: This value is not valid.")
    return errors


def build_position(spec: dict, ptype: str, inv: dict, existing: dict | None = None) -> dict:
    """Validate one position (inline or via the endpoint) -> stored form."""
    if not isinstance(spec, dict):
        raise invalid("positions: Each position must be an object.")
    p = dict(existing) if existing else {"type": ptype, "parent_id": None, "is_optional": False, "_raw": {}}
    p["_raw"] = {}
    errors = []
    if ptype in PRICED:
        article = None
        if ptype == "KbPositionArticle":
            aid = spec.get("article_id", p.get("article_id"))
            article = store().get("article", company(), aid) if aid is not None else None
            if article is None:
                raise invalid("article_id: This value is not valid.")
            p["article_id"] = aid
        defaults = {
            "text": "",
            "unit_id": None,
            "account_id": None,
            "tax_id": None,
            "unit_price": None,
            "discount_in_percent": "0",
        }
        if article:
            defaults.update(
                {
                    "text": article["intern_name"],
                    "unit_id": article["unit_id"],
                    "account_id": article.get("account_id"),
                    "tax_id": article.get("tax_id"),
                    "unit_price": article.get("sale_price"),
                }
            )
        for key in ("text", "unit_id", "account_id", "tax_id", "parent_id", "is_optional"):
            if key in spec:
                p[key] = spec[key]
            elif key not in p:
                p[key] = defaults.get(key)
        for key, required in (("amount", True), ("unit_price", True), ("discount_in_percent", False)):
            if key in spec:
                value, raw = dec(spec[key], key, required=required, default="0" if not required else None)
                p[key] = str(value)
                p["_raw"][key] = raw
            elif key not in p:
                fallback = defaults.get(key)
                if fallback is None and required:
                    errors.append(f"{key}: This value should not be blank.")
                    continue
                p[key] = str(D(fallback))
                p["_raw"][key] = fmin(fallback)
        if p.get("tax_id") is not None:
            tax = store().get("tax", company(), p["tax_id"])
            if tax is None:
                errors.append("tax_id: This value is not valid.")
            elif tax["type"] != "sales_tax":
                errors.append("tax_id: The tax is not a sales tax.")
            elif not tax["is_active"]:
                errors.append("tax_id: The tax is not active.")
            else:
                p["_tax_rate"] = f"{Decimal(str(tax['value'])):f}"
        elif inv["mwst_type"] == 0:
            errors.append("tax_id: This value should not be blank.")
        else:
            p["_tax_rate"] = None
        errors += account_errors(p.get("account_id"))
        unit = store().get("unit", company(), p["unit_id"]) if p.get("unit_id") is not None else None
        if p.get("unit_id") is not None and unit is None:
            errors.append("unit_id: This value is not valid.")
        p["unit_name"] = unit["name"] if unit else None
    elif ptype in ("KbPositionText", "KbPositionSubposition"):
        p["text"] = spec.get("text", p.get("text", ""))
        p["show_pos_nr"] = bool(spec.get("show_pos_nr", p.get("show_pos_nr", True)))
        if ptype == "KbPositionSubposition":
            p["show_pos_prices"] = bool(spec.get("show_pos_prices", p.get("show_pos_prices", True)))
    elif ptype == "KbPositionSubtotal":
        p["text"] = spec.get("text", p.get("text"))
        if not p["text"]:
            errors.append("text: This value should not be blank.")
    elif ptype == "KbPositionDiscount":
        p["text"] = spec.get("text", p.get("text", ""))
        p["is_percentual"] = bool(spec.get("is_percentual", p.get("is_percentual", True)))
        if "value" in spec or "value" not in p:
            value, raw = dec(spec.get("value"), "value", required=True)
            p["value"], p["_raw"]["value"] = str(value), raw
    elif ptype == "KbPositionPagebreak":
        p["pagebreak"] = True
    for key in ("parent_id", "is_optional"):
        if key in spec:
            p[key] = spec[key]
    p["is_optional"] = bool(p.get("is_optional"))
    if errors:
        raise invalid(*errors)
    return p


ACCOUNT_KINDS = {chart.ASSET: "an asset account", chart.LIABILITY: "a liability account"}


def account_errors(account_id) -> list[str]:
    """A position's account (its own or its article's) must exist; by default, as in bexio, it may not
    be a balance sheet account (setting `allow_balance_sheet_positions`)."""
    if account_id is None:
        return []
    account = store().get("account", company(), account_id)
    if account is None:
        return ["account_id: This value is not valid."]
    kind = ACCOUNT_KINDS.get(account.get("account_type"))
    if kind and not sb().settings["allow_balance_sheet_positions"]:
        return [
            f"account_id: {account['account_no']} {account['name']} is {kind}; positions can only be booked "
            "to revenue or expense accounts. Book it with a manual entry instead."
        ]
    return []


def number_positions(inv: dict) -> None:
    nr = 0
    for i, p in enumerate(inv["positions"], start=1):
        p["internal_pos"] = i
        if p["type"] in (*PRICED, "KbPositionText", "KbPositionSubposition"):
            nr += 1
            p["pos"] = str(nr) if p.get("show_pos_nr", True) else None
        else:
            p["pos"] = None


def add_position(inv: dict, p: dict) -> dict:
    p["id"] = store().next_id("pos:" + p["type"], company())
    inv["positions"].append(p)
    number_positions(inv)
    return p


def apply_fields(inv: dict, data: dict, dt: DocType = INVOICE) -> None:
    errors = []
    if "document_nr" in data and data["document_nr"] not in (None, ""):
        errors.append("document_nr: The document number can not be set while automatic numbering is active.")
    for key in (*EDITABLE, *dt.extra_editable):
        if key in data:
            inv["project_id" if key == "pr_project_id" else key] = data[key]
    for key in ("is_valid_from", dt.valid_to):
        if key and isinstance(inv.get(key), str):
            inv[key] = inv[key][:10]
    if inv.get("contact_id") in (None, ""):
        errors.append("contact_id: This value should not be blank.")
    else:
        contact = store().get("contact", company(), inv["contact_id"])
        if contact is None:
            errors.append("contact_id: The contact does not exist.")
        else:
            inv["contact_address"] = data.get("contact_address_manual") or contact_address(contact)
            inv["_contact_name"] = contact["name_1"]
            if "delivery_address_type" in inv:
                inv["delivery_address"] = inv["contact_address"]
    if (
        inv.get("contact_sub_id") is not None
        and store().get("contact", company(), inv["contact_sub_id"]) is None
    ):
        errors.append("contact_sub_id: The contact does not exist.")
    if inv.get("user_id") in (None, ""):
        errors.append("user_id: This value should not be blank.")
    if inv.get("mwst_type") not in (0, 1, 2):
        errors.append("mwst_type: The value you selected is not a valid choice.")
    if inv.get("api_reference") is not None and (
        not isinstance(inv["api_reference"], str) or len(inv["api_reference"]) > 255
    ):
        errors.append("api_reference: This value is not valid.")
    errors += _check_refs(inv)
    if errors:
        raise invalid(*errors)


def built_positions(data: dict, inv: dict) -> list[dict]:
    positions = data.get("positions") or []
    if not isinstance(positions, list):
        raise invalid("positions: This value should be of type array.")
    built = []
    for spec in positions:
        ptype = spec.get("type") if isinstance(spec, dict) else None
        if ptype not in POSITION_TYPES.values():
            raise invalid(
                "positions: Each position needs a valid type (KbPositionCustom, KbPositionArticle, ...)."
            )
        built.append(build_position(spec, ptype, inv))
    return built


def new_document(data: dict, dt: DocType = INVOICE, positions: list[dict] | None = None) -> dict:
    """Validate and store a new document; `positions` (already built) replace `data["positions"]`."""
    inv = {
        "id": None,
        "document_nr": None,
        "title": None,
        "contact_id": None,
        "contact_sub_id": None,
        "user_id": None,
        "project_id": None,
        "logopaper_id": 1,
        "language_id": 1,
        "bank_account_id": 1,
        "currency_id": 1,
        "payment_type_id": 1,
        "header": None,
        "footer": None,
        "mwst_type": 0,
        "mwst_is_net": True,
        "show_position_taxes": False,
        "is_valid_from": today(),
        "contact_address": "",
        "kb_item_status_id": dt.created,
        "api_reference": None,
        "viewed_by_client_at": None,
        "template_slug": "",
        "positions": [],
        "network_link": "",
        **{k: (list(v) if isinstance(v, list) else v) for k, v in dt.defaults.items()},
    }
    if dt.valid_to:
        inv[dt.valid_to] = None
    apply_fields(inv, data, dt)
    if dt.valid_to and inv[dt.valid_to] is None:
        inv[dt.valid_to] = plus_days(inv["is_valid_from"], 30)
    user = store().get("user", company(), inv["user_id"]) or {"firstname": "", "lastname": ""}
    if inv["header"] is None:
        inv["header"] = dt.header.format(name=inv.get("_contact_name", ""))
    if inv["footer"] is None:
        inv["footer"] = dt.footer.format(firstname=user["firstname"], lastname=user["lastname"])
    built = built_positions(data, inv) if positions is None else positions
    inv["id"] = store().next_id(dt.kind, company())
    inv["document_nr"] = f"{dt.prefix}-{inv['id']:05d}"
    if dt is INVOICE:
        inv["esr_id"] = inv["qr_invoice_id"] = inv["id"]
    for p in built:
        add_position(inv, p)
    return save(inv, dt.kind)


def new_invoice(data: dict) -> dict:
    return new_document(data, INVOICE)


def require(inv: dict, statuses: tuple[int, ...], action: str, dt: DocType = INVOICE) -> None:
    if inv["kb_item_status_id"] not in statuses:
        raise ApiError(422, f"The {dt.label} can not be {action} in its current status.")


def copied_positions(src: dict) -> list[dict]:
    out = []
    for p in src["positions"]:
        copy_ = {k: v for k, v in p.items() if k != "id"}
        copy_["_raw"] = {}
        out.append(copy_)
    return out


# document endpoints (one set per type) ----------------------------------------------------------------
def document_routes(dt: DocType, *, writable=True) -> None:
    """Routes of one type; `writable=False` (deliveries): list, show and the status actions only."""
    kind = dt.kind
    base = f"/2.0/{kind}"

    def route(rule, name, view, method):
        bp.add_url_rule(base + rule, f"{kind}_{name}", view, methods=[method])

    def do_list():
        items = order(store().all(kind, company()), ORDER)
        return respond([render(i, positions=False, dt=dt) for i in paginate(items)])

    def do_search():
        found = order(search(store().all(kind, company()), dt.search_fields), ORDER)
        return respond([render(i, positions=False, dt=dt) for i in paginate(found)])

    def do_show(id_):
        return respond(render(load(id_, kind), dt=dt), etag=True)

    def do_create():
        data = json_body()
        if "user_id" not in data:
            data["user_id"] = None
        with store().tx():
            inv = new_document(data, dt)
        return respond(render(inv, "create", dt=dt), 201, etag=True)

    def do_edit(id_):
        data = json_body()
        data.pop("positions", None)
        with store().tx():
            inv = load(id_, kind)
            require(inv, dt.editable, "edited", dt)
            apply_fields(inv, data, dt)
            save(inv, kind)
        return respond(render(inv, "edit", dt=dt), etag=True)

    def do_delete(id_):
        with store().tx():
            require(load(id_, kind), dt.editable, "deleted", dt)
            store().delete(kind, company(), id_)
        return success()

    def do_pdf(id_):
        from .pdf import invoice_pdf as make_pdf

        inv = load(id_, kind)
        data = make_pdf(inv, store(), company(), request.args.get("logopaper", "1") != "0", kind=kind)
        return respond(pdf_envelope(inv["document_nr"], data))

    route("", "list", do_list, "GET")
    route("/<int:id_>", "show", do_show, "GET")
    if writable:
        route("/search", "search", do_search, "POST")
        route("", "create", do_create, "POST")
        route("/<int:id_>", "edit", do_edit, "POST")
        route("/<int:id_>", "delete", do_delete, "DELETE")
        route("/<int:id_>/pdf", "pdf", do_pdf, "GET")
    for action, (allowed, new) in dt.actions.items():
        route(f"/<int:id_>/{action}", action, _transition_view(dt, action, allowed, new), "POST")


def pdf_envelope(document_nr: str, data: bytes) -> dict:
    return {
        "name": f"{document_nr.lower()}.pdf",
        "size": len(data),
        "mime": "application/pdf",
        "content": base64.b64encode(data).decode(),
    }


PAST = {
    "issue": "issued",
    "revert_issue": "reverted",
    "revertIssue": "reverted",
    "cancel": "cancelled",
    "mark_as_sent": "marked as sent",
    "accept": "accepted",
    "reject": "rejected",
    "reissue": "reissued",
}


def _transition_view(dt: DocType, action: str, allowed: tuple[int, ...], new: int | None):
    def view(id_):
        with store().tx():
            inv = load(id_, dt.kind)
            require(inv, allowed, PAST.get(action, action), dt)
            if new == dt.created and inv.get("payments"):
                raise ApiError(422, f"The {dt.label} has payments and can not be reverted.")
            if action == "mark_as_sent":
                _mark_sent(inv, dt)
            elif new is not None:
                set_status(inv, new, dt)
            save(inv, dt.kind)
        return success()

    return view


def _mark_sent(inv: dict, dt: DocType) -> None:
    """Marking a draft as sent issues it (as in bexio's web office); issued documents keep their status."""
    issue = dt.actions.get("issue")
    if issue and inv["kb_item_status_id"] == dt.created:
        set_status(inv, issue[1], dt)
    inv["sent"] = True


def set_status(inv: dict, new: int, dt: DocType = INVOICE) -> None:
    """Every status change of a document goes through here: an invoice's bookings follow its status."""
    old = inv["kb_item_status_id"]
    inv["kb_item_status_id"] = new
    if dt is INVOICE:
        books.on_status(inv, old, new)


def send_errors(data: dict) -> list[str]:
    """Validation of a send body (documents and reminders)."""
    required = ("recipient_email", "subject", "message")
    errors = [f"{k}: This value should not be blank." for k in required if not data.get(k)]
    if data.get("message") and "[Network Link]" not in data["message"]:
        errors.append("message: The message must contain [Network Link].")
    return errors


def send_view(dt: DocType):
    def view(id_):
        errors = send_errors(json_body())
        if errors:
            raise invalid(*errors)
        with store().tx():
            inv = load(id_, dt.kind)
            require(inv, dt.actions["mark_as_sent"][0], "sent", dt)
            _mark_sent(inv, dt)
            page = dt.kind.removeprefix("kb_")
            inv["network_link"] = f"{request.host_url}_sandbox/office/{page}/{company()}/{id_}"
            save(inv, dt.kind)
        return success()

    bp.add_url_rule(f"/2.0/{dt.kind}/<int:id_>/send", f"{dt.kind}_send", view, methods=["POST"])


def source_fields(src: dict, target: DocType) -> dict:
    """The fields a copy or a converted document takes over from `src`: fresh dates, texts, reference."""
    fields = {k: src.get("project_id" if k == "pr_project_id" else k) for k in EDITABLE}
    fields.update({k: src.get(k) for k in target.extra_editable if k in src})
    fields.update({"api_reference": None, "is_valid_from": today(), "viewed_by_client_at": None})
    fields.update({"header": None, "footer": None})
    if target.valid_to:
        fields[target.valid_to] = None
    return fields


def copy_view(dt: DocType):
    def view(id_):
        data = json_body()
        if data.get("contact_id") in (None, ""):
            raise invalid("contact_id: This value should not be blank.")
        with store().tx():
            src = load(id_, dt.kind)
            fields = source_fields(src, dt)
            fields.update(
                {
                    "title": data.get("title", ""),
                    "contact_id": data["contact_id"],
                    "contact_sub_id": data.get("contact_sub_id"),
                    "is_valid_from": data.get("is_valid_from", today()),
                }
            )
            if "pr_project_id" in data:
                fields["pr_project_id"] = data["pr_project_id"]
            inv = new_document(fields, dt, positions=copied_positions(src))
        return respond(render(inv, "copy", dt=dt), 201, etag=True)

    bp.add_url_rule(f"/2.0/{dt.kind}/<int:id_>/copy", f"{dt.kind}_copy", view, methods=["POST"])


def convert_view(src_dt: DocType, target: DocType, mark: tuple[tuple[int, ...], int] | None = None):
    """`POST /2.0/kb_offer/{id}/order` etc.: a new document from the source's fields and positions
    (all of them, or the `positions` given). `mark`: (statuses, new status) for the source."""

    def view(id_):
        data = json_body()
        with store().tx():
            src = load(id_, src_dt.kind)
            fields = source_fields(src, target)
            if isinstance(data.get("positions"), list) and data["positions"]:
                positions = built_positions(data, {**src, "kb_item_status_id": target.created})
            else:
                positions = copied_positions(src)
            doc = new_document(fields, target, positions=positions)
            if mark and src["kb_item_status_id"] in mark[0]:
                src["kb_item_status_id"] = mark[1]
                save(src, src_dt.kind)
        return respond(render(doc, "copy", dt=target), 201, etag=True)

    name = target.kind.removeprefix("kb_")
    bp.add_url_rule(
        f"/2.0/{src_dt.kind}/<int:id_>/{name}", f"{src_dt.kind}_to_{name}", view, methods=["POST"]
    )


document_routes(INVOICE)
document_routes(OFFER)
document_routes(ORDER_DOC)
document_routes(DELIVERY, writable=False)
for _dt in (INVOICE, OFFER):
    send_view(_dt)
    copy_view(_dt)
convert_view(OFFER, ORDER_DOC, mark=((1, 2), 3))
convert_view(OFFER, INVOICE, mark=((1, 2), 3))
convert_view(ORDER_DOC, INVOICE)
convert_view(ORDER_DOC, DELIVERY)


# order repetition ---------------------------------------------------------------------------------
REPETITION_TYPES = {"daily", "weekly", "monthly", "yearly"}


@bp.get("/2.0/kb_order/<int:id_>/repetition")
def order_repetition_show(id_):
    rep = load(id_, "kb_order").get("repetition")
    if rep is None:
        raise not_found()
    return respond(rep)


@bp.post("/2.0/kb_order/<int:id_>/repetition")
def order_repetition_edit(id_):
    data = json_body()
    rep = data.get("repetition")
    errors = []
    if not data.get("start"):
        errors.append("start: This value should not be blank.")
    if not isinstance(rep, dict) or rep.get("type") not in REPETITION_TYPES:
        errors.append("repetition: The type must be one of daily, weekly, monthly, yearly.")
    elif not isinstance(rep.get("interval"), int) or rep["interval"] < 1:
        errors.append("repetition.interval: This value should be greater than 0.")
    if errors:
        raise invalid(*errors)
    with store().tx():
        inv = load(id_, "kb_order")
        inv["repetition"] = {"start": str(data["start"])[:10], "end": data.get("end"), "repetition": rep}
        inv["is_recurring"] = True
        save(inv, "kb_order")
    return respond(inv["repetition"])


@bp.delete("/2.0/kb_order/<int:id_>/repetition")
def order_repetition_delete(id_):
    with store().tx():
        inv = load(id_, "kb_order")
        if inv.get("repetition") is None:
            raise not_found()
        inv["repetition"] = None
        inv["is_recurring"] = False
        save(inv, "kb_order")
    return success()


# positions: /2.0/{kb_document_type}/{document_id}/kb_position_* ----------------------------------------
DOC_RULE = "/2.0/<any(" + ",".join(POSITION_DOCS) + "):doctype>/<int:id_>/kb_position_<kind>"


def _ptype(kind: str) -> str:
    if kind not in POSITION_TYPES:
        raise not_found()
    return POSITION_TYPES[kind]


def _find_position(inv: dict, ptype: str, pid: int) -> dict:
    for p in inv["positions"]:
        if p["type"] == ptype and p["id"] == pid:
            return p
    raise not_found()


def _editable(doctype: str, id_) -> dict:
    inv = load(id_, doctype)
    dt = TYPES[doctype]
    require(inv, dt.editable, "changed", dt)
    return inv


@bp.get(DOC_RULE)
def position_list(doctype, id_, kind):
    ptype = _ptype(kind)
    inv = load(id_, doctype)
    return respond(paginate([render_position(p, "read") for p in inv["positions"] if p["type"] == ptype]))


@bp.get(DOC_RULE + "/<int:pid>")
def position_show(doctype, id_, kind, pid):
    return respond(render_position(_find_position(load(id_, doctype), _ptype(kind), pid), "read"))


@bp.post(DOC_RULE)
def position_create(doctype, id_, kind):
    ptype = _ptype(kind)
    data = json_body()
    with store().tx():
        inv = _editable(doctype, id_)
        p = add_position(inv, build_position(data, ptype, inv))
        save(inv, doctype)
    return respond(render_position(p, "create"), 201)


@bp.post(DOC_RULE + "/<int:pid>")
def position_edit(doctype, id_, kind, pid):
    ptype = _ptype(kind)
    data = json_body()
    with store().tx():
        inv = _editable(doctype, id_)
        old = _find_position(inv, ptype, pid)
        new = build_position(data, ptype, inv, existing=old)
        for key in ("amount", "unit_price", "discount_in_percent", "value"):
            if key not in new["_raw"] and key in new:
                new["_raw"][key] = fmin(new[key])
        inv["positions"][inv["positions"].index(old)] = new
        number_positions(inv)
        save(inv, doctype)
    return respond(render_position(new, "edit"))


@bp.delete(DOC_RULE + "/<int:pid>")
def position_delete(doctype, id_, kind, pid):
    ptype = _ptype(kind)
    with store().tx():
        inv = _editable(doctype, id_)
        inv["positions"].remove(_find_position(inv, ptype, pid))
        number_positions(inv)
        save(inv, doctype)
    return success()


# comments: /2.0/{kb_document_type}/{document_id}/comment ----------------------------------------------
COMMENT_RULE = "/2.0/<any(" + ",".join(POSITION_DOCS) + "):doctype>/<int:id_>/comment"


def _comments(doctype: str, id_) -> list[dict]:
    load(id_, doctype)
    key = f"{doctype}:{id_}"
    items = [c for c in store().all("kb_comment", company()) if c.get("_document") == key]
    return sorted(items, key=lambda c: c["id"])


def _public_comment(c: dict) -> dict:
    return {k: v for k, v in c.items() if not k.startswith("_")}


@bp.get(COMMENT_RULE)
def comment_list(doctype, id_):
    return respond(paginate([_public_comment(c) for c in _comments(doctype, id_)]))


@bp.get(COMMENT_RULE + "/<int:cid>")
def comment_show(doctype, id_, cid):
    found = next((c for c in _comments(doctype, id_) if c["id"] == cid), None)
    if found is None:
        raise not_found()
    return respond(_public_comment(found))


@bp.post(COMMENT_RULE)
def comment_create(doctype, id_):
    data = json_body()
    errors = [f"{k}: This value should not be blank." for k in ("text",) if not data.get(k)]
    for key in ("user_id", "user_name"):
        if key not in data:
            errors.append(f"{key}: This field is missing.")
    if data.get("user_id") is not None and store().get("user", company(), data["user_id"]) is None:
        errors.append("user_id: This value is not valid.")
    if errors:
        raise invalid(*errors)
    with store().tx():
        load(id_, doctype)
        comment = {
            "id": store().next_id("kb_comment", company()),
            "text": data["text"],
            "user_id": data.get("user_id"),
            "user_email": data.get("user_email"),
            "user_name": data.get("user_name"),
            "date": now_v2(),
            "is_public": bool(data.get("is_public", False)),
            "image": None,
            "image_path": None,
            "_document": f"{doctype}:{id_}",
        }
        store().put("kb_comment", company(), comment["id"], comment)
    return respond(_public_comment(comment), 201)
