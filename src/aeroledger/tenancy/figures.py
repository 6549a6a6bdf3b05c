"""Organisation-wide figures, computed at most every few seconds, and at once after your own change.

The overview's numbers and the totals of the unfiltered lists (money owed, drafts, balances below
the threshold, the sum of every balance) are aggregates over all of an organisation's invoices or
credit entries: at 50,000 invoices each one reads the whole table. Pages that everybody opens all
day should not repeat that on every view, so `figure(request, name, compute)` keeps the answer in
Django's cache for `AEROLEDGER_FIGURES_TTL` seconds (default 30) per organisation.

A change made through the organisation's pages shows at once, for everybody: `org_required`
notes the time of every POST that was not refused (`OrganisationChange`, one row per
organisation), and figures computed before it are computed again. Changes made elsewhere (the task
worker's transfers and status sync, the command line) show within the TTL. Pages may say how old
their figures are (`request.figures_as_of`), never more than the TTL.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import OrganisationChange


def ttl() -> float:
    return float(getattr(settings, "AEROLEDGER_FIGURES_TTL", 30))


def note_change(request) -> None:
    """Called by org_required after a POST that was not refused: everybody's figures of the
    organisation computed before now are computed again."""

    organisation = getattr(request, "organisation", None)
    if organisation is None:
        return
    now = timezone.now()
    if not OrganisationChange.objects.filter(organisation=organisation).update(at=now):
        try:
            with transaction.atomic():
                OrganisationChange.objects.create(organisation=organisation, at=now)
        except IntegrityError:  # created by a simultaneous POST
            OrganisationChange.objects.filter(organisation=organisation).update(at=now)


def _last_change(request) -> float:
    """When the organisation was last changed through its pages (read once per request)."""

    if not hasattr(request, "_organisation_changed"):
        at = (
            OrganisationChange.objects.filter(organisation=request.organisation)
            .values_list("at", flat=True)
            .first()
        )
        request._organisation_changed = at.timestamp() if at else 0.0
    return request._organisation_changed


def figure(request, name: str, compute: Callable[[], Any]) -> Any:
    """`compute()` for the request's organisation, or its answer of at most ttl() seconds ago that
    is newer than the organisation's last change through its pages."""
    organisation = request.organisation
    limit = ttl()
    if limit <= 0:
        return compute()
    key = f"aeroledger:figure:{organisation.pk}:{name}"
    now = time.time()
    hit = cache.get(key)
    if hit is not None:
        at, value = hit
        if at >= _last_change(request) and now - at < limit:
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
