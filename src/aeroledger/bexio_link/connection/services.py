"""Test the connection, disconnect: what a person does on the Authorisation page besides connecting."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from bexio import errors

from .clients import NotConnected, bexio_auth, client_for, describe_error
from .models import BexioConnection, EventKind, Status, connection_for, record_event

log = logging.getLogger(__name__)


def _revoke_quietly(auth, token: str, organisation) -> None:
    try:
        auth.revoke(token, token_type_hint="refresh_token")
    except Exception as exc:
        log.warning("bexio revoke failed for org %s: %s", organisation.pk, describe_error(exc))


@dataclass
class TestResult:
    ok: bool
    latency_ms: int = 0
    company_name: str = ""
    user_name: str = ""
    message: str = ""
    forbidden: bool = False


def test_connection(organisation, *, user=None) -> TestResult:
    started = time.monotonic()
    try:
        with client_for(organisation, context="test connection") as client:
            me = client.users.me()
            profiles = client.company_profile.list()
    except NotConnected as exc:
        result = TestResult(False, message=str(exc))
    except errors.PermissionDeniedError as exc:
        result = TestResult(False, message=describe_error(exc), forbidden=True)
    except Exception as exc:
        result = TestResult(False, message=describe_error(exc))
    else:
        profile = profiles[0] if profiles else None
        result = TestResult(
            True,
            company_name=str(getattr(profile, "name", "") or ""),
            user_name=" ".join(p for p in (getattr(me, "firstname", ""), getattr(me, "lastname", "")) if p),
        )
    result.latency_ms = int((time.monotonic() - started) * 1000)
    conn = connection_for(organisation)
    record_event(
        organisation,
        EventKind.TESTED,
        (_("OK in %(ms)s ms") % {"ms": result.latency_ms}) if result.ok else result.message,
        user=user,
        conn=conn,
    )
    return result


def disconnect(organisation, *, user=None) -> None:
    """Revoke the grant at bexio, delete the tokens, keep the history."""
    with transaction.atomic():
        conn = BexioConnection.objects.select_for_update().filter(organisation=organisation).first()
        if conn is None:
            return
        refresh = conn.get_refresh_token() if conn.refresh_token_enc else ""
        conn.clear_tokens()
        conn.status = Status.NOT_CONNECTED
        conn.granted_scopes = []
        conn.reconnect_reason = ""
        conn.save()
        record_event(organisation, EventKind.DISCONNECTED, "", user=user, conn=conn)
    if refresh:
        auth = bexio_auth()
        try:
            _revoke_quietly(auth, refresh, organisation)
        finally:
            auth.close()
