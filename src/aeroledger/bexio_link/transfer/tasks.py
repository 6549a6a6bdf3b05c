"""Background tasks (django-tasks; `aeroledger db_worker --queue-name bexio` runs them)."""

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from aeroledger.tenancy.models import Organisation

from .models import ItemStatus, OutboxItem
from .outbox import queue
from .outbox.worker import run_outbox


@task(queue_name="bexio")
def transfer_batch(organisation_id: int, batch_id: int | None = None) -> dict:
    """Work through the outbox. Serves every organisation with due items, round-robin (so the
    organisation that started it never starves another); one worker per organisation at a time
    through the organisation lease. Items waiting for a longer back-off get a follow-up task."""
    stats = run_outbox()
    wait_s = stats.get("next_try_in_s")
    if wait_s is not None and OutboxItem.objects.filter(status__in=queue.OPEN).exists():
        run_after = timezone.now() + timedelta(seconds=max(1, wait_s))
        transfer_batch.using(run_after=run_after).enqueue(organisation_id=organisation_id, batch_id=batch_id)
    return {k: v for k, v in stats.items() if isinstance(v, int)}


@task(queue_name="bexio")
def resume_transfers() -> int:
    """Scheduled: restart the outbox where a killed worker (expired lease) or a back-off left items.
    Returns the number of organisations with due items."""
    orgs = queue.orgs_with_due_work()
    if orgs:
        transfer_batch.enqueue(organisation_id=orgs[0], batch_id=None)
    return len(orgs)


@task(queue_name="bexio")
def sync_status_task(organisation_id: int | None = None) -> dict:
    """Status and payments back from bexio, for one organisation or every connected one."""
    from .invoices.sync import sync_all, sync_status  # noqa: PLC0415 - sync imports the outbox (enqueue -> tasks)

    if organisation_id is None:
        return sync_all()
    return sync_status(Organisation.objects.get(pk=organisation_id)).as_dict()


__all__ = ["ItemStatus", "resume_transfers", "sync_status_task", "transfer_batch"]
