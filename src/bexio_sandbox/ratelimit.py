"""bexio's rate limits: one counter per (company, bucket), fixed windows, Kong's headers.

The recordings (shared/reference/bexio-recorded, real api.bexio.com answers) show separate counters:
`ratelimit-limit` 250 on the contact, invoice and article searches and on the invoice PDF (each its
own counter: contact and invoice search both answered `ratelimit-remaining: 249` while other routes
were near 900), 400 on the article routes (list, show, create, edit and delete share one counter:
remaining 398..392 across them), 1000 on everything else. `BUCKETS` is the one place that says so;
the client (src/bexio) keeps the same table and a test compares the two.

Limits are per minute. The default bucket's limit and window are the settings `rate_limit` and
`rate_window_s` (`--rate-limit N/S`); the other buckets keep their recorded limit unless
`rate_limits: {bucket: n}` (`--rate-limit bucket=n`) says otherwise, and a one-minute window. A bench
that raises the default to 6000/min therefore still meets the searches at 250/min, as against bexio.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass

DEFAULT = "default"


@dataclass(frozen=True)
class Bucket:
    name: str
    limit: int  # requests per minute, as recorded
    routes: tuple[tuple[str, str], ...]  # (method, path template); the default bucket takes the rest


BUCKETS: tuple[Bucket, ...] = (
    Bucket("contact_search", 250, (("POST", "/2.0/contact/search"),)),
    Bucket("kb_invoice_search", 250, (("POST", "/2.0/kb_invoice/search"),)),
    Bucket("article_search", 250, (("POST", "/2.0/article/search"),)),
    Bucket("kb_invoice_pdf", 250, (("GET", "/2.0/kb_invoice/{id}/pdf"),)),
    Bucket(
        "article",
        400,
        (
            ("GET", "/2.0/article"),
            ("POST", "/2.0/article"),
            ("GET", "/2.0/article/{id}"),
            ("POST", "/2.0/article/{id}"),
            ("DELETE", "/2.0/article/{id}"),
        ),
    ),
    Bucket(DEFAULT, 1000, ()),
)
LIMITS: dict[str, int] = {b.name: b.limit for b in BUCKETS}
WINDOW_S = 60


def _compile(template: str) -> re.Pattern:
    """`/2.0/kb_invoice/{id}/pdf` -> a pattern where each `{placeholder}` is one path segment."""
    return re.compile("^" + "[^/]+".join(re.escape(p) for p in re.split(r"\{[^}]+\}", template)) + "$")


# exact (method, path) first, then the templated routes; an exact match wins (POST /2.0/article/search)
_EXACT = {(m, t): b.name for b in BUCKETS for m, t in b.routes if "{" not in t}
_TEMPLATED = [(m, _compile(t), b.name) for b in BUCKETS for m, t in b.routes if "{" in t]


def bucket_for(method: str, path: str) -> str:
    """The bucket that counts a request (known before it is answered)."""
    path = path.rstrip("/") or "/"
    found = _EXACT.get((method, path))
    if found:
        return found
    if path.startswith(("/2.0/article/", "/2.0/kb_invoice/")):
        for m, pattern, name in _TEMPLATED:
            if m == method and pattern.match(path):
                return name
    return DEFAULT


def parse_override(text: str) -> tuple[str, int, int | None]:
    """`--rate-limit` values: `N/S` or `N` (the default bucket), `bucket=N` or `bucket=N/S`."""
    name, sep, value = text.partition("=")
    if not sep:
        name, value = DEFAULT, text
    name = name.strip()
    if name not in LIMITS:
        raise ValueError(f"unknown rate-limit bucket {name!r} (buckets: {', '.join(LIMITS)})")
    limit, _, window = value.partition("/")
    try:
        return name, int(limit), int(window) if window else None
    except ValueError:
        raise ValueError(f"rate limit {text!r}: expected N, N/S, bucket=N or bucket=N/S") from None


@dataclass(frozen=True)
class Take:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # seconds until the window ends


class RateLimiter:
    """Fixed windows per (key, bucket); `key` is a company id (or `ip:<addr>` before authentication)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], list] = {}  # -> [window start, count]

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()

    def take(self, key: str, bucket: str, limit: int, window: int) -> Take:
        window = max(1, int(window))
        now = time.time()
        start = int(now // window) * window
        with self._lock:
            counter = self._windows.get((key, bucket))
            if counter is None or counter[0] != start:
                counter = [start, 0]
                self._windows[(key, bucket)] = counter
            allowed = counter[1] < limit
            if allowed:
                counter[1] += 1
            remaining = max(0, limit - counter[1])
        return Take(allowed, limit, remaining, max(1, int(start + window - now + 0.999)))
