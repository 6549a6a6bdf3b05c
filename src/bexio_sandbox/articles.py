"""Items (`/2.0/article`, scope article): create (201) and edit answer with the decimals as sent and
the stock counters as strings, as recorded; list, show, search and delete are declared in
resources.py. An article's `account_id` and `tax_id` become its positions' defaults."""

from __future__ import annotations

from flask import Blueprint

from . import seed
from .context import company, get_or_404, store, user_id
from .decimals import fixed6, parse_decimal
from .responses import invalid, json_body, respond

bp = Blueprint("articles", __name__)


def _ref_exists(kind: str, value) -> bool:
    return value is None or store().get(kind, company(), value) is not None


ARTICLE_DECIMALS = ("purchase_price", "sale_price", "purchase_total", "sale_total", "delivery_price")
ARTICLE_STOCK = (
    "stock_nr",
    "stock_min_nr",
    "stock_reserved_nr",
    "stock_available_nr",
    "stock_picked_nr",
    "stock_disposed_nr",
    "stock_ordered_nr",
)
ARTICLE_REFS = (
    ("currency_id", "currency"),
    ("tax_income_id", "tax"),
    ("tax_id", "tax"),
    ("tax_expense_id", "tax"),
    ("unit_id", "unit"),
    ("contact_id", "contact"),
    ("account_id", "account"),
    ("expense_account_id", "account"),
)


def _apply_article(data: dict, doc: dict) -> dict:
    errors = []
    for key in doc:
        if key in data and key not in ("id", "user_id", "stock_available_nr") + ARTICLE_DECIMALS:
            doc[key] = data[key]
    for key in ARTICLE_DECIMALS:
        if key in data:
            value, _ = parse_decimal(data[key], key)
            doc[key] = fixed6(value)
    if doc.get("article_type_id") not in (1, 2):
        errors.append("article_type_id: The value you selected is not a valid choice.")
    if not doc.get("intern_name"):
        errors.append("intern_name: This value should not be blank.")
    for key, kind in ARTICLE_REFS:
        if not _ref_exists(kind, doc.get(key)):
            errors.append(f"{key}: This value is not valid.")
    if errors:
        raise invalid(*errors)
    return doc


def _article_echo(doc: dict, data: dict, creating: bool) -> dict:
    """Create answers carry the stock counters as strings, edit answers only the first two (as recorded)."""
    out = dict(doc)
    for key in ARTICLE_DECIMALS:
        if key in data and data[key] is not None:
            out[key] = data[key] if isinstance(data[key], str) else str(data[key])
    for key in ARTICLE_STOCK if creating else ARTICLE_STOCK[:2]:
        if key != "stock_available_nr":
            out[key] = str(out[key])
    return out


@bp.post("/2.0/article")
def article_create():
    data = json_body()
    base = dict(seed.ARTICLES[0])
    base.update(
        {k: None for k in ("intern_code", "intern_name", "sale_price", "tax_id", "unit_id", "account_id")}
    )
    base.update(
        {
            "intern_description": "",
            "article_type_id": data.get("article_type_id"),
            "currency_id": 1,
            "user_id": data.get("user_id") or user_id(),
            "intern_code": "",
        }
    )
    with store().tx():
        doc = _apply_article(data, base)
        doc["id"] = store().next_id("article", company())
        store().put("article", company(), doc["id"], doc)
    return respond(_article_echo(doc, data, True), 201)


@bp.post("/2.0/article/<int:id_>")
def article_edit(id_):
    data = json_body()
    with store().tx():
        doc = _apply_article(data, get_or_404("article", id_))
        store().put("article", company(), id_, doc)
    return respond(_article_echo(doc, data, False))
