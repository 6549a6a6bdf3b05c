"""bexio's numbers: 2.0 money and quantities are decimal strings with at most 6 decimals, echoed as
sent on create and normalised on later reads; computed values come back in their shortest form."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .responses import invalid


def parse_decimal(
    value, field: str, *, required: bool = False, default=None
) -> tuple[Decimal | None, str | None]:
    """-> (Decimal, raw string as sent); 422 for non-numbers and more than 6 decimals."""
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


def to_decimal(value) -> Decimal:
    """A stored number (string, int, float or None = 0) as a Decimal."""
    return Decimal(str(value)) if value is not None else Decimal(0)


def _fixed(d, places: str) -> str | None:
    return None if d is None else f"{to_decimal(d).quantize(Decimal(places), ROUND_HALF_UP):f}"


def fixed6(d) -> str | None:
    """ "19.170000": how bexio reads back amounts, prices and totals."""
    return _fixed(d, "0.000001")


def fixed4(d) -> str | None:
    """ "1.5528": taxes and remaining amounts."""
    return _fixed(d, "0.0001")


def fixed2(d) -> str | None:
    """ "8.10": tax rates."""
    return _fixed(d, "0.01")


def shortest(d) -> str | None:
    """Shortest form, as bexio echoes computed values on create: 100 -> "100", 19.150 -> "19.15"."""
    if d is None:
        return None
    q = to_decimal(d).quantize(Decimal("0.000001"), ROUND_HALF_UP).normalize()
    text = f"{q:f}"
    return "0" if text in ("-0", "0") else text


def json_number(value) -> int | float:
    """A decimal as a JSON number (3.0 answers), exact for the amounts the sandbox books."""
    d = to_decimal(value)
    return int(d) if d == d.to_integral_value() else float(d)
