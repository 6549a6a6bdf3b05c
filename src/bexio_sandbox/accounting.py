"""Accounting master data as bexio documents it: account groups (2.0), calendar years, business years
and VAT periods (3.0, scope `accounting`). The data is seeded by chart.py."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint

from . import chart
from .common import ZURICH, company, invalid, json_body, not_found, order, paginate, respond, sb, search

bp = Blueprint("accounting", __name__)


def _all(kind: str) -> list[dict]:
    return sb().store.all(kind, company())


def _one(kind: str, id_) -> dict:
    doc = sb().store.get(kind, company(), id_)
    if doc is None:
        raise not_found()
    return doc


@bp.get("/2.0/account_groups")
def account_groups():
    return respond(paginate(_all("account_group")))


@bp.get("/3.0/accounting/business_years")
def business_years():
    return respond(paginate(_all("business_year")))


@bp.get("/3.0/accounting/business_years/<int:id_>")
def business_year(id_):
    return respond(_one("business_year", id_))


@bp.get("/3.0/accounting/vat_periods")
def vat_periods():
    return respond(paginate(_all("vat_period")))


@bp.get("/3.0/accounting/vat_periods/<int:id_>")
def vat_period(id_):
    return respond(_one("vat_period", id_))


# calendar years ---------------------------------------------------------------------------------------
CALENDAR_SEARCH = ("start", "end", "is_vat_subject", "vat_accounting_method", "vat_accounting_type")
VAT_METHODS = ("effective", "net_tax")
VAT_TYPES = ("agreed", "collected")


@bp.get("/3.0/accounting/calendar_years")
def calendar_years():
    return respond(paginate(_all("calendar_year")))


@bp.get("/3.0/accounting/calendar_years/<int:id_>")
def calendar_year(id_):
    return respond(_one("calendar_year", id_))


@bp.post("/3.0/accounting/calendar_years/search")
def calendar_years_search():
    """As the docs warn: `start`/`end` compare as datetimes ("2018-12-31 23:59:59"); `like` finds a date."""
    years = {y["id"]: y for y in _all("calendar_year")}
    searchable = [
        {**y, "start": f"{y['start']} 00:00:00", "end": f"{y['end']} 23:59:59"} for y in years.values()
    ]
    found = order(search(searchable, CALENDAR_SEARCH), ("id", "start", "end"))
    return respond(paginate([years[y["id"]] for y in found]))


@bp.post("/3.0/accounting/calendar_years")
def calendar_year_create():
    """`year` alone: that year (and any between) with the latest year's settings; else all settings."""
    data = json_body()
    text = str(data.get("year") or "").strip()
    if not text.isdigit():
        raise invalid("year: This value should not be blank.")
    year = int(text)
    this_year = datetime.now(ZURICH).year
    if year <= 2016 or year > this_year + 10:
        raise invalid("year: Years from 2017 up to ten years ahead can be created.")
    settings = {
        k: data[k] for k in ("is_vat_subject", "vat_accounting_method", "vat_accounting_type") if k in data
    }
    if settings and len(settings) < 3:
        raise invalid("is_vat_subject, vat_accounting_method and vat_accounting_type go together.")
    if settings.get("vat_accounting_method", VAT_METHODS[0]) not in VAT_METHODS:
        raise invalid("vat_accounting_method: The value you selected is not a valid choice.")
    if settings.get("vat_accounting_type", VAT_TYPES[0]) not in VAT_TYPES:
        raise invalid("vat_accounting_type: The value you selected is not a valid choice.")
    store = sb().store
    with store.tx():
        existing = _all("calendar_year")
        have = {int(y["start"][:4]) for y in existing}
        if year in have:
            raise invalid("year: This calendar year already exists.")
        latest = max(existing, key=lambda y: y["start"]) if existing else chart.calendar_year(0, year)
        settings = settings or {
            k: latest[k] for k in ("is_vat_subject", "vat_accounting_method", "vat_accounting_type")
        }
        first = max(have) + 1 if have and max(have) < year else year
        created = []
        for y in range(first, year + 1):
            if y in have:
                continue
            id_ = store.next_id("calendar_year", company())
            stamp = datetime.now(ZURICH).isoformat(timespec="seconds")
            doc = {**chart.calendar_year(id_, y), **settings, "created_at": stamp, "updated_at": stamp}
            store.put("calendar_year", company(), id_, doc)
            business = chart.business_year(store.next_id("business_year", company()), y)
            store.put("business_year", company(), business["id"], business)
            created.append(doc)
    return respond(created, 201)
