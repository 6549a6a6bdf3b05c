"""Reconnect needed: bexio refused the stored grant; the admins are told, transfers wait."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from aeroledger.tenancy.models import Membership

from .models import BexioConnection, EventKind, Status, record_event

log = logging.getLogger(__name__)


def mark_reconnect_needed(organisation, reason: str, *, trigger: str = "") -> bool:
    """Set "Reconnect needed" (once) and tell the organisation's Manage-settings staff by e-mail.

    `trigger`: the refresh that found the grant refused (keep-alive or on demand), if any.
    """
    with transaction.atomic():
        conn = BexioConnection.objects.select_for_update().filter(organisation=organisation).first()
        if conn is None or conn.status != Status.CONNECTED:
            return False
        conn.status = Status.RECONNECT_NEEDED
        conn.reconnect_reason = reason[:2000]
        conn.clear_tokens()
        conn.last_error = reason[:2000]
        conn.last_error_at = timezone.now()
        conn.save()
        record_event(organisation, EventKind.RECONNECT_NEEDED, reason, conn=conn, trigger=trigger)
    log.warning("bexio connection of org %s needs a reconnect: %s", organisation.pk, reason)
    notify_admins_reconnect(organisation, reason)
    return True


def notify_admins_reconnect(organisation, reason: str) -> None:

    memberships = (
        Membership.objects.filter(organisation=organisation, manage_settings=True, user__is_active=True)
        .select_related("user")
        .exclude(user__email="")
    )
    base = settings.AEROLEDGER_BASE_URL.rstrip("/")
    url = f"{base}/o/{organisation.slug}/invoicing/bexio/authorisation"
    for membership in memberships:
        user = membership.user
        profile = getattr(user, "profile", None)
        language = getattr(profile, "language", None) or settings.LANGUAGE_CODE
        with override(language):
            subject = _("bexio connection of %(org)s: reconnect needed") % {"org": organisation.name}
            body = _(
                "bexio no longer accepts the access granted to %(org)s (%(reason)s).\n\n"
                "Transfers to bexio are paused; nothing queued is lost. Please open\n%(url)s\n"
                "and click Get new token, logged in at bexio as a bexio admin.\n"
            ) % {"org": organisation.name, "reason": reason, "url": url}
        send_mail(subject, body, None, [user.email], fail_silently=True)
