"""The database under many sender threads: SQLite takes turns, pool threads keep their connections."""

from __future__ import annotations

import contextlib
import functools
import logging
import threading

from django.db import connection, connections

log = logging.getLogger(__name__)

_sqlite_lock = threading.RLock()


def needs_serialising() -> bool:
    """SQLite has one writer at a time: its busy handler makes competing threads sleep and retry,
    and an in-memory SQLite (the test database) is one shared cache whose table locks fail at once.
    So the sender threads take turns in this process (measured faster, too); PostgreSQL locks rows
    by itself."""
    return connection.vendor == "sqlite"


@contextlib.contextmanager
def db_section():
    """Serialise the sender threads' database work where the database cannot do it itself."""
    if needs_serialising():
        with _sqlite_lock:
            yield
    else:
        yield


def serialised(func):
    """Run `func` inside `db_section()` (for the functions the coordinating thread calls)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with db_section():
            return func(*args, **kwargs)

    return wrapper


def prepare_client(client):
    """On SQLite, the client's own database work (call-log hook, token store) joins `db_section`,
    and the token is loaded (or refreshed) once here, not by eight threads at once."""
    if not needs_serialising():
        return client
    hook = getattr(client, "on_request", None)
    if hook is not None and not getattr(hook, "_serialised", False):
        client.on_request = serialised(hook)
        client.on_request._serialised = True
    provider = getattr(client, "token_provider", None)
    if provider is not None and hasattr(provider, "access_token"):
        provider.access_token()
    return client


def keep_connections(kept: dict) -> None:
    """A pool thread keeps its database connections from one item to the next (opening one costs
    more CPU than an item's queries); a broken one (e.g. PostgreSQL restarted) is closed, so the
    next item reconnects. `close_kept` closes them when the pool has finished."""
    for conn in connections.all(initialized_only=True):
        if conn.connection is None:
            continue
        conn.close_at = None  # not "obsolete" after CONN_MAX_AGE: closed at the end of the run
        conn.close_if_unusable_or_obsolete()
        if conn.connection is not None:
            kept[(threading.get_ident(), conn.alias)] = conn


def close_kept(kept: dict) -> None:
    for conn in kept.values():
        conn.inc_thread_sharing()  # its thread is idle (the pool has shut down)
        try:
            conn.close()
        except Exception:  # noqa: BLE001 - a broken connection is gone anyway
            log.debug("closing a sender thread's connection failed", exc_info=True)
        finally:
            conn.dec_thread_sharing()
    kept.clear()
