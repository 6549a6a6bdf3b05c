"""Keeping bexio's offline session alive: the scheduled refresh, and a refresh on demand."""

from __future__ import annotations

import logging

from .clients import ReconnectNeeded, _provider, describe_error
from .models import EventKind, Trigger, connection_for, record_event

log = logging.getLogger(__name__)


class KeepAlive:
    """Outcomes of `run_keep_alive` for one organisation."""

    REFRESHED = "refreshed"  # this process refreshed (history: "Token refreshed", keep-alive)
    ADOPTED = "adopted"  # another process had just refreshed; its token was adopted
    RECONNECT_NEEDED = "reconnect_needed"  # bexio refused the grant (history: "Reconnect needed")
    NOT_CONNECTED = "not_connected"  # nothing to keep alive
    FAILED = "failed"  # network or server error (history: "Keep-alive failed")


def _refresh(organisation, trigger: str) -> str:
    conn = connection_for(organisation)
    if conn is None or not conn.is_connected:
        return KeepAlive.NOT_CONNECTED
    provider = _provider(organisation, trigger=trigger)
    current = provider.store.load()
    try:
        provider.force_refresh(current.access_token if current else None)
    except ReconnectNeeded:
        return KeepAlive.RECONNECT_NEEDED
    # The store wrote the "Token refreshed" event in the transaction of its save.
    return KeepAlive.REFRESHED if provider.store.saved else KeepAlive.ADOPTED


def refresh_now(organisation, *, trigger: str = Trigger.ON_DEMAND) -> bool:
    """Refresh the token now. True when a fresh token is stored (by this or another process),
    False when not connected.

    Raises nothing for a refused grant: the connection is marked "Reconnect needed" instead.
    Network and server errors propagate (see `run_keep_alive` for the scheduled refresh).
    """
    return _refresh(organisation, trigger) in (KeepAlive.REFRESHED, KeepAlive.ADOPTED)


def run_keep_alive(organisation) -> str:
    """The scheduled keep-alive refresh of one organisation; returns a `KeepAlive` outcome.

    Every outcome is in the history: "Token refreshed" (keep-alive), "Reconnect needed" or
    "Keep-alive failed" (with a token-free reason); an adopted token has the event of the process
    that refreshed it. Raises nothing for a network or server error.
    """
    try:
        return _refresh(organisation, Trigger.KEEP_ALIVE)
    except Exception as exc:
        reason = describe_error(exc)
        log.warning("bexio keep-alive failed for org %s: %s", organisation.pk, reason)
        record_event(
            organisation,
            EventKind.KEEP_ALIVE_FAILED,
            reason,
            conn=connection_for(organisation),
            trigger=Trigger.KEEP_ALIVE,
        )
        return KeepAlive.FAILED
