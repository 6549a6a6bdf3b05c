"""Calendar years with behaviour of their own: search (dates compare as datetimes, as documented) and
create (the year and any before it that are missing, with the latest year's settings, and their
business years). Account groups, business years, VAT periods and the plain list/show of calendar
years are declared in resources.py; the data is seeded by chart.py (scope `accounting`)."""

from __future__ import annotations

from flask import Blueprint

from . import chart
from .clock import now_v3, this_year
from .context import company, store
from .listing import order, paginate, search
from .responses import invalid, json_body, respond

bp = Blueprint("accounting", __name__)


def _all(kind: str) -> list[dict]:
    return store().all(kind, company())


# calendar years ---------------------------------------------------------------------------------------
CALENDAR_SEARCH = ("start", "end", "is_vat_subject", "vat_accounting_method", "vat_accounting_type")
VAT_METHODS = ("effective", "net_tax")
VAT_TYPES = ("agreed", "collected")


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
    if year <= 2016 or year > this_year() + 10:
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
    with store().tx():
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
            id_ = store().next_id("calendar_year", company())
            stamp = now_v3()
            doc = {**chart.calendar_year(id_, y), **settings, "created_at": stamp, "updated_at": stamp}
            store().put("calendar_year", company(), id_, doc)
            business = chart.business_year(store().next_id("business_year", company()), y)
            store().put("business_year", company(), business["id"], business)
            created.append(doc)
    return respond(created, 201)
