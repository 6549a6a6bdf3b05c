"""Positions of kb documents: built and validated (inline on create, or through the position routes
in position_routes.py), numbered, and rendered in the forms bexio answers with (create echoes what was
sent, reads are normalised). A priced position needs an active sales tax when VAT applies, and by
default an account that is not a balance sheet account (as bexio refuses those)."""

from __future__ import annotations

from decimal import Decimal

from . import chart
from .context import company, sandbox, store
from .decimals import fixed2, fixed4, fixed6, parse_decimal, shortest, to_decimal
from .doctypes import POSITION_TYPES, PRICED
from .responses import invalid


def render_position(p: dict, mode: str) -> dict:
    """mode: create (as sent), edit (position edit answer), read (normalised), copy."""
    t = p["type"]
    raw = p.get("_raw", {})
    base = {"id": p["id"], "type": t}
    if t in PRICED:
        fresh = mode in ("create", "edit")
        out = {
            **base,
            "amount": raw.get("amount", shortest(p["amount"])) if fresh else fixed6(p["amount"]),
            "amount_reserved": None if mode in ("create", "copy") else "0.000000",
            "amount_open": None if mode in ("create", "copy") else "0.000000",
            "amount_completed": None if mode in ("create", "copy") else "0.000000",
            "unit_id": p["unit_id"],
            "account_id": p["account_id"],
            "unit_name": p.get("unit_name"),
            "tax_id": p["tax_id"],
            "tax_value": fixed2(p["_tax_rate"]) if p.get("_tax_rate") is not None else None,
            "text": p["text"],
            "unit_price": raw.get("unit_price", shortest(p["unit_price"]))
            if fresh
            else fixed6(p["unit_price"]),
            "discount_in_percent": (
                raw.get("discount_in_percent", shortest(p["discount_in_percent"]))
                if fresh
                else fixed4(p["discount_in_percent"])
            ),
            "position_total": shortest(p["position_total"])
            if mode != "read"
            else fixed6(p["position_total"]),
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
            "total_sum": shortest(p.get("total_sum")) if mode != "read" else fixed6(p.get("total_sum")),
            "show_pos_prices": p["show_pos_prices"],
        }
    if t == "KbPositionSubtotal":
        return {
            **base,
            "text": p["text"],
            "value": shortest(p.get("value")) if mode != "read" else fixed6(p.get("value")),
            "internal_pos": p["internal_pos"],
            "parent_id": p["parent_id"],
            "is_optional": p["is_optional"],
        }
    if t == "KbPositionDiscount":
        return {
            **base,
            "text": p["text"],
            "is_percentual": p["is_percentual"],
            "value": raw.get("value", shortest(p["value"]))
            if mode in ("create", "edit")
            else fixed6(p["value"]),
            "discount_total": shortest(p.get("discount_total"))
            if mode != "read"
            else fixed6(p.get("discount_total")),
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
                value, raw = parse_decimal(
                    spec[key], key, required=required, default="0" if not required else None
                )
                p[key] = str(value)
                p["_raw"][key] = raw
            elif key not in p:
                fallback = defaults.get(key)
                if fallback is None and required:
                    errors.append(f"{key}: This value should not be blank.")
                    continue
                p[key] = str(to_decimal(fallback))
                p["_raw"][key] = shortest(fallback)
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
            value, raw = parse_decimal(spec.get("value"), "value", required=True)
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
    if kind and not sandbox().settings["allow_balance_sheet_positions"]:
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


def copied_positions(src: dict) -> list[dict]:
    out = []
    for p in src["positions"]:
        copy_ = {k: v for k, v in p.items() if k != "id"}
        copy_["_raw"] = {}
        out.append(copy_)
    return out
