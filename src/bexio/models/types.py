"""Field types shared by the models: decimals, Zurich timestamps, id lists."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, PlainSerializer

ZURICH = ZoneInfo("Europe/Zurich")
SIX_PLACES = Decimal("0.000001")
V2_FORMAT = "%Y-%m-%d %H:%M:%S"


def quantize6(value: Decimal) -> Decimal:
    """At most 6 decimals (bexio's limit): more precision is rounded half-up."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -6:
        return value.quantize(SIX_PLACES, rounding=ROUND_HALF_UP)
    return value


def _to_decimal6(value: Any) -> Any:
    if isinstance(value, float):
        value = Decimal(repr(value))
    elif isinstance(value, int) and not isinstance(value, bool):
        value = Decimal(value)
    elif isinstance(value, str) and value.strip():
        value = Decimal(value.strip())
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("amount must be a finite number")
        return quantize6(value)
    return value


def _decimal_str(value: Decimal) -> str:
    return format(value, "f")


# Write side: Decimal, rounded half-up to 6 places, sent as a plain string ("1.5", never "1.5E+1").
Decimal6 = Annotated[
    Decimal,
    BeforeValidator(_to_decimal6),
    PlainSerializer(_decimal_str, return_type=str, when_used="always"),
]


def _json_number(value: Decimal) -> float:
    """A Decimal as a JSON number, only when the number written is exactly the Decimal."""
    number = float(value)
    if Decimal(repr(number)) != value:
        raise ValueError(f"{value} has too many digits to be sent exactly as a JSON number")
    return number


# Write side of the 3.0 API (JSON numbers, e.g. manual entry amounts): Decimal, rounded half-up to
# 6 places, sent as a number whose text is exactly the Decimal ("1234.5" -> 1234.5). Up to 15
# significant digits (CHF 999'999'999.999999) are exact; more is refused, never rounded silently.
Number6 = Annotated[
    Decimal,
    BeforeValidator(_to_decimal6),
    PlainSerializer(_json_number, return_type=float, when_used="json"),
]


def parse_zurich(value: Any) -> Any:
    """2.0 timestamps are Europe/Zurich local time without offset; ISO ones keep their offset."""
    if value in (None, "", "0000-00-00 00:00:00"):
        return None
    if isinstance(value, str):
        # fromisoformat reads both "YYYY-MM-DD HH:MM:SS" (2.0) and ISO with offset (3.0), fast.
        value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=ZURICH)
    return value


def format_zurich(value: datetime) -> str:
    """An aware datetime as bexio 2.0 wants it (naive ones are taken as Zurich local time)."""
    if value.tzinfo is not None:
        value = value.astimezone(ZURICH)
    return value.strftime(V2_FORMAT)


ZurichDateTime = Annotated[
    datetime,
    BeforeValidator(parse_zurich),
    PlainSerializer(format_zurich, return_type=str, when_used="json"),
]
IsoDateTime = Annotated[datetime, BeforeValidator(parse_zurich)]  # 3.0: ISO with offset


def _lenient_date(value: Any) -> Any:
    if value in ("", "0000-00-00"):
        return None
    if isinstance(value, str) and len(value) > 10 and value[10] in " T":
        return value[:10]  # bexio accepts (and sometimes returns) datetimes where dates belong
    return value


LenientDate = Annotated[date, BeforeValidator(_lenient_date)]


def _id_list(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        return [int(part) for part in value.split(",") if part.strip()]
    if isinstance(value, int):
        return [value]
    return value


def _join_ids(value: list[int] | None) -> str | None:
    return None if value is None else ",".join(str(v) for v in value)


# bexio sends and expects comma-separated id strings ("1,2"); the models use lists.
IdList = Annotated[
    list[int],
    BeforeValidator(_id_list),
    PlainSerializer(_join_ids, when_used="json"),
]


def _zero_is_none(value: Any) -> Any:
    return None if value in (0, "0", "") else value


# bexio reads "no salutation" as 0 but refuses 0 on write.
OptionalRef = Annotated[int | None, BeforeValidator(_zero_is_none)]
