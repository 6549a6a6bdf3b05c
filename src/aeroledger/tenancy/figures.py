"""Organisation-wide figures, computed at most every few seconds, and at once after your own change.

The overview's numbers and the totals of the unfiltered lists (money owed, drafts, balances below
the threshold, the sum of every balance) are aggregates over all of an organisation's invoices or
credit entries: at 50,000 invoices each one reads the whole table. Pages that everybody opens all
day should not repeat that on every view, so `figure(request, name, compute)` keeps the answer in
Django's cache for `AEROLEDGER_FIGURES_TTL` seconds (default 30) per organisation.

What a person changes shows at once for that person: `org_required` notes in their session when
they last changed something in the organisation (any successful POST), and figures computed
before that moment are recomputed for them. Changes by other people and by background jobs
(transfers, the status sync) show within the TTL. Pages say how old their figures are
(`figures_as_of`), never more than the TTL.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache


def ttl() -> float:
    return float(getattr(settings, "AEROLEDGER_FIGURES_TTL", 30))


def _changed_key(organisation_id: int) -> str:
    return f"aeroledger:changed:{organisation_id}"


def note_change(request) -> None:
    """Called by org_required after a successful POST: this person's next figures are fresh."""
    session = getattr(request, "session", None)
    organisation = getattr(request, "organisation", None)
    if session is not None and organisation is not None:
        session[_changed_key(organisation.pk)] = time.time()


def figure(request, name: str, compute: Callable[[], Any]) -> Any:
    """`compute()` for the request's organisation, or its answer of at most ttl() seconds ago."""
    organisation = request.organisation
    limit = ttl()
    if limit <= 0:
        return compute()
    key = f"aeroledger:figure:{organisation.pk}:{name}"
    session = getattr(request, "session", None)
    changed = session.get(_changed_key(organisation.pk), 0) if session is not None else 0
    now = time.time()
    hit = cache.get(key)
    if hit is not None:
        at, value = hit
        if at >= changed and now - at < limit:
            _remember_age(request, at)
            return value
    value = compute()
    cache.set(key, (now, value), limit)
    _remember_age(request, now)
    return value


def _remember_age(request, at: float) -> None:
    """`request.figures_as_of`: when the oldest figure the page shows was computed (aware datetime)."""
    moment = datetime.fromtimestamp(at, tz=UTC)
    oldest = getattr(request, "figures_as_of", None)
    request.figures_as_of = moment if oldest is None else min(oldest, moment)
