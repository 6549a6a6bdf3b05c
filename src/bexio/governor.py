"""Pace requests per bexio company and rate bucket so that a busy transfer does not run into 429.

bexio counts requests per company, per minute, in several buckets (`bexio.buckets`): searches and
PDFs have 250 a minute each, articles 400, everything else 1000. Every answer reports its bucket's
`ratelimit-limit`, `ratelimit-remaining` and `ratelimit-reset` (seconds to the next window).

A `RateGovernor` keeps one budget per bucket for its company. Each budget:
- lets requests go freely while more than `burst_fraction * limit` remain in the window;
- below that spreads what remains (minus `reserve`) evenly over the rest of the window;
- with nothing left (or after a 429 with `Retry-After`) makes callers wait for the window to end.
Buckets never wait for each other: a search answer with 3 left slows searches, not invoice creation.

Several processes or machines: each process has its own governor, and they share nothing but
bexio's counter. Every answer carries the company's *remaining* budget for that bucket, which
counts the requests of all processes, so each governor sees the others' usage with the delay of
one answer and slows down as the shared budget shrinks (while pacing, each process spreads what
*it* sees remain; N processes together spend it faster, see less remaining at once and stretch
their spacing: the combined rate falls towards zero before the window ends instead of overshooting).
What it cannot prevent: requests already in flight when the budget runs low (at most one per
thread per process), and the `reserve` held back per process, not per company. A 429 that slips
through is answered with `Retry-After`; the client waits that long (on that bucket only) and retries.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import ClassVar

from bexio.buckets import DEFAULT, limit_of

__all__ = ["Budget", "RateGovernor"]

RESET_MARGIN_S = 1.0


def _int_header(headers: Mapping[str, str], *names: str) -> int | None:
    for name in names:
        value = headers.get(name)
        if value is not None:
            try:
                return int(float(value))
            except ValueError:
                return None
    return None


class Budget:
    """One bucket's budget in bexio's current window. Thread-safe; time comes from the caller."""

    __slots__ = ("_lock", "_next_slot", "bucket", "limit", "remaining", "window_end")

    def __init__(self, bucket: str, limit: int) -> None:
        self.bucket = bucket
        self.limit = limit  # the recorded limit until an answer tells the real one
        self.remaining: int | None = None  # unknown until an answer of this window arrives
        self.window_end: float | None = None
        self._next_slot = 0.0
        self._lock = threading.Lock()

    def delay(self, now: float, *, burst_fraction: float, reserve: int) -> float:
        """Reserve a slot for one request and return how long to wait before sending it."""
        with self._lock:
            if self.window_end is None or self.remaining is None:
                return 0.0
            if now >= self.window_end:
                # The window has reset; the next answer tells the new budget.
                self.window_end = self.remaining = None
                self._next_slot = 0.0
                return 0.0
            usable = self.remaining - reserve
            if usable <= 0:
                # Nothing left in this window: wait for it to reset. The first caller then learns
                # the new numbers; the others spread out behind it.
                slot = max(self.window_end, self._next_slot)
                self._next_slot = slot + 0.05
                return slot - now
            self.remaining -= 1
            if usable > self.limit * burst_fraction:
                return 0.0
            slot = max(now, self._next_slot)
            self._next_slot = slot + max(0.0, self.window_end - slot) / usable
            return slot - now

    def observe(self, now: float, *, remaining: int, reset: float, limit: int | None) -> None:
        with self._lock:
            window_end = now + max(0.0, reset)
            if limit is not None and limit > 0:
                self.limit = limit
            new_window = self.window_end is None or window_end > self.window_end + 1.0
            if new_window or self.remaining is None:
                self.remaining = remaining
                if new_window:
                    self._next_slot = min(self._next_slot, now)
            else:
                # Answers of concurrent requests arrive out of order: keep the lowest count.
                self.remaining = min(self.remaining, remaining)
            self.window_end = window_end

    def snapshot(self, now: float) -> dict[str, float | int | None]:
        with self._lock:
            return {
                "limit": self.limit,
                "remaining": self.remaining,
                "reset_in": None if self.window_end is None else self.window_end - now,
            }


class RateGovernor:
    """Shared by all threads (and clients) of a process that talk to one bexio company.

    The client calls `acquire(bucket)` before and `observe(status, headers, bucket)` after each
    request (`bexio.buckets.bucket_for(method, path)` names the bucket).
    """

    _registry: ClassVar[dict[str, RateGovernor]] = {}
    _registry_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        company_id: str | None = None,
        *,
        burst_fraction: float = 0.1,
        reserve: int = 2,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.company_id = company_id
        self.burst_fraction = burst_fraction
        self.reserve = reserve
        self._clock = clock
        self._sleep = sleep
        self._budgets: dict[str, Budget] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RateGovernor(company_id={self.company_id!r}, buckets={sorted(self._budgets)})"

    @classmethod
    def for_company(cls, company_id: str | int) -> RateGovernor:
        """The one governor of this process for a bexio company."""
        key = str(company_id)
        with cls._registry_lock:
            governor = cls._registry.get(key)
            if governor is None:
                governor = cls._registry[key] = cls(key)
            return governor

    def budget(self, bucket: str = DEFAULT) -> Budget:
        budget = self._budgets.get(bucket)
        if budget is None:
            with self._lock:
                budget = self._budgets.setdefault(bucket, Budget(bucket, limit_of(bucket)))
        return budget

    def delay(self, bucket: str = DEFAULT) -> float:
        """Reserve a slot in `bucket` for one request; returns how long to wait before sending."""
        return self.budget(bucket).delay(
            self._clock(), burst_fraction=self.burst_fraction, reserve=self.reserve
        )

    def acquire(self, bucket: str = DEFAULT) -> float:
        """Wait (outside any lock) until a request of `bucket` may go; returns the seconds waited."""
        wait = self.delay(bucket)
        if wait > 0:
            self._sleep(wait)
        return wait

    def observe(self, status: int | None, headers: Mapping[str, str], bucket: str = DEFAULT) -> None:
        """Learn `bucket`'s budget from an answer's headers (httpx headers are case-insensitive)."""
        remaining = _int_header(headers, "ratelimit-remaining", "x-ratelimit-remaining-minute")
        reset = _int_header(headers, "ratelimit-reset")
        limit = _int_header(headers, "ratelimit-limit", "x-ratelimit-limit-minute")
        margin = RESET_MARGIN_S
        if status == 429:
            retry_after = _int_header(headers, "retry-after")
            if retry_after is not None:
                reset, margin = retry_after, 0.0  # bexio says exactly when to come back
            remaining = 0
        if remaining is None or reset is None:
            return
        # `ratelimit-reset` is whole seconds (rounded down or up: bexio does not say), so the
        # window is taken to end up to a second later, never earlier.
        self.budget(bucket).observe(self._clock(), remaining=remaining, reset=reset + margin, limit=limit)

    def snapshot(self, bucket: str = DEFAULT) -> dict[str, float | int | None]:
        """`{"limit", "remaining", "reset_in"}` of one bucket (for logs and tests)."""
        return self.budget(bucket).snapshot(self._clock())

    def snapshots(self) -> dict[str, dict[str, float | int | None]]:
        """The snapshot of every bucket this governor has seen."""
        now = self._clock()
        return {name: budget.snapshot(now) for name, budget in sorted(self._budgets.items())}
