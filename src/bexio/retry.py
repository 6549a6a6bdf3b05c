"""Retry policy in one place. Small functions so that a test can pin them."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 30.0


def backoff_delay(attempt: int, *, base: float = BACKOFF_BASE_S, cap: float = BACKOFF_CAP_S) -> float:
    """Exponential back-off before retry number `attempt` (1 = first retry), without jitter."""
    return min(cap, base * (2 ** max(0, attempt - 1)))


def jitter(delay: float, *, rng: random.Random | None = None) -> float:
    """Spread waits so that many workers do not retry in lock-step: +0..25 % of the delay."""
    r = (rng or random).random()
    return delay + delay * 0.25 * r


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower())
    return value


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """`Retry-After` as seconds or an HTTP date; `RateLimit-Reset` as seconds."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def rate_limit_delay(headers: Mapping[str, str], attempt: int, *, cap: float) -> float:
    """How long to wait after a 429: Retry-After, else RateLimit-Reset, else back-off; capped."""
    wait = parse_retry_after(_header(headers, "Retry-After"))
    if wait is None:
        wait = parse_retry_after(_header(headers, "RateLimit-Reset"))
    if wait is None:
        wait = backoff_delay(attempt)
    return min(cap, jitter(wait))


def is_retryable(*, status: int | None, network_error: bool, idempotent: bool) -> bool:
    """429 always; 5xx and network failures only when the request is idempotent."""
    if status == 429:
        return True
    if not idempotent:
        return False
    return network_error or (status is not None and status >= 500)


@dataclass(frozen=True, slots=True)
class Retry:
    """Try again: after `wait_s` seconds, with a new token first when `refresh_token`."""

    wait_s: float = 0.0
    refresh_token: bool = False


def decide(
    *,
    status: int | None,
    headers: Mapping[str, str] | None,
    idempotent: bool,
    attempt: int,
    max_retries: int,
    cap: float,
    token_refreshed: bool = False,
) -> Retry | None:
    """The one retry decision after a failed attempt: how to try again, or None to give up.

    - 401: once per request, with a new token (does not count against `max_retries`);
    - 429: always (a refused request was not processed), after Retry-After / RateLimit-Reset;
    - 5xx and no answer (`status` None: timeout, refused, dropped): only idempotent requests
      (GET, searches), with exponential back-off and jitter; never a create, edit or action.
    """
    if status == 401:
        return None if token_refreshed else Retry(refresh_token=True)
    if attempt > max_retries:
        return None
    if not is_retryable(status=status, network_error=status is None, idempotent=idempotent):
        return None
    if status == 429:
        return Retry(wait_s=min(cap, rate_limit_delay(headers or {}, attempt, cap=cap)))
    return Retry(wait_s=min(cap, jitter(backoff_delay(attempt))))
