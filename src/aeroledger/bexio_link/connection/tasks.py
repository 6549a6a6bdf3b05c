"""Background tasks of the bexio connection (django-tasks; worker: `aeroledger db_worker`)."""

import logging

from django_tasks import task

log = logging.getLogger(__name__)


@task(queue_name="bexio")
def keep_alive() -> dict:
    """Refresh the token of every connected organisation (scheduled every 6 hours)."""
    from .models import BexioConnection, Status
    from .services import refresh_now

    done = {"refreshed": 0, "reconnect_needed": 0, "failed": 0}
    for conn in BexioConnection.objects.filter(status=Status.CONNECTED).select_related("organisation"):
        try:
            if refresh_now(conn.organisation):
                done["refreshed"] += 1
            else:
                done["reconnect_needed"] += 1
        except Exception as exc:  # a network error for one organisation must not stop the others
            done["failed"] += 1
            log.warning("bexio keep-alive failed for org %s: %s", conn.organisation_id, type(exc).__name__)
    log.info("bexio keep-alive: %s", done)
    return done


@task(queue_name="bexio")
def keep_alive_organisation(organisation_id: int) -> bool:
    from aeroledger.tenancy.models import Organisation

    from .services import refresh_now

    return refresh_now(Organisation.objects.get(pk=organisation_id))
