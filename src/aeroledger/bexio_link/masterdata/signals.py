"""Whenever a member already in bexio changes, send the change (after the transaction commits).

Cheap for everyone else: nothing happens unless the organisation has the bexio option and the
member is linked to a bexio contact. The task itself makes no request when the owned fields did
not change (hash), so saving a member without a relevant change costs nothing in bexio.
"""

import logging

from django.db import transaction

log = logging.getLogger(__name__)


def member_saved(sender, instance, created, raw=False, **kwargs):
    if raw or created:
        return
    try:
        if not instance.organisation.bexio_option:
            return
        from .models import ContactLink

        if not ContactLink.objects.filter(member_id=instance.pk, bexio_id__isnull=False).exists():
            return
        from aeroledger.bexio_link.connection.models import connection_for

        conn = connection_for(instance.organisation)
        if conn is None or not conn.transfers_allowed:
            return
        from .tasks import sync_member_contact

        member_id = instance.pk
        transaction.on_commit(lambda: sync_member_contact.enqueue(member_id))
    except Exception:  # saving a member must never fail because of bexio
        log.exception("could not schedule the bexio contact update of member %s", instance.pk)


def connection_saved(sender, instance, created, raw=False, update_fields=None, **kwargs):
    """After "Get new token" succeeded: import the master data once, in the background."""
    if raw or (update_fields is not None and "obtained_at" not in update_fields):
        return
    try:
        if not (instance.is_connected and instance.obtained_at):
            return
        from .models import MasterDataRefresh

        if MasterDataRefresh.objects.filter(
            organisation_id=instance.organisation_id, started_at__gte=instance.obtained_at
        ).exists():
            return
        from .tasks import refresh_organisation

        organisation_id = instance.organisation_id
        transaction.on_commit(lambda: refresh_organisation.enqueue(organisation_id, "connect"))
    except Exception:  # connecting must never fail because of the import
        log.exception(
            "could not schedule the master data import of organisation %s", instance.organisation_id
        )
