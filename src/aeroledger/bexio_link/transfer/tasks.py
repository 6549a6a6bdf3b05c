"""Background tasks (django-tasks; `aeroledger db_worker --queue-name bexio` runs them)."""

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from .models import TransferState, TransferStatus


@task(queue_name="bexio")
def transfer_batch(organisation_id: int, batch_id: int | None = None) -> dict:
    """Work through due transfers. Serves every organisation with due work, round-robin (so the
    batch that started it never starves another organisation's); one worker per organisation at a
    time through the organisation lease. Rows waiting for a longer back-off get a follow-up task."""
    from . import services

    stats = services.run_transfers()
    wait_s = stats.get("next_try_in_s")
    if wait_s is not None:
        _follow_up(organisation_id, batch_id, wait_s)
    return {k: v for k, v in stats.items() if isinstance(v, int)}


def _follow_up(organisation_id: int, batch_id: int | None, wait_s: float) -> None:
    if not TransferState.objects.filter(status__in=[TransferStatus.PENDING, TransferStatus.SENDING]).exists():
        return
    run_after = timezone.now() + timedelta(seconds=max(1, wait_s))
    transfer_batch.using(run_after=run_after).enqueue(organisation_id=organisation_id, batch_id=batch_id)


@task(queue_name="bexio")
def resume_transfers() -> int:
    """Scheduled: restart transfers left behind by a killed worker (expired leases) or a back-off.
    Returns the number of organisations with due work."""
    from . import services

    orgs = services._orgs_with_due_work()
    if orgs:
        transfer_batch.enqueue(organisation_id=orgs[0], batch_id=None)
    return len(orgs)


@task(queue_name="bexio")
def sync_status_task(organisation_id: int | None = None) -> dict:
    """Status and payments back from bexio, for one organisation or every connected one."""
    from .sync import sync_all, sync_status

    if organisation_id is None:
        return sync_all()
    from aeroledger.tenancy.models import Organisation

    result = sync_status(Organisation.objects.get(pk=organisation_id))
    return result.as_dict()
