"""bexio's clock: Europe/Zurich; 2.0 timestamps are local `YYYY-MM-DD HH:MM:SS` without an offset."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

ZURICH = ZoneInfo("Europe/Zurich")


def now_v2() -> str:
    return datetime.now(ZURICH).strftime("%Y-%m-%d %H:%M:%S")


def now_v3() -> str:
    """3.0 timestamps: ISO 8601 with the offset."""
    return datetime.now(ZURICH).isoformat(timespec="seconds")


def today() -> str:
    return datetime.now(ZURICH).date().isoformat()


def this_year() -> int:
    return datetime.now(ZURICH).year


def plus_days(date: str, days: int) -> str:
    return (datetime.fromisoformat(date[:10]) + timedelta(days=days)).date().isoformat()


def midnight(day: str) -> str:
    """ "2026-11-30" -> "2026-11-30T00:00:00+01:00" (midnight in Zurich, with that day's offset)."""
    return datetime.fromisoformat(day).replace(tzinfo=ZURICH).isoformat()
