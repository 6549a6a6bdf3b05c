"""The outbox as a leased work queue: which items are due, who holds them, for how long.

An item is due when it is pending (or "sending" with an expired lease: its worker died), its
back-off has passed and nobody holds it. A worker first holds the organisation (`hold_org`: one
worker per organisation, so bexio's rate limit and the member locks are never fought over), then
claims small slices of its due items (`claim`): PostgreSQL `FOR UPDATE SKIP LOCKED`, SQLite one
conditional UPDATE. `start_attempts` marks a claimed slice "sending" and logs the attempts, and
commits, before anything of it is sent.
"""

from __future__ import annotations

import os
import uuid
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import F, Min, Q
from django.utils import timezone

from ..models import ItemStatus, OrgLease, OutboxAttempt, OutboxItem
from .db import serialised

# A claimed item / an organisation is ours for this long (renewed while working); after a worker is
# killed, its items wait this long before another worker resumes them.
LEASE_S = int(os.environ.get("BEXIO_TRANSFER_LEASE_S", "120"))
OPEN = (ItemStatus.PENDING, ItemStatus.SENDING)


def due(qs, now):
    return (
        qs.filter(status__in=OPEN)
        .filter(Q(next_try_at__isnull=True) | Q(next_try_at__lte=now))
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
    )


@serialised
def claim(org_id: int, worker: str, limit: int, *, lease_s: int = LEASE_S) -> list[int]:
    """Claim up to `limit` due items of one organisation for `worker`, oldest first; their ids."""
    now = timezone.now()
    until = now + timedelta(seconds=lease_s, microseconds=uuid.uuid4().int % 997)
    base = OutboxItem.objects.filter(organisation_id=org_id)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            ids = list(
                due(base, now)
                .select_for_update(skip_locked=True)
                .order_by("id")
                .values_list("id", flat=True)[:limit]
            )
            if ids:
                base.filter(pk__in=ids).update(claimed_by=worker, claimed_until=until)
            return ids
        ids = list(due(base, now).order_by("id").values_list("id", flat=True)[:limit])
        if not ids:
            return []
        due(base.filter(pk__in=ids), now).update(claimed_by=worker, claimed_until=until)
        return list(
            base.filter(pk__in=ids, claimed_by=worker, claimed_until=until).values_list("id", flat=True)
        )


@serialised
def release(item_ids, worker: str) -> None:
    OutboxItem.objects.filter(pk__in=list(item_ids), claimed_by=worker).update(
        claimed_by="", claimed_until=None
    )


@serialised
def renew(item_ids, worker: str, *, lease_s: int = LEASE_S) -> None:
    until = timezone.now() + timedelta(seconds=lease_s)
    OutboxItem.objects.filter(pk__in=list(item_ids), claimed_by=worker).update(claimed_until=until)


@serialised
def hold_org(org_id: int, worker: str, *, lease_s: int = LEASE_S) -> bool:
    """Take or extend the organisation's lease: one worker runs an organisation's outbox."""
    now = timezone.now()
    OrgLease.objects.get_or_create(organisation_id=org_id)
    held = (
        OrgLease.objects.filter(organisation_id=org_id)
        .filter(Q(claimed_by=worker) | Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        .update(claimed_by=worker, claimed_until=now + timedelta(seconds=lease_s))
    )
    return held == 1


@serialised
def let_go_org(org_id: int, worker: str) -> None:
    OrgLease.objects.filter(organisation_id=org_id, claimed_by=worker).update(
        claimed_by="", claimed_until=None
    )


@serialised
def orgs_with_due_work(org_ids=None) -> list[int]:
    qs = due(OutboxItem.objects.all(), timezone.now())
    if org_ids is not None:
        qs = qs.filter(organisation_id__in=list(org_ids))
    return sorted(set(qs.values_list("organisation_id", flat=True).distinct()))


@serialised
def seconds_until_work(org_ids=None, paused=()) -> float | None:
    """How long until an item becomes claimable (a back-off ends, another worker's lease expires);
    None when nothing is waiting at all."""
    now = timezone.now()
    qs = OutboxItem.objects.filter(status__in=OPEN)
    if org_ids is not None:
        qs = qs.filter(organisation_id__in=list(org_ids))
    if paused:
        qs = qs.exclude(organisation_id__in=list(paused))
    if not qs.exists():
        return None
    times = [
        qs.filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)).aggregate(t=Min("next_try_at"))[
            "t"
        ],
        qs.filter(claimed_until__gt=now).aggregate(t=Min("claimed_until"))["t"],
        OrgLease.objects.filter(
            organisation_id__in=qs.values("organisation_id"), claimed_until__gt=now
        ).aggregate(t=Min("claimed_until"))["t"],
    ]
    times = [t for t in times if t is not None]
    if not times:
        return 0.0
    return max(0.0, (min(times) - now).total_seconds())


class Started:
    """A claimed item whose attempt has begun: the item, its log row, and whether an earlier attempt
    may have reached bexio (then the sender looks it up before sending anything)."""

    __slots__ = ("attempt", "item", "look_up_first")

    def __init__(self, item: OutboxItem, attempt: OutboxAttempt, look_up_first: bool):
        self.item, self.attempt, self.look_up_first = item, attempt, look_up_first


@serialised
def start_attempts(item_ids, worker: str, load=None) -> dict[int, Started]:
    """Begin the attempts of a slice of just claimed items at once, before any of them is sent.

    In one transaction: read the items still ours (and what their senders need: `load(items)`), mark
    them "sending" (attempts + 1), mark attempts still "running" from a stopped worker interrupted,
    log the new attempts. Committed before the items go to the threads: an item found "sending" by
    a later claim may have reached bexio, so that attempt looks it up first.
    """
    now = timezone.now()
    with transaction.atomic():
        # Locked: a withdrawal (its invoice cancelled) waits for this, or this skips what it withdrew.
        items = {
            i.pk: i
            for i in OutboxItem.objects.filter(pk__in=list(item_ids), claimed_by=worker, status__in=OPEN)
            .select_for_update(of=("self",))
            .select_related("organisation")
        }
        if not items:
            return {}
        if load is not None:
            load(list(items.values()))
        interrupted = [pk for pk, i in items.items() if i.status == ItemStatus.SENDING]
        if interrupted:  # attempts still "running" belonged to a worker stopped (killed) midway
            OutboxAttempt.objects.filter(
                item_id__in=interrupted, outcome=OutboxAttempt.Outcome.RUNNING
            ).update(outcome=OutboxAttempt.Outcome.INTERRUPTED)
        OutboxItem.objects.filter(pk__in=list(items)).update(
            status=ItemStatus.SENDING, attempts=F("attempts") + 1, updated_at=now
        )
        attempts = [
            OutboxAttempt(
                organisation_id=i.organisation_id, item=i, batch_id=i.batch_id, worker=worker[:100], at=now
            )
            for i in items.values()
        ]
        OutboxAttempt.objects.bulk_create(attempts)
    started = {}
    for item, attempt in zip(items.values(), attempts, strict=True):
        was_sending = item.status == ItemStatus.SENDING
        item.status, item.attempts, item.updated_at = ItemStatus.SENDING, item.attempts + 1, now
        started[item.pk] = Started(item, attempt, look_up_first=was_sending or item.maybe_in_bexio)
    return started
