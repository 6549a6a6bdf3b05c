"""Putting writes into the outbox, and asking how far they are.

`add(org, kind, key, ...)` records a write once (the unique key makes a second call a no-op); the
worker picks it up when a `transfer_batch` task runs (`wake(org)` enqueues one after the commit).
`progress(org)` feeds the progress bar; `retry(org, ...)` puts failed items back in the queue.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from aeroledger.bexio_link.connection.models import BexioCall

from ..models import ItemStatus, OutboxItem, TransferBatch
from ..tasks import transfer_batch


def add(
    org, kind: str, key: str, *, label: str = "", batch: TransferBatch | None = None, **about
) -> OutboxItem:
    """The outbox item of this write, made if new (`about`: invoice=, credit_entry=, member=).

    An existing item is left as it is (done stays done); a failed or pending one joins `batch`.
    """
    key = key[:120]
    item = OutboxItem.objects.filter(organisation=org, kind=kind, key=key).first()
    if item is None:
        try:
            with transaction.atomic():
                item = OutboxItem.objects.create(
                    organisation=org, kind=kind, key=key, label=label[:200], batch=batch, **about
                )
        except IntegrityError:  # made at this moment by another process
            item = OutboxItem.objects.get(organisation=org, kind=kind, key=key)
    _join(item, batch)
    return item


def _join(item: OutboxItem, batch: TransferBatch | None) -> None:
    """An existing item that waits or failed joins `batch` (due now); done stays done."""
    if (
        batch is not None
        and item.batch_id != batch.pk
        and item.status in (ItemStatus.PENDING, ItemStatus.FAILED)
    ):
        OutboxItem.objects.filter(pk=item.pk, status__in=[ItemStatus.PENDING, ItemStatus.FAILED]).update(
            batch=batch, status=ItemStatus.PENDING, next_try_at=None
        )


def add_many(org, writes, *, batch: TransferBatch | None = None) -> list[OutboxItem]:
    """`add` for many writes at once (`writes`: (kind, key, label, about) tuples), the same result.

    The existing items are read in one query and the new ones inserted in one statement, instead of
    a read and an insert each. When another process made one of them at this moment (the unique key
    refuses the insert), nothing of the insert stays and each write goes through `add` on its own.
    """
    writes = [(kind, key[:120], label, about) for kind, key, label, about in writes]
    if not writes:
        return []
    existing = {
        (i.kind, i.key): i
        for i in OutboxItem.objects.filter(
            organisation=org, kind__in={w[0] for w in writes}, key__in={w[1] for w in writes}
        )
    }
    new = {}
    for kind, key, label, about in writes:
        if (kind, key) not in existing and (kind, key) not in new:
            new[kind, key] = OutboxItem(
                organisation=org, kind=kind, key=key, label=label[:200], batch=batch, **about
            )
    if new:
        try:
            with transaction.atomic():
                OutboxItem.objects.bulk_create(list(new.values()))
        except IntegrityError:  # one of them made at this moment by another process
            return [
                add(org, kind, key, label=label, batch=batch, **about) for kind, key, label, about in writes
            ]
    items = []
    for kind, key, _label, _about in writes:
        item = existing.get((kind, key))
        if item is None:
            items.append(new[kind, key])
            continue
        _join(item, batch)
        items.append(item)
    return items


def wake(org, batch: TransferBatch | None = None) -> None:
    """After this transaction commits, start a worker task for the organisation's outbox."""

    def enqueue():
        result = transfer_batch.enqueue(organisation_id=org.pk, batch_id=batch.pk if batch else None)
        if batch is not None:
            TransferBatch.objects.filter(pk=batch.pk).update(task_id=str(getattr(result, "id", ""))[:64])

    transaction.on_commit(enqueue)


def retry(org, item_ids=None, *, user=None, enqueue: bool = True) -> TransferBatch:
    """Put failed items (all, or `item_ids`) back in the queue, in a new batch."""
    with transaction.atomic():
        batch = TransferBatch.objects.create(organisation=org, created_by=user)
        failed = OutboxItem.objects.filter(organisation=org, status=ItemStatus.FAILED)
        if item_ids is not None:
            failed = failed.filter(pk__in=list(item_ids))
        failed.update(status=ItemStatus.PENDING, next_try_at=None, batch=batch)
        if enqueue:
            wake(org, batch)
    return batch


def progress(org, batch: TransferBatch | None = None) -> dict:
    """Counts and the current rate for the progress bar."""
    batch = batch or TransferBatch.objects.filter(organisation=org).first()
    if batch is None:
        return {"batch": None, "total": 0, "done": 0, "failed": 0, "remaining": 0, "percent": 0, "rate": 0}
    counts = batch.counts()
    total = counts["total"] or 0
    finished = counts[ItemStatus.DONE] + counts[ItemStatus.FAILED]
    since = timezone.now() - timedelta(seconds=30)
    per_30s = OutboxItem.objects.filter(batch=batch, done_at__gte=since).count()
    requests_30s = BexioCall.objects.filter(organisation=org, at__gte=since).count()
    return {
        "batch": batch,
        "total": total,
        "done": counts[ItemStatus.DONE],
        "failed": counts[ItemStatus.FAILED],
        "remaining": counts["remaining"],
        "percent": int(100 * finished / total) if total else 100,
        "rate": per_30s * 2,  # items per minute
        "requests_per_min": requests_30s * 2,
        "running": batch.status in (TransferBatch.Status.QUEUED, TransferBatch.Status.RUNNING),
    }
