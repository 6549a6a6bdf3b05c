"""After "Get new token" succeeded: import the master data once, in the background.

(A member's edits reach bexio through the outbox: bexio_link.transfer.hooks.queue_contact.)
"""

import logging

from django.db import transaction

from . import tasks
from .models import MasterDataRefresh

log = logging.getLogger(__name__)


def connection_saved(sender, instance, created, raw=False, update_fields=None, **kwargs):
    """After "Get new token" succeeded: import the master data once, in the background."""
    if raw or (update_fields is not None and "obtained_at" not in update_fields):
        return
    try:
        if not (instance.is_connected and instance.obtained_at):
            return

        if MasterDataRefresh.objects.filter(
            organisation_id=instance.organisation_id, started_at__gte=instance.obtained_at
        ).exists():
            return

        organisation_id = instance.organisation_id
        transaction.on_commit(lambda: tasks.refresh_organisation.enqueue(organisation_id, "connect"))
    except Exception:  # connecting must never fail because of the import
        log.exception(
            "could not schedule the master data import of organisation %s", instance.organisation_id
        )
