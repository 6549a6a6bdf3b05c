"""Background tasks of the bexio connection (django-tasks; worker: `aeroledger db_worker`)."""

import logging

from django_tasks import task

from aeroledger.tenancy.models import Organisation

from .keepalive import KeepAlive, run_keep_alive
from .models import BexioConnection, Status

log = logging.getLogger(__name__)


@task(queue_name="bexio")
def keep_alive() -> dict:
    """Refresh the token of every connected organisation (scheduled every 6 hours).

    Each organisation's outcome is in its connection history (see `keepalive.run_keep_alive`).
    """

    done = {"refreshed": 0, "reconnect_needed": 0, "not_connected": 0, "failed": 0}
    for conn in BexioConnection.objects.filter(status=Status.CONNECTED).select_related("organisation"):
        try:
            outcome = run_keep_alive(conn.organisation)
        except Exception as exc:  # e.g. the event could not be written: the others still run
            outcome = KeepAlive.FAILED
            log.warning("bexio keep-alive failed for org %s: %s", conn.organisation_id, type(exc).__name__)
        done["refreshed" if outcome == KeepAlive.ADOPTED else outcome] += 1
    log.info("bexio keep-alive: %s", done)
    return done


@task(queue_name="bexio")
def keep_alive_organisation(organisation_id: int) -> bool:

    outcome = run_keep_alive(Organisation.objects.get(pk=organisation_id))
    return outcome in (KeepAlive.REFRESHED, KeepAlive.ADOPTED)
