"""Master data with behaviour of its own (their plain list/show are declared in resources.py):
`/3.0/users/me`, `/3.0/permissions`, `/3.0/taxes` (filters; delete is refused with 409 as recorded),
`/3.0/currencies` (create, edit, delete, codes, exchange rates)."""

from __future__ import annotations

from flask import Blueprint, g, request

from . import seed
from .clock import now_v2
from .context import company, get_or_404, sandbox, store
from .listing import paginate
from .responses import ApiError, invalid, json_body, respond, success

bp = Blueprint("masterdata", __name__)


@bp.get("/3.0/users/me")
def users_me():
    return respond(get_or_404("user", g.claims["user_id"]))


@bp.get("/3.0/permissions")
def permissions():
    user = sandbox().realm.user_by_sub(g.claims["sub"])
    rights = set(user["memberships"][company()]["rights"]) if user else set()
    components = ["contact", "kb_invoice", "kb_offer", "kb_order", "kb_delivery", "article", "bank_account"]
    components.append("accounting")
    perms = {
        c: {
            "activation": c in rights,
            "edit": "all" if c in rights else "none",
            "show": "all" if c in rights else "none",
        }
        for c in components
    }
    return respond({"components": [c for c in components if c in rights], "permissions": perms})


# taxes ----------------------------------------------------------------------------------------------
def tax_valid_on(tax: dict, date: str) -> bool:
    y, m = int(date[:4]), int(date[5:7])
    if tax.get("start_year") and (y, m) < (tax["start_year"], tax.get("start_month") or 1):
        return False
    return not (tax.get("end_year") and (y, m) > (tax["end_year"], tax.get("end_month") or 12))


@bp.get("/3.0/taxes")
def taxes_list():
    items = store().all("tax", company())
    scope = request.args.get("scope")
    if scope in ("active", "inactive"):
        items = [t for t in items if t["is_active"] == (scope == "active")]
    types = request.args.get("types")
    if types:
        wanted = set(types.split(","))
        items = [t for t in items if t["type"] in wanted]
    date = request.args.get("date")
    if date:
        items = [t for t in items if tax_valid_on(t, date)]
    return respond(paginate(items))


@bp.delete("/3.0/taxes/<int:id_>")
def taxes_delete(id_):
    get_or_404("tax", id_)
    raise ApiError(409, "tax can not be deleted")


# currencies -----------------------------------------------------------------------------------------
@bp.get("/3.0/currencies/codes")
def currency_codes():
    return respond(seed.raw("currency_codes"))


def _round_factor(data: dict, default=None):
    rf = data.get("round_factor", default)
    try:
        rf = float(rf)
    except (TypeError, ValueError):
        raise invalid("round_factor: This value is not valid.") from None
    if rf <= 0:
        raise invalid("round_factor: This value is not valid.")
    return rf


@bp.post("/3.0/currencies")
def currency_create():
    data = json_body()
    name = data.get("name")
    if name not in seed.raw("currency_codes"):
        raise invalid("name: This value is not a valid currency.")
    rf = _round_factor(data)
    with store().tx():
        if any(c["name"] == name for c in store().all("currency", company())):
            raise invalid("name: This currency already exists.")
        id_ = store().next_id("currency", company())
        doc = store().put("currency", company(), id_, {"id": id_, "name": name, "round_factor": rf})
    return respond(doc, 201)


@bp.patch("/3.0/currencies/<int:id_>")
def currency_edit(id_):
    data = json_body()
    with store().tx():
        doc = get_or_404("currency", id_)
        if "round_factor" in data:
            doc["round_factor"] = _round_factor(data)
        store().put("currency", company(), id_, doc)
    return respond(doc)


@bp.delete("/3.0/currencies/<int:id_>")
def currency_delete(id_):
    with store().tx():
        doc = get_or_404("currency", id_)
        if doc["name"] == "CHF":
            raise ApiError(409, "currency can not be deleted")
        store().delete("currency", company(), id_)
    return success()


@bp.get("/3.0/currencies/<int:id_>/exchange_rates")
def currency_rates(id_):
    get_or_404("currency", id_)
    chf = store().get("currency", company(), 1)
    items = [
        {
            "factor_nr": 1.0,
            "exchange_currency": chf,
            "ratio": 1,
            "factor_nr_to_ratio": 1.0,
            "source": "custom",
            "source_reason": "source_custom",
            "exchange_rate_date": now_v2()[:10],
        }
    ]
    return respond(items, headers={"x-total-count": "1", "x-limit": "500", "x-offset": "0"})
