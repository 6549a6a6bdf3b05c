"""Search criteria for `POST <resource>/search`.

Several criteria are combined with AND. `in` / `not_in` take a list of values, sent as a JSON
array of strings (`["7", "8"]`). bexio documents the `in` criteria but not its value format (the
schema says "string <= 255 characters" for every value); the array is what other clients send
and what the sandbox accepts, and the docs leave it unverified against api.bexio.com.

Searches have their own rate buckets at 250 a minute (`bexio.buckets`): look up many values with
one `in` search (`Criterion.is_in`, `Criterion.batches`, `resource.search_in`) instead of one
search per value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
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
IN_BATCH_SIZE = 100  # values per `in` search; long lists are split into several searches
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

    @classmethod
    def is_in(cls, field: str, values: Iterable[Any]) -> Criterion:
        """`field` equals one of `values` (bexio's `in`)."""
        return cls(field, "in", list(values))

    @classmethod
    def not_in(cls, field: str, values: Iterable[Any]) -> Criterion:
        return cls(field, "not_in", list(values))

    @classmethod
    def batches(cls, field: str, values: Iterable[Any], *, size: int = IN_BATCH_SIZE) -> Iterator[Criterion]:
        """`in` criteria for `values` (duplicates dropped, order kept), at most `size` values each."""
        if size < 1:
            raise ValueError("size must be at least 1")
        unique = list(dict.fromkeys(values))
        for start in range(0, len(unique), size):
            yield cls(field, "in", unique[start : start + size])


def _shortcut(criteria: str) -> classmethod:
    def make(cls: type[Criterion], field: str, value: Any) -> Criterion:
        return cls(field, criteria, value)

    return classmethod(make)


Criterion.eq = _shortcut("=")  # type: ignore[assignment]
Criterion.gt = _shortcut(">")  # type: ignore[assignment]
Criterion.gte = _shortcut(">=")  # type: ignore[assignment]
Criterion.like = _shortcut("like")  # type: ignore[assignment]
