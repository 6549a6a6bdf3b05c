"""Background tasks (django-tasks; `aeroledger db_worker --queue-name bexio` runs them)."""

from django_tasks import task

from .models import ReconciliationRun
from .runs import execute


@task(queue_name="bexio")
def reconcile_task(run_id: int) -> dict:
    """One reconciliation run (queued by the Books page); its progress and result are on the run."""
    run = ReconciliationRun.objects.select_related("organisation").get(pk=run_id)
    result = execute(run)
    return {"differences": len(result.differences) if result else None}
