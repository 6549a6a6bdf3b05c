"""Lists as bexio serves them: `limit` (default 500, max 2000) and `offset`, `order_by=field[_asc|_desc],…`,
and searches: `POST …/search` with `[{"field", "value", "criteria"}]`, AND-combined, `like` by default;
a field a resource does not search by is 422."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask import request

from .responses import ApiError, invalid, json_body, respond


def paginate(items: list, default_limit: int = 500) -> list:
    try:
        limit = int(request.args.get("limit", default_limit))
        offset = int(request.args.get("offset", 0))
    except ValueError:
        raise ApiError(400, "Parameters are invalid") from None
    limit = max(0, min(limit, 2000))
    offset = max(0, offset)
    return items[offset : offset + limit]


def _sort_key(value):
    if value is None:
        return (0, 0, "")
    if isinstance(value, bool):
        return (1, int(value), "")
    if isinstance(value, (int, float)):
        return (1, value, "")
    try:
        return (1, float(Decimal(str(value))), "")
    except (InvalidOperation, ValueError):
        return (2, 0, str(value).lower())


def order(items: list, allowed: tuple[str, ...]) -> list:
    spec = request.args.get("order_by")
    if not spec:
        return items
    keys = []
    for part in spec.split(","):
        part = part.strip()
        desc = part.endswith("_desc")
        name = part[:-5] if desc else part[:-4] if part.endswith("_asc") else part
        if name not in allowed:
            raise ApiError(400, f"Ordering by '{name}' is not allowed")
        keys.append((name, desc))
    for name, desc in reversed(keys):
        items = sorted(items, key=lambda d, n=name: _sort_key(d.get(n)), reverse=desc)
    return items


CRITERIA = {
    "=": "=",
    "==": "=",
    "equal": "=",
    "!=": "!=",
    "not_equal": "!=",
    ">": ">",
    "greater_than": ">",
    ">=": ">=",
    "greater_equal": ">=",
    "<": "<",
    "less_than": "<",
    "<=": "<=",
    "less_equal": "<=",
    "like": "like",
    "not_like": "not_like",
    "is_null": "is_null",
    "not_null": "not_null",
    "in": "in",
    "not_in": "not_in",
}


def _cmp_values(a, b):
    try:
        return Decimal(str(a)), Decimal(str(b))
    except (InvalidOperation, ValueError):
        return str(a).lower(), str(b).lower()


def _like(actual, pattern) -> bool:
    text = "" if actual is None else str(actual).lower()
    pat = str(pattern).lower()
    if "%" not in pat and "_" not in pat:
        return pat in text
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pat)
    return re.fullmatch(regex, text, re.DOTALL) is not None


def _in_list(value) -> list[str]:
    if isinstance(value, list):
        return [str(v).lower() for v in value]
    return [v.strip().lower() for v in str(value).split(",")]


def matches(doc: dict, field: str, op: str, value) -> bool:
    actual = doc.get(field)
    if op == "is_null":
        return actual is None or actual == ""
    if op == "not_null":
        return not (actual is None or actual == "")
    if op == "like":
        return _like(actual, value)
    if op == "not_like":
        return not _like(actual, value)
    if op in ("in", "not_in"):
        inside = str(actual).lower() in _in_list(value) if actual is not None else False
        if isinstance(actual, str) and "," in actual and field.endswith("_ids"):
            inside = bool(set(actual.split(",")) & set(_in_list(value)))
        return inside if op == "in" else not inside
    if actual is None:
        return op == "!="
    if isinstance(actual, bool):
        actual = int(actual)
        value = {"true": 1, "false": 0}.get(str(value).lower(), value)
    a, b = _cmp_values(actual, value)
    if type(a) is not type(b):
        a, b = str(actual).lower(), str(value).lower()
    return {"=": a == b, "!=": a != b, ">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b}[op]


def search(items: list, allowed: tuple[str, ...]) -> list:
    criteria = json_body(list)
    checks = []
    for c in criteria:
        if not isinstance(c, dict) or "field" not in c:
            raise invalid("Each search criterion needs a field and a value")
        field = c["field"]
        if field not in allowed:
            raise invalid(f"field: The field '{field}' is not allowed for searching.")
        op = CRITERIA.get(str(c.get("criteria") or "like").lower())
        if op is None:
            raise invalid(f"criteria: '{c.get('criteria')}' is not a valid criteria.")
        checks.append((field, op, c.get("value")))
    return [d for d in items if all(matches(d, f, o, v) for f, o, v in checks)]


def list_response(items: list, *, order_fields=(), default_limit: int = 500, v3: bool = False):
    """A list answer: ordered (when the resource allows `order_by`), one page, and on the 3.0 lists
    that have them the `x-total-count`, `x-limit`, `x-offset` headers."""
    items = order(items, order_fields) if order_fields else items
    headers = None
    if v3:
        headers = {
            "x-total-count": str(len(items)),
            "x-limit": request.args.get("limit", str(default_limit)),
            "x-offset": request.args.get("offset", "0"),
        }
    return respond(paginate(items, default_limit), headers=headers)
