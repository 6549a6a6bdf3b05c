"""Background tasks of the master data and contact sync (django-tasks, queue "bexio").

- `refresh_all`: scheduled (connection/schedule.py), refreshes every connected organisation.
- `refresh_organisation(id)`: enqueued after connecting.
- `sync_contacts(id)`: the whole club.
- `sync_member_contact(id)`: one member after an edit (enqueued by signals.py when linked).
"""

import logging

from django_tasks import task

log = logging.getLogger(__name__)


def _connected_organisations():
    from aeroledger.bexio_link.connection.models import BexioConnection, Status

    return [
        conn.organisation
        for conn in BexioConnection.objects.filter(status=Status.CONNECTED).select_related("organisation")
        if conn.organisation.bexio_option
    ]


@task(queue_name="bexio")
def refresh_all() -> dict:
    """Refresh the master data of every connected organisation (scheduled)."""
    from .services import refresh_master_data

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


@task(queue_name="bexio")
def refresh_organisation(organisation_id: int, triggered_by: str = "connect") -> dict:
    from aeroledger.tenancy.models import Organisation

    from .services import refresh_master_data

    run = refresh_master_data(Organisation.objects.get(pk=organisation_id), triggered_by=triggered_by)
    return run.summary


@task(queue_name="bexio")
def sync_contacts(organisation_id: int) -> dict:
    from aeroledger.tenancy.models import Organisation

    from .contacts import sync_contacts as run_sync

    return run_sync(Organisation.objects.get(pk=organisation_id)).summary()


@task(queue_name="bexio")
def sync_member_contact(member_id: int) -> int | None:
    """Send one member's changed contact data to bexio (no request when nothing changed)."""
    from aeroledger.members.models import Member

    from .contacts import ContactSyncError, ensure_contact

    member = Member.objects.select_related("organisation").filter(pk=member_id).first()
    if member is None:
        return None
    try:
        return ensure_contact(None, member)
    except ContactSyncError as exc:
        log.info("contact of member %s not synced: %s", member_id, exc)
        return None
