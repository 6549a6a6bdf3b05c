"""Search criteria for `POST <resource>/search`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from bexio.models.types import format_zurich

CRITERIA = frozenset(
    {
        "=", "equal", "!=", "not_equal",
        ">", "greater_than", ">=", "greater_equal",
        "<", "less_than", "<=", "less_equal",
        "like", "not_like", "is_null", "not_null", "in", "not_in",
    }
)  # fmt: skip
LIST_CRITERIA = frozenset({"in", "not_in"})
NULL_CRITERIA = frozenset({"is_null", "not_null"})


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_zurich(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int | float):
        return str(value)
    return value


@dataclass(frozen=True, slots=True)
class Criterion:
    """One condition; several are combined with AND by bexio."""

    field: str
    criteria: str = "="
    value: Any = None

    def __post_init__(self) -> None:
        if self.criteria not in CRITERIA:
            raise ValueError(f"unknown bexio search criteria {self.criteria!r}")
        if self.criteria in LIST_CRITERIA and not isinstance(self.value, list | tuple | set | frozenset):
            raise ValueError(f"criteria {self.criteria!r} needs a list value")

    def to_bexio(self) -> dict[str, Any]:
        if self.criteria in NULL_CRITERIA:
            value: Any = ""
        elif self.criteria in LIST_CRITERIA:
            value = [_encode(v) for v in self.value]
        else:
            value = _encode(self.value)
        return {"field": self.field, "value": value, "criteria": self.criteria}

    eq: ClassVar[Callable[..., Criterion]]
    gt: ClassVar[Callable[..., Criterion]]
    gte: ClassVar[Callable[..., Criterion]]
    like: ClassVar[Callable[..., Criterion]]


def _shortcut(criteria: str) -> classmethod:
    def make(cls: type[Criterion], field: str, value: Any) -> Criterion:
        return cls(field, criteria, value)

    return classmethod(make)


Criterion.eq = _shortcut("=")  # type: ignore[assignment]
Criterion.gt = _shortcut(">")  # type: ignore[assignment]
Criterion.gte = _shortcut(">=")  # type: ignore[assignment]
Criterion.like = _shortcut("like")  # type: ignore[assignment]
