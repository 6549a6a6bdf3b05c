"""kb_invoice: invoices, their positions, payments, status actions, totals and the PDF."""

from __future__ import annotations

import base64
from decimal import ROUND_HALF_UP, Decimal

from flask import Blueprint, g, request

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

bp = Blueprint("invoices", __name__)

DRAFT, OPEN, PAID, PARTIAL, CANCELLED = 7, 8, 9, 16, 19
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
INVOICE_SEARCH = (
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
INVOICE_ORDER = ("id", "total", "total_net", "total_gross", "updated_at", "document_nr", "is_valid_from")
REFS = (
    ("language_id", "language"),
    ("bank_account_id", "bank_account"),
    ("currency_id", "currency"),
    ("payment_type_id", "payment_type"),
    ("user_id", "user"),
)
EDITABLE = (
    "title",
    "contact_id",
    "contact_sub_id",
    "user_id",
    "pr_project_id",
    "logopaper_id",
    "language_id",
    "bank_account_id",
    "currency_id",
    "payment_type_id",
    "header",
    "footer",
    "mwst_type",
    "mwst_is_net",
    "show_position_taxes",
    "is_valid_from",
    "is_valid_to",
    "contact_address_manual",
    "reference",
    "api_reference",
    "template_slug",
    "viewed_by_client_at",
)


def store():
    return sb().store


def load(id_) -> dict:
    inv = store().get("kb_invoice", company(), id_)
    if inv is None:
        raise not_found()
    return inv


def save(inv: dict) -> dict:
    inv["updated_at"] = now_v2()
    compute(inv)
    store().put("kb_invoice", company(), inv["id"], inv)
    return inv


# totals -----------------------------------------------------------------------------------------
def compute(inv: dict) -> None:
    """Position totals, tax groups and invoice totals after mwst_type/mwst_is_net and round_factor."""
    lines = []  # (rate or None, amount)
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
            lines.append([p.get("_tax_rate"), total])
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
    received = sum((D(pay["value"]) for pay in inv["payments"]), Decimal(0))
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


def render(inv: dict, mode: str = "read", positions: bool = True) -> dict:
    """mode: read (normalised), create/copy (computed values in short form), edit."""
    short = mode in ("create", "copy", "edit")
    pay6 = mode != "create" and mode != "copy"
    out = {
        k: inv[k]
        for k in (
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
    }
    out.update(
        {
            "total_gross": fmin(inv["total_gross"]) if short else f6(inv["total_gross"]),
            "total_net": fmin(inv["total_net"]) if short else f6(inv["total_net"]),
            "total_taxes": f4(inv["total_taxes"]),
            "total_received_payments": f6(inv["total_received_payments"])
            if pay6
            else fmin(inv["total_received_payments"]),
            "total_credit_vouchers": f6(0) if pay6 else "0",
            "total_remaining_payments": f4(inv["total_remaining_payments"]),
            "total": fmin(inv["total"]) if short else f6(inv["total"]),
            "total_rounding_difference": inv["total_rounding_difference"],
        }
    )
    for k in (
        "mwst_type",
        "mwst_is_net",
        "show_position_taxes",
        "is_valid_from",
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
    ):
        out[k] = inv[k]
    if positions:
        pmode = {"create": "create", "copy": "copy", "edit": "read"}.get(mode, "read")
        out["positions"] = [render_position(p, pmode) for p in inv["positions"]]
    out["network_link"] = inv.get("network_link", "")
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
        if p.get("account_id") is not None and store().get("account", company(), p["account_id"]) is None:
            errors.append("account_id: This value is not valid.")
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


def apply_fields(inv: dict, data: dict) -> None:
    errors = []
    if "document_nr" in data and data["document_nr"] not in (None, ""):
        errors.append("document_nr: The document number can not be set while automatic numbering is active.")
    for key in EDITABLE:
        if key in data:
            inv["project_id" if key == "pr_project_id" else key] = data[key]
    for key in ("is_valid_from", "is_valid_to"):
        if isinstance(inv.get(key), str):
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


def new_invoice(data: dict) -> dict:
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
        "is_valid_to": None,
        "contact_address": "",
        "kb_item_status_id": DRAFT,
        "reference": "",
        "api_reference": None,
        "viewed_by_client_at": None,
        "template_slug": "",
        "positions": [],
        "payments": [],
        "network_link": "",
    }
    apply_fields(inv, data)
    if inv["is_valid_to"] is None:
        inv["is_valid_to"] = plus_days(inv["is_valid_from"], 30)
    user = store().get("user", company(), inv["user_id"]) or {"firstname": "", "lastname": ""}
    if inv["header"] is None:
        inv["header"] = (
            f"Guten Tag {inv.get('_contact_name', '')}<br/><br/>Danke für Ihr Vertrauen. "
            "Ihre Rechnung setzt sich wie folgt zusammen:"
        )
    if inv["footer"] is None:
        inv["footer"] = (
            "Sie haben Fragen? Melden Sie sich bei uns.<br/><br/>Freundliche Grüsse<br/>"
            f"{user['firstname']} {user['lastname']}"
        )
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
    inv["id"] = store().next_id("kb_invoice", company())
    inv["document_nr"] = f"RE-{inv['id']:05d}"
    inv["esr_id"] = inv["qr_invoice_id"] = inv["id"]
    for p in built:
        add_position(inv, p)
    return save(inv)


# invoice endpoints --------------------------------------------------------------------------------
@bp.get("/2.0/kb_invoice")
def invoice_list():
    items = order(store().all("kb_invoice", company()), INVOICE_ORDER)
    return respond([render(i, positions=False) for i in paginate(items)])


@bp.post("/2.0/kb_invoice/search")
def invoice_search():
    items = store().all("kb_invoice", company())
    found = order(search(items, INVOICE_SEARCH), INVOICE_ORDER)
    return respond([render(i, positions=False) for i in paginate(found)])


@bp.get("/2.0/kb_invoice/<int:id_>")
def invoice_show(id_):
    return respond(render(load(id_)), etag=True)


@bp.post("/2.0/kb_invoice")
def invoice_create():
    data = json_body()
    if "user_id" not in data:
        data["user_id"] = None
    with store().tx():
        inv = new_invoice(data)
    return respond(render(inv, "create"), 201, etag=True)


def _require(inv: dict, statuses: tuple[int, ...], action: str) -> None:
    if inv["kb_item_status_id"] not in statuses:
        raise ApiError(422, f"The invoice can not be {action} in its current status.")


@bp.post("/2.0/kb_invoice/<int:id_>")
def invoice_edit(id_):
    data = json_body()
    data.pop("positions", None)
    with store().tx():
        inv = load(id_)
        _require(inv, (DRAFT,), "edited")
        apply_fields(inv, data)
        save(inv)
    return respond(render(inv, "edit"), etag=True)


@bp.delete("/2.0/kb_invoice/<int:id_>")
def invoice_delete(id_):
    with store().tx():
        inv = load(id_)
        _require(inv, (DRAFT,), "deleted")
        store().delete("kb_invoice", company(), id_)
    return success()


@bp.post("/2.0/kb_invoice/<int:id_>/issue")
def invoice_issue(id_):
    with store().tx():
        inv = load(id_)
        _require(inv, (DRAFT,), "issued")
        inv["kb_item_status_id"] = OPEN
        save(inv)
    return success()


@bp.post("/2.0/kb_invoice/<int:id_>/revert_issue")
def invoice_revert(id_):
    with store().tx():
        inv = load(id_)
        _require(inv, (OPEN,), "reverted")
        if inv["payments"]:
            raise ApiError(422, "The invoice has payments and can not be reverted.")
        inv["kb_item_status_id"] = DRAFT
        save(inv)
    return success()


@bp.post("/2.0/kb_invoice/<int:id_>/cancel")
def invoice_cancel(id_):
    with store().tx():
        inv = load(id_)
        _require(inv, (OPEN, PARTIAL, 31), "cancelled")
        inv["kb_item_status_id"] = CANCELLED
        save(inv)
    return success()


@bp.post("/2.0/kb_invoice/<int:id_>/mark_as_sent")
def invoice_mark_as_sent(id_):
    """Marking a draft as sent issues it (as in bexio's web office); issued invoices keep their status."""
    with store().tx():
        inv = load(id_)
        _require(inv, (DRAFT, OPEN, PARTIAL, PAID, 31), "marked as sent")
        if inv["kb_item_status_id"] == DRAFT:
            inv["kb_item_status_id"] = OPEN
        inv["sent"] = True
        save(inv)
    return success()


@bp.post("/2.0/kb_invoice/<int:id_>/send")
def invoice_send(id_):
    data = json_body()
    errors = [
        f"{k}: This value should not be blank."
        for k in ("recipient_email", "subject", "message")
        if not data.get(k)
    ]
    if data.get("message") and "[Network Link]" not in data["message"]:
        errors.append("message: The message must contain [Network Link].")
    if errors:
        raise invalid(*errors)
    with store().tx():
        inv = load(id_)
        _require(inv, (DRAFT, OPEN, PARTIAL, PAID, 31), "sent")
        if inv["kb_item_status_id"] == DRAFT:
            inv["kb_item_status_id"] = OPEN
        inv["sent"] = True
        inv["network_link"] = f"{request.host_url}_sandbox/office/invoice/{company()}/{id_}"
        save(inv)
    return success()


@bp.post("/2.0/kb_invoice/<int:id_>/copy")
def invoice_copy(id_):
    data = json_body()
    if data.get("contact_id") in (None, ""):
        raise invalid("contact_id: This value should not be blank.")
    with store().tx():
        src = load(id_)
        fields = {k: src.get("project_id" if k == "pr_project_id" else k) for k in EDITABLE}
        fields.update(
            {
                "api_reference": None,
                "title": data.get("title", ""),
                "contact_id": data["contact_id"],
                "contact_sub_id": data.get("contact_sub_id"),
                "is_valid_from": data.get("is_valid_from", today()),
                "viewed_by_client_at": None,
                "reference": src.get("reference", ""),
            }
        )
        fields["is_valid_to"] = None
        fields["header"] = fields["footer"] = None
        inv = new_invoice(fields)
        for p in src["positions"]:
            copy_ = {k: v for k, v in p.items() if k != "id"}
            copy_["_raw"] = {}
            add_position(inv, copy_)
        save(inv)
    return respond(render(inv, "copy"), 201, etag=True)


@bp.get("/2.0/kb_invoice/<int:id_>/pdf")
def invoice_pdf(id_):
    from .pdf import invoice_pdf as make_pdf

    inv = load(id_)
    data = make_pdf(inv, store(), company(), logopaper=request.args.get("logopaper", "1") != "0")
    return respond(
        {
            "name": f"{inv['document_nr'].lower()}.pdf",
            "size": len(data),
            "mime": "application/pdf",
            "content": base64.b64encode(data).decode(),
        }
    )


# positions ----------------------------------------------------------------------------------------
def _ptype(kind: str) -> str:
    if kind not in POSITION_TYPES:
        raise not_found()
    return POSITION_TYPES[kind]


def _find_position(inv: dict, ptype: str, pid: int) -> dict:
    for p in inv["positions"]:
        if p["type"] == ptype and p["id"] == pid:
            return p
    raise not_found()


@bp.get("/2.0/kb_invoice/<int:id_>/kb_position_<kind>")
def position_list(id_, kind):
    ptype = _ptype(kind)
    inv = load(id_)
    return respond(paginate([render_position(p, "read") for p in inv["positions"] if p["type"] == ptype]))


@bp.get("/2.0/kb_invoice/<int:id_>/kb_position_<kind>/<int:pid>")
def position_show(id_, kind, pid):
    return respond(render_position(_find_position(load(id_), _ptype(kind), pid), "read"))


@bp.post("/2.0/kb_invoice/<int:id_>/kb_position_<kind>")
def position_create(id_, kind):
    ptype = _ptype(kind)
    data = json_body()
    with store().tx():
        inv = load(id_)
        _require(inv, (DRAFT,), "changed")
        p = add_position(inv, build_position(data, ptype, inv))
        save(inv)
    return respond(render_position(p, "create"), 201)


@bp.post("/2.0/kb_invoice/<int:id_>/kb_position_<kind>/<int:pid>")
def position_edit(id_, kind, pid):
    ptype = _ptype(kind)
    data = json_body()
    with store().tx():
        inv = load(id_)
        _require(inv, (DRAFT,), "changed")
        old = _find_position(inv, ptype, pid)
        new = build_position(data, ptype, inv, existing=old)
        for key in ("amount", "unit_price", "discount_in_percent", "value"):
            if key not in new["_raw"] and key in new:
                new["_raw"][key] = fmin(new[key])
        inv["positions"][inv["positions"].index(old)] = new
        number_positions(inv)
        save(inv)
    return respond(render_position(new, "edit"))


@bp.delete("/2.0/kb_invoice/<int:id_>/kb_position_<kind>/<int:pid>")
def position_delete(id_, kind, pid):
    ptype = _ptype(kind)
    with store().tx():
        inv = load(id_)
        _require(inv, (DRAFT,), "changed")
        inv["positions"].remove(_find_position(inv, ptype, pid))
        number_positions(inv)
        save(inv)
    return success()


# payments -----------------------------------------------------------------------------------------
def render_payment(pay: dict, fresh: bool) -> dict:
    out = dict(pay)
    raw = out.pop("_raw", None)
    out["value"] = raw if fresh and raw is not None else f6(pay["value"])
    return out


def _status_after_payments(inv: dict) -> None:
    compute(inv)
    if inv["kb_item_status_id"] not in (OPEN, PARTIAL, PAID, 31):
        return
    remaining = D(inv["total_remaining_payments"])
    if not inv["payments"]:
        inv["kb_item_status_id"] = OPEN
    elif remaining <= 0:
        inv["kb_item_status_id"] = PAID
    else:
        inv["kb_item_status_id"] = PARTIAL


@bp.get("/2.0/kb_invoice/<int:id_>/payment")
def payment_list(id_):
    return respond(paginate([render_payment(p, False) for p in load(id_)["payments"]]))


@bp.get("/2.0/kb_invoice/<int:id_>/payment/<int:pid>")
def payment_show(id_, pid):
    pay = next((p for p in load(id_)["payments"] if p["id"] == pid), None)
    if pay is None:
        raise not_found()
    return respond(render_payment(pay, False), etag=True)


@bp.post("/2.0/kb_invoice/<int:id_>/payment")
def payment_create(id_):
    data = json_body()
    value, raw = dec(data.get("value"), "value", required=True)
    if value <= 0:
        raise invalid("value: This value should be greater than 0.")
    date = data.get("date") or today()
    bank = data.get("bank_account_id")
    if bank is not None and store().get("bank_account", company(), bank) is None:
        raise invalid("bank_account_id: This value is not valid.")
    if data.get("payment_service_id") not in (None, 1, 2, 3):
        raise invalid("payment_service_id: The value you selected is not a valid choice.")
    with store().tx():
        inv = load(id_)
        if inv["kb_item_status_id"] not in (OPEN, PARTIAL, 31):
            raise ApiError(422, "Payments can only be added to open invoices.")
        pay = {
            "id": store().next_id("payment", company()),
            "date": str(date)[:10],
            "value": str(value),
            "bank_account_id": bank,
            "title": "Zahlungseingang",
            "payment_service_id": data.get("payment_service_id"),
            "is_client_account_redemption": False,
            "is_cash_discount": False,
            "kb_invoice_id": id_,
            "kb_credit_voucher_id": None,
            "kb_credit_voucher_text": "",
            "kb_bill_id": None,
            "_raw": raw,
        }
        inv["payments"].append(pay)
        _status_after_payments(inv)
        save(inv)
    return respond(render_payment(pay, True), 201, etag=True)


@bp.delete("/2.0/kb_invoice/<int:id_>/payment/<int:pid>")
def payment_delete(id_, pid):
    with store().tx():
        inv = load(id_)
        pay = next((p for p in inv["payments"] if p["id"] == pid), None)
        if pay is None:
            raise not_found()
        inv["payments"].remove(pay)
        _status_after_payments(inv)
        save(inv)
    return success()


def user_id_default() -> int:
    return g.claims["user_id"]
