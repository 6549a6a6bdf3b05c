"""bexio's rate limits: which counter (bucket) a request draws from, known before it is sent.

bexio counts requests per company and per minute, but not with one counter: the recorded answers
of api.bexio.com (`../shared/reference/bexio-recorded/`) carry different `ratelimit-limit` values
per route, each route group with its own `ratelimit-remaining`:

| bucket              | limit/min | routes                                                        |
|---------------------|-----------|---------------------------------------------------------------|
| `contact_search`    | 250       | `POST /2.0/contact/search`                                    |
| `kb_invoice_search` | 250       | `POST /2.0/kb_invoice/search`                                 |
| `article_search`    | 250       | `POST /2.0/article/search`                                    |
| `kb_invoice_pdf`    | 250       | `GET /2.0/kb_invoice/{id}/pdf`                                |
| `article`           | 400       | list, show, create, edit, delete of `/2.0/article`            |
| `default`           | 1000      | everything else (one shared counter)                          |

This module is the only place that knows the table. The limits are the starting assumption; the
governor learns the real limit of each bucket from the answers' headers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["DEFAULT", "LIMITS", "ROUTES", "WINDOW_S", "Route", "bucket_for", "limit_of"]

DEFAULT = "default"
WINDOW_S = 60  # bexio's window: one minute

LIMITS: Mapping[str, int] = MappingProxyType(
    {
        "contact_search": 250,
        "kb_invoice_search": 250,
        "article_search": 250,
        "kb_invoice_pdf": 250,
        "article": 400,
        DEFAULT: 1000,
    }
)


@dataclass(frozen=True, slots=True)
class Route:
    """`method path` (placeholders in braces, e.g. `/2.0/kb_invoice/{id}/pdf`) draws from `bucket`."""

    method: str
    path: str
    bucket: str
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        regex = "".join(
            "[^/]+" if part.startswith("{") else re.escape(part)
            for part in re.split(r"(\{[^}]+\})", self.path)
        )
        object.__setattr__(self, "pattern", re.compile(regex + "/?"))

    def matches(self, method: str, path: str) -> bool:
        return method == self.method and self.pattern.fullmatch(path) is not None


ROUTES: tuple[Route, ...] = (
    Route("POST", "/2.0/contact/search", "contact_search"),
    Route("POST", "/2.0/kb_invoice/search", "kb_invoice_search"),
    Route("POST", "/2.0/article/search", "article_search"),
    Route("GET", "/2.0/kb_invoice/{id}/pdf", "kb_invoice_pdf"),
    Route("GET", "/2.0/article", "article"),
    Route("POST", "/2.0/article", "article"),
    Route("GET", "/2.0/article/{id}", "article"),
    Route("POST", "/2.0/article/{id}", "article"),
    Route("DELETE", "/2.0/article/{id}", "article"),
)

# Fixed paths are looked up in a dict; only the few routes with a placeholder are matched.
_EXACT: dict[tuple[str, str], str] = {(r.method, r.path): r.bucket for r in ROUTES if "{" not in r.path}
_PATTERNS: tuple[Route, ...] = tuple(r for r in ROUTES if "{" in r.path)
_PREFIXES: tuple[str, ...] = tuple({r.path.split("{", 1)[0] for r in _PATTERNS})


def bucket_for(method: str, path: str) -> str:
    """The bucket a request draws from (`path` without query string, e.g. `/2.0/article/3`)."""
    method = method.upper()
    bucket = _EXACT.get((method, path.rstrip("/") or "/"))
    if bucket is not None:
        return bucket
    if path.startswith(_PREFIXES):
        for route in _PATTERNS:
            if route.matches(method, path):
                return route.bucket
    return DEFAULT


def limit_of(bucket: str) -> int:
    """The recorded per-minute limit of a bucket (the default bucket's for an unknown name)."""
    return LIMITS.get(bucket, LIMITS[DEFAULT])
