"""Pace requests per bexio company so that a busy transfer does not run into 429."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import ClassVar


def _int_header(headers: Mapping[str, str], *names: str) -> int | None:
    for name in names:
        value = headers.get(name)
        if value is not None:
            try:
                return int(float(value))
            except ValueError:
                return None
    return None


class RateGovernor:
    """Shared by all threads (and clients) that talk to one bexio company.

    bexio limits requests per company per minute and reports `ratelimit-limit`,
    `ratelimit-remaining` and `ratelimit-reset` (seconds to the next window) on every answer.
    While more than `burst_fraction * limit` requests remain, requests go freely; below that the
    remaining budget (minus `reserve`) is spread evenly over the rest of the window. With no budget
    left, callers wait for the window to reset.
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
        self._lock = threading.Lock()
        self._limit: int | None = None
        self._remaining: int | None = None
        self._window_end: float | None = None
        self._next_slot = 0.0

    @classmethod
    def for_company(cls, company_id: str | int) -> RateGovernor:
        key = str(company_id)
        with cls._registry_lock:
            governor = cls._registry.get(key)
            if governor is None:
                governor = cls._registry[key] = cls(key)
            return governor

    def delay(self) -> float:
        """Reserve a slot for one request and return how long to wait before sending it."""
        with self._lock:
            now = self._clock()
            if self._window_end is None or self._remaining is None:
                return 0.0
            if now >= self._window_end:
                # The window has reset; we learn the new budget from the next answer.
                self._window_end = None
                self._remaining = None
                self._next_slot = 0.0
                return 0.0
            usable = self._remaining - self.reserve
            if usable <= 0:
                # No budget left in this window: wait for it to reset. The first caller then
                # refreshes the numbers; others spread out behind it.
                slot = max(self._window_end, self._next_slot)
                self._next_slot = slot + 0.05
                return slot - now
            self._remaining -= 1
            burst = (self._limit or 0) * self.burst_fraction
            if usable > burst:
                return 0.0
            slot = max(now, self._next_slot)
            self._next_slot = slot + max(0.0, self._window_end - slot) / usable
            return slot - now

    def acquire(self) -> float:
        """Wait (outside the lock) until this request may go; returns the seconds waited."""
        wait = self.delay()
        if wait > 0:
            self._sleep(wait)
        return wait

    def observe(self, status: int | None, headers: Mapping[str, str]) -> None:
        """Learn the budget from an answer's headers (httpx headers are case-insensitive)."""
        remaining = _int_header(headers, "ratelimit-remaining", "x-ratelimit-remaining-minute")
        reset = _int_header(headers, "ratelimit-reset")
        limit = _int_header(headers, "ratelimit-limit", "x-ratelimit-limit-minute")
        if status == 429:
            retry = _int_header(headers, "retry-after")
            reset = reset if reset is not None else retry
            remaining = 0
        if remaining is None or reset is None:
            return
        with self._lock:
            now = self._clock()
            window_end = now + max(0, reset)
            if limit is not None:
                self._limit = limit
            new_window = self._window_end is None or window_end > self._window_end + 1.0
            if new_window or self._remaining is None:
                self._remaining = remaining
                self._next_slot = min(self._next_slot, now) if new_window else self._next_slot
            else:
                # Answers of concurrent requests arrive out of order: keep the lowest count.
                self._remaining = min(self._remaining, remaining)
            self._window_end = window_end

    def snapshot(self) -> dict[str, float | int | None]:
        with self._lock:
            return {
                "limit": self._limit,
                "remaining": self._remaining,
                "reset_in": None if self._window_end is None else self._window_end - self._clock(),
            }
