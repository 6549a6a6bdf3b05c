"""What the client reports about each HTTP attempt (for a call log). Never tokens."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RequestEvent:
    method: str
    path: str  # without the query string
    status: int | None  # None when no HTTP answer arrived
    duration_ms: float
    company_id: str | None
    attempt: int  # 1-based
    error_code: int | str | None  # bexio's error_code, or "timeout" | "connect" | "dropped"
    message: str | None  # bexio's error message only
    bucket: str | None = None  # the rate bucket the request drew from (bexio.buckets)
