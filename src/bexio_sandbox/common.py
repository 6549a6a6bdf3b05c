"""Shared helpers of the API: responses, errors, decimals, timestamps, lists, order, search."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from flask import Response, current_app, request

ZURICH = ZoneInfo("Europe/Zurich")


class ApiError(Exception):
    def __init__(self, status: int, message: str, errors=None):
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors


def sb():
    return current_app.config["SANDBOX"]


def company() -> str:
    return request.environ["sandbox.company"]


def respond(data, status: int = 200, etag: bool = False, headers: dict | None = None) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    resp = Response(body, status=status, mimetype="application/json")
    if etag:
        resp.headers["etag"] = hashlib.md5(body.encode()).hexdigest()  # noqa: S324 (not security)
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def success() -> Response:
    return respond({"success": True})


def error_body(status: int, message: str, errors=None) -> dict:
    body = {"error_code": status, "message": message}
    if errors:
        body["errors"] = errors
    return body


def not_found():
    return ApiError(404, "Not found")


def invalid(*errors: str) -> ApiError:
    return ApiError(422, "The form could not be saved due to the following errors:", list(errors))


def now_v2() -> str:
    return datetime.now(ZURICH).strftime("%Y-%m-%d %H:%M:%S")


def today() -> str:
    return datetime.now(ZURICH).date().isoformat()


def plus_days(date: str, days: int) -> str:
    return (datetime.fromisoformat(date[:10]) + timedelta(days=days)).date().isoformat()


def json_body(kind=dict):
    data = request.get_json(silent=True, force=True)
    if data is None:
        data = {} if kind is dict else []
    if not isinstance(data, kind):
        raise invalid("The request body is not valid JSON of the expected shape")
    return data


# decimals ----------------------------------------------------------------------------------------
def dec(value, field: str, *, required: bool = False, default=None) -> tuple[Decimal | None, str | None]:
    """-> (Decimal, raw string as sent) ; 422 for non-numbers and more than 6 decimals."""
    if value is None or value == "":
        if required:
            raise invalid(f"{field}: This value should not be blank.")
        if default is None:
            return None, None
        value = default
    if isinstance(value, bool):
        raise invalid(f"{field}: This value is not a valid number.")
    raw = value if isinstance(value, str) else json.dumps(value)
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        raise invalid(f"{field}: This value is not a valid number.") from None
    if not d.is_finite():
        raise invalid(f"{field}: This value is not a valid number.")
    if -d.as_tuple().exponent > 6:
        raise invalid(f"{field}: This value has more than 6 decimals.")
    return d, raw


def D(value) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


def f6(d) -> str | None:
    return None if d is None else f"{D(d).quantize(Decimal('0.000001'), ROUND_HALF_UP):f}"


def f4(d) -> str | None:
    return None if d is None else f"{D(d).quantize(Decimal('0.0001'), ROUND_HALF_UP):f}"


def f2(d) -> str | None:
    return None if d is None else f"{D(d).quantize(Decimal('0.01'), ROUND_HALF_UP):f}"


def fmin(d) -> str | None:
    """Shortest form, as bexio echoes computed values on create: 100 -> "100", 19.150 -> "19.15"."""
    if d is None:
        return None
    q = D(d).quantize(Decimal("0.000001"), ROUND_HALF_UP).normalize()
    text = f"{q:f}"
    return "0" if text in ("-0", "0") else text


# lists ------------------------------------------------------------------------------------------
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
    import re

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
