"""Numbers, dates and months from URL parameters and form text, with bounds: never a 500.

    from aeroledger.tenancy.params import int_param, int_list_param, month_param, parse_month

    status = int_param(request.GET, "status", label=_("HTTP status"), min_value=100, max_value=599)
    ids = int_list_param(request.GET, "invoice", label=_("invoice"))        # ids, at most 500
    first, last = parse_month("2026-11", label=_("period"))               # raises BadParameter

A value that is not what the parameter takes raises `BadParameter` (a ValueError) whose message
names the parameter and what it takes. Raised in a view, `BadParameterMiddleware`
(tenancy/middleware.py) answers it with the 400 page showing that message; in a form's clean
method turn it into a ValidationError (`raise forms.ValidationError(str(exc))`).
Only ASCII digits count: "²" or "٣" are no numbers here (int() would take some of them).
"""

import calendar
import re
from datetime import date

from django.utils.translation import gettext as _

from .limits import FIRST_YEAR, LAST_YEAR, MAX_ID

_INT = re.compile(r"^[+-]?[0-9]{1,20}$", re.ASCII)
# 11.2026 (as a Swiss person writes a month) or 2026-11 (ISO, what a month picker sends).
_MONTHS = (
    re.compile(r"^(?P<m>[0-9]{1,2})\.(?P<y>[0-9]{4})$", re.ASCII),
    re.compile(r"^(?P<y>[0-9]{4})-(?P<m>[0-9]{1,2})$", re.ASCII),
)
_DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$", re.ASCII)
MAX_LIST = 500


class BadParameter(ValueError):
    """A URL parameter or a typed value that is not what it should be; the message says why."""


def parse_int(text, *, label, min_value: int = 1, max_value: int = MAX_ID) -> int:
    """`text` as a whole number from `min_value` to `max_value` (ids by default)."""
    value = (text or "").strip()
    if not _INT.match(value) or not min_value <= int(value) <= max_value:
        raise BadParameter(
            _("%(label)s must be a whole number from %(min)s to %(max)s (not %(value)s).")
            % {"label": _capital(label), "min": min_value, "max": max_value, "value": _shown(value)}
        )
    return int(value)


def parse_month(text, *, label) -> tuple[date, date]:
    """'11.2026' or '2026-11' -> (2026-11-01, 2026-11-30), for years FIRST_YEAR to LAST_YEAR."""
    value = (text or "").strip()
    match = next((m for m in (p.match(value) for p in _MONTHS) if m), None)
    if match is None or not 1 <= int(match["m"]) <= 12 or not FIRST_YEAR <= int(match["y"]) <= LAST_YEAR:
        raise BadParameter(
            _("%(label)s must be a month from %(first)s to %(last)s, e.g. 11.2026 (not %(value)s).")
            % {"label": _capital(label), "first": FIRST_YEAR, "last": LAST_YEAR, "value": _shown(value)}
        )
    year, month = int(match["y"]), int(match["m"])
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def parse_date(text, *, label) -> date:
    """'2026-11-24' -> date, for years FIRST_YEAR to LAST_YEAR."""
    value = (text or "").strip()
    match = _DATE.match(value)
    try:
        if not match or not FIRST_YEAR <= int(match.group(1)) <= LAST_YEAR:
            raise ValueError
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        raise BadParameter(
            _("%(label)s must be a date as YYYY-MM-DD from %(first)s to %(last)s (not %(value)s).")
            % {"label": _capital(label), "first": FIRST_YEAR, "last": LAST_YEAR, "value": _shown(value)}
        ) from None


def int_param(params, name: str, *, label, default=None, min_value: int = 1, max_value: int = MAX_ID):
    """The parameter `name` of a QueryDict as an int; `default` when absent or empty."""
    value = params.get(name)
    if value is None or not str(value).strip():
        return default
    return parse_int(value, label=label, min_value=min_value, max_value=max_value)


def int_list_param(
    params, name: str, *, label, min_value: int = 1, max_value: int = MAX_ID, max_count: int = MAX_LIST
) -> list[int]:
    """Every value of the parameter `name` (?invoice=1&invoice=2) as ints, empty ones skipped."""
    values = [v for v in params.getlist(name) if str(v).strip()]
    if len(values) > max_count:
        raise BadParameter(
            _("At most %(count)s values of %(label)s at once.") % {"count": max_count, "label": label}
        )
    return [parse_int(v, label=label, min_value=min_value, max_value=max_value) for v in values]


def month_param(params, name: str, *, label, default=None):
    """The parameter `name` as (first day, last day) of a month; `default` when absent or empty."""
    value = params.get(name)
    if value is None or not str(value).strip():
        return default
    return parse_month(value, label=label)


def date_param(params, name: str, *, label, default=None):
    value = params.get(name)
    if value is None or not str(value).strip():
        return default
    return parse_date(value, label=label)


def _capital(label) -> str:
    text = str(label)
    return text[:1].upper() + text[1:]


def _shown(value: str) -> str:
    """The offending value, quoted and cut short (it is shown on a page)."""
    return repr(value if len(value) <= 40 else value[:40] + "…")
