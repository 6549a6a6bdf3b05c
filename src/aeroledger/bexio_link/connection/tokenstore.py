"""The database-backed TokenStore: one organisation's token pair, compare-and-swap under a row lock.

`save(new, replaces=old)` stores `new` only when the stored pair is still `old`, all inside one
transaction holding the row lock (`select_for_update` on PostgreSQL; on SQLite the settings' IMMEDIATE
transaction mode takes the database write lock at BEGIN). `lock()` lets the token provider
hold that same lock around the refresh itself, so among any number of web and worker processes
exactly one spends the old refresh token and the others adopt the token it saved.

A successful save also writes the "Token refreshed" history event (with its trigger: the scheduled
keep-alive or on demand) in that same transaction, so there is exactly one event per stored
refresh and none for a refused compare-and-swap. The event holds no token.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from django.db import connection, transaction
from django.utils import timezone

from bexio.auth import TokenSet

from .models import BexioConnection, ConnectionEvent, EventKind, Status, Trigger


def _tokenset(conn: BexioConnection) -> TokenSet | None:
    if conn.status != Status.CONNECTED or not conn.has_token:
        return None
    return TokenSet(
        access_token=conn.get_access_token(),
        refresh_token=conn.get_refresh_token() or None,
        expires_at=conn.expires_at,
        scopes=frozenset(conn.granted_scopes),
        id_token=None,
    )


def same_tokens(a: TokenSet | None, b: TokenSet | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a.access_token == b.access_token and a.refresh_token == b.refresh_token


class DatabaseTokenStore:
    """TokenStore for one organisation's BexioConnection row.

    `trigger` (a `Trigger`) and `describe` (returns a short token-free label, e.g. the call
    context "transfer:<uuid>") go into the "Token refreshed" event; `saved` counts the refreshes
    this store stored.
    """

    def __init__(
        self,
        organisation_id: int,
        *,
        trigger: str = Trigger.ON_DEMAND,
        describe: Callable[[], str] | None = None,
    ):
        self.organisation_id = organisation_id
        self.trigger = trigger
        self.describe = describe
        self.saved = 0

    def _row(self, *, lock: bool = False) -> BexioConnection | None:
        qs = BexioConnection.objects.filter(organisation_id=self.organisation_id)
        if lock:
            qs = qs.select_for_update()
        return qs.first()

    @staticmethod
    def _live_connection() -> None:
        """After a database restart the provider retries: drop a broken connection first."""
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()

    def load(self) -> TokenSet | None:
        self._live_connection()
        conn = self._row()
        return _tokenset(conn) if conn else None

    def save(self, new: TokenSet, *, replaces: TokenSet | None) -> bool:
        self._live_connection()
        with transaction.atomic():
            conn = self._row(lock=True)
            if conn is None or not same_tokens(_tokenset(conn), replaces):
                return False
            conn.set_tokens(new.access_token, new.refresh_token or conn.get_refresh_token())
            conn.expires_at = new.expires_at
            if new.scopes:
                conn.granted_scopes = sorted(new.scopes)
            conn.last_refresh_at = timezone.now()
            conn.save(
                update_fields=[
                    "access_token_enc",
                    "refresh_token_enc",
                    "expires_at",
                    "granted_scopes",
                    "last_refresh_at",
                    "updated_at",
                ]
            )
            ConnectionEvent.objects.create(
                organisation_id=self.organisation_id,
                at=conn.last_refresh_at,
                kind=EventKind.REFRESHED,
                trigger=self.trigger,
                message=(self.describe() if self.describe else "")[:200],
                company_id=conn.company_id,
                company_name=conn.company_name,
            )
            self.saved += 1
            return True

    @contextlib.contextmanager
    def lock(self):
        """Held by the TokenProvider around a refresh: a transaction holding the row lock."""
        with transaction.atomic():
            self._row(lock=True)
            yield
