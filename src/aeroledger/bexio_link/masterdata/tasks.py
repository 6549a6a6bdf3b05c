"""Background tasks of the master data and contact sync (django-tasks, queue "bexio").

- `refresh_all`: scheduled (connection/schedule.py), refreshes every connected organisation.
- `refresh_organisation(id)`: enqueued after connecting and by "Refresh from bexio"
  (`start_refresh`: one `MasterDataRefresh` row made at once, shown as running).
- `sync_contacts(id)`: the whole club, enqueued by "Sync all contacts" (`start_contact_sync`: one
  `ContactSyncRun` row, queued -> running -> done/failed).
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from aeroledger.bexio_link.connection.clients import NotConnected
from aeroledger.bexio_link.connection.models import BexioConnection, Status
from aeroledger.tenancy.models import Organisation

from . import api
from .contact_sync import sync_contacts as run_sync
from .contacts import ContactSyncError
from .models import ContactSyncRun, MasterDataRefresh
from .refresh import refresh_master_data

log = logging.getLogger(__name__)


def _connected_organisations():

    return [
        conn.organisation
        for conn in BexioConnection.objects.filter(status=Status.CONNECTED).select_related("organisation")
        if conn.organisation.bexio_option
    ]


@task(queue_name="bexio")
def refresh_all() -> dict:
    """Refresh the master data of every connected organisation (scheduled)."""

    done = {"refreshed": 0, "failed": 0}
    for org in _connected_organisations():
        try:
            refresh_master_data(org, triggered_by="schedule")
            done["refreshed"] += 1
        except Exception as exc:  # one organisation's failure must not stop the others
            done["failed"] += 1
            log.warning("bexio master data refresh failed for org %s: %s", org.pk, type(exc).__name__)
    log.info("bexio master data refresh: %s", done)
    return done


# A run not finished after this long is taken as lost (worker killed): a new one may start.
STALE_AFTER = timedelta(hours=1)


def _lock(org) -> None:
    """Serialise the "is one already queued?" check per organisation (inside a transaction)."""
    type(org).objects.select_for_update().filter(pk=org.pk).first()


def active_refresh(org):
    """The refresh run queued or running for `org` (None when none is)."""

    return (
        MasterDataRefresh.objects.filter(
            organisation=org, finished_at__isnull=True, started_at__gte=timezone.now() - STALE_AFTER
        )
        .order_by("-started_at", "-id")
        .first()
    )


def start_refresh(org, *, triggered_by: str = "button"):
    """Record a refresh run and enqueue it; `(run, False)` when one is already queued or running."""

    with transaction.atomic():
        _lock(org)
        running = active_refresh(org)
        if running is not None:
            return running, False
        run = MasterDataRefresh.objects.create(organisation=org, triggered_by=triggered_by[:40])
        # The database backend stores the task in this transaction: both or neither.
        refresh_organisation.enqueue(organisation_id=org.pk, triggered_by=triggered_by, run_id=run.pk)
    return run, True


def active_contact_sync(org):

    return (
        ContactSyncRun.objects.filter(
            organisation=org,
            status__in=[ContactSyncRun.Status.QUEUED, ContactSyncRun.Status.RUNNING],
            created_at__gte=timezone.now() - STALE_AFTER,
        )
        .order_by("-created_at", "-id")
        .first()
    )


def last_contact_sync(org):

    return ContactSyncRun.objects.filter(organisation=org).order_by("-created_at", "-id").first()


def start_contact_sync(org, *, user=None):
    """Record a contact sync and enqueue it; `(run, False)` when one is already queued or running."""

    with transaction.atomic():
        _lock(org)
        running = active_contact_sync(org)
        if running is not None:
            return running, False
        run = ContactSyncRun.objects.create(organisation=org, created_by=user)
        sync_contacts.enqueue(organisation_id=org.pk, run_id=run.pk)
    return run, True


def _people_error(exc, api) -> str:
    """The message people see: ours are written for them, bexio's are described, others named."""

    if isinstance(exc, NotConnected | ContactSyncError):
        return str(exc)[:1000]
    return api.describe_error(exc)


@task(queue_name="bexio")
def refresh_organisation(
    organisation_id: int, triggered_by: str = "connect", run_id: int | None = None
) -> dict:

    org = Organisation.objects.get(pk=organisation_id)
    run = None
    if run_id is not None:
        run = MasterDataRefresh.objects.filter(organisation=org, pk=run_id, finished_at__isnull=True).first()
    run = refresh_master_data(org, triggered_by=triggered_by, run=run)
    return run.summary


@task(queue_name="bexio")
def sync_contacts(organisation_id: int, run_id: int | None = None) -> dict:

    org = Organisation.objects.get(pk=organisation_id)
    run = None
    if run_id is not None:
        run = ContactSyncRun.objects.filter(organisation=org, pk=run_id).first()
    if run is not None:
        run.status, run.started_at = ContactSyncRun.Status.RUNNING, timezone.now()
        run.save(update_fields=["status", "started_at"])
    try:
        report = run_sync(org)
    except Exception as exc:  # recorded for the page; re-raised for the task result
        if run is not None:
            run.status, run.finished_at = ContactSyncRun.Status.FAILED, timezone.now()
            run.error = _people_error(exc, api)
            run.save(update_fields=["status", "finished_at", "error"])
        raise
    summary = report.summary()
    if run is not None:
        run.status, run.finished_at, run.summary = ContactSyncRun.Status.DONE, timezone.now(), summary
        run.messages = [
            f"{member.number if member else ''} {message}".strip() for member, message in report.errors[:10]
        ]
        run.save(update_fields=["status", "finished_at", "summary", "messages"])
    return summary
