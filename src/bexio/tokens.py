"""Tokens that stay valid: where they are stored, and the provider that refreshes them.

- `TokenStore`: where the tokens live (the app stores them encrypted in its database), with a
  compare-and-swap `save` and an optional cross-process `lock()`.
- `TokenProvider`: hands out a valid access token; refreshes one at a time, adopts tokens another
  process stored, saves the rotated refresh token before using the new access token, and keeps a
  rotated pair it could not save until it can (never sending the spent refresh token again).
  The sequence and its table of cases are `bexio.refresh`; this module only does the I/O.
- `StaticToken`: a fixed token (personal access token, sandbox token).
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable, Hashable
from contextlib import AbstractContextManager, ExitStack, nullcontext
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from bexio.errors import BexioError, NetworkError, OAuthError, ReconnectRequired, ServerError
from bexio.oauth import TokenSet
from bexio.refresh import Act, Failure, Situation, Step, decide

__all__ = ["MemoryTokenStore", "Refresher", "StaticToken", "TokenProvider", "TokenStore"]

log = logging.getLogger(__name__)

RECONNECT_MESSAGES = {
    "no_token": "no bexio token is stored",
    "no_refresh_token": "the stored bexio token cannot be refreshed",
    "invalid_grant": "bexio refused the refresh token (invalid_grant)",
}


@runtime_checkable
class TokenStore(Protocol):
    def load(self) -> TokenSet | None: ...

    def save(self, new: TokenSet, *, replaces: TokenSet | None) -> bool:
        """Compare-and-swap: store `new` only while the stored token is still `replaces`."""
        ...


class Refresher(Protocol):
    """What the provider needs of `BexioAuth`."""

    def refresh(self, refresh_token: str, *, previous: TokenSet | None = None) -> TokenSet: ...


class MemoryTokenStore:
    """A thread-safe in-process store (tests, scripts, personal use)."""

    def __init__(self, initial: TokenSet | None = None) -> None:
        self._tokens = initial
        self._lock = threading.Lock()
        self.saves = 0

    def load(self) -> TokenSet | None:
        with self._lock:
            return self._tokens

    def save(self, new: TokenSet, *, replaces: TokenSet | None) -> bool:
        with self._lock:
            current = self._tokens
            if current is not None and not current.same_as(replaces):
                return False
            if current is None and replaces is not None:
                return False
            self._tokens = new
            self.saves += 1
            return True


class StaticToken:
    """A fixed access token (personal access token). A 401 is not retried."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "StaticToken(***)"

    def access_token(self) -> str:
        return self._token

    def force_refresh(self, rejected_access_token: str | None = None) -> str | None:
        return None  # nothing to refresh: the client raises the 401


# One lock per key (by default per store object) shared by all providers of the process.
_LOCKS: weakref.WeakValueDictionary[Hashable, Any] = weakref.WeakValueDictionary()
_LOCKS_GUARD = threading.Lock()


class _Lock:
    """A weak-referenceable RLock for the per-key registry."""

    def __init__(self) -> None:
        self._lock = threading.RLock()

    def __enter__(self) -> None:
        self._lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


def _process_lock(key: Hashable) -> _Lock:
    with _LOCKS_GUARD:
        lock = _LOCKS.get(key)
        if lock is None:
            lock = _LOCKS[key] = _Lock()
        return lock


def _failure(exc: BexioError) -> Failure:
    if isinstance(exc, OAuthError):
        return Failure.INVALID_GRANT if exc.error == "invalid_grant" else Failure.OAUTH
    if isinstance(exc, NetworkError | ServerError):
        return Failure.UNREACHABLE
    return Failure.FAILED


def _utcnow() -> datetime:
    return datetime.now(UTC)


class TokenProvider:
    """A valid access token on demand, refreshing (rotation-safe) shortly before expiry."""

    def __init__(
        self,
        *,
        auth: Refresher,
        store: TokenStore,
        refresh_margin_s: float = 120,
        lock_key: Hashable | None = None,
        clock: Callable[[], datetime] | None = None,
        save_retry_s: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.auth = auth
        self.store = store
        self.refresh_margin_s = refresh_margin_s
        # After bexio rotated the refresh token the old one is spent: the new pair must reach the
        # store. When the store fails (its database restarting), keep trying this long.
        self.save_retry_s = save_retry_s
        self._sleep = sleep
        self._clock = clock or _utcnow
        self._lock = _process_lock(lock_key if lock_key is not None else ("store", id(store)))
        self._cached: TokenSet | None = None
        self._pending: TokenSet | None = None  # rotated by bexio, not saved yet
        self._replaces: TokenSet | None = None  # what `_pending` replaces in the store
        self.refreshes = 0  # how many refresh calls this provider made (for tests and logs)

    def __repr__(self) -> str:
        return f"TokenProvider(store={type(self.store).__name__}, margin={self.refresh_margin_s})"

    @property
    def tokens(self) -> TokenSet | None:
        return self._cached

    def access_token(self) -> str:
        """The current access token, refreshed when it expires within the margin."""
        cached = self._cached
        if self._pending is None and cached is not None:  # the common case, without the lock
            if not cached.expires_within(self.refresh_margin_s, self._clock()):
                return cached.access_token
        return self._obtain(rejected=None, force=False).access_token

    def force_refresh(self, rejected_access_token: str | None = None) -> str:
        """After a 401 (or for keep-alive): adopt a newer stored token if there is one, else refresh."""
        if rejected_access_token is None:
            rejected_access_token = self._cached.access_token if self._cached else ""
        return self._obtain(rejected=rejected_access_token, force=True).access_token

    def _store_lock(self) -> AbstractContextManager[Any]:
        lock = getattr(self.store, "lock", None)
        return lock() if callable(lock) else nullcontext()

    def _obtain(self, *, rejected: str | None, force: bool) -> TokenSet:
        """Run the refresh sequence (bexio.refresh.decide) until it hands out a token or raises."""
        with self._lock, ExitStack() as store_lock:
            s = Situation(
                Step.BEGIN, cached=self._cached, pending=self._pending, rejected=rejected, force=force
            )
            error: BaseException | None = None
            deadline = 0.0
            while True:
                d = decide(s, now=self._clock(), margin_s=self.refresh_margin_s)
                if d.act is Act.USE:
                    self._cached = d.token
                    return d.token  # type: ignore[return-value]
                if d.act is Act.LOAD:
                    store_lock.enter_context(self._store_lock())
                    s = s.then(Step.LOADED, stored=self.store.load())
                elif d.act is Act.REFRESH:
                    s, error = self._refresh(s, d.token)  # type: ignore[arg-type]
                elif d.act is Act.SAVE:
                    # Right after a refresh, saving may be retried for `save_retry_s`; a pair left
                    # unsaved by an earlier call gets one attempt per call.
                    budget = self.save_retry_s if s.step is Step.REFRESHED else 0.0
                    deadline = time.monotonic() + budget
                    s, error = self._save(s, deadline)
                elif d.act is Act.SAVE_LATER:
                    # The store's transaction may have died with its connection: retry outside it.
                    store_lock.close()
                    self._sleep(d.wait_s)
                    s, error = self._save(s, deadline)
                elif d.act is Act.RECONNECT:
                    self._cached = None
                    raise ReconnectRequired(RECONNECT_MESSAGES[d.reason], reason=d.reason)
                else:  # Act.RAISE
                    assert error is not None
                    if self._pending is not None:
                        log.error("the rotated bexio token could not be saved yet (%s)", type(error).__name__)
                    raise error

    def _refresh(self, s: Situation, current: TokenSet) -> tuple[Situation, BaseException | None]:
        retried = s.spent is not None  # a second refresh in one sequence follows invalid_grant
        try:
            self.refreshes += 1
            new = self.auth.refresh(current.refresh_token or "", previous=current)
        except BexioError as exc:
            failure = _failure(exc)
            stored = self.store.load() if failure is not Failure.OAUTH else s.stored
            s = s.then(Step.REFRESH_FAILED, failure=failure, spent=current, stored=stored, retried=retried)
            return s, exc
        # The refresh token of `current` is spent: from here on only `new` is live.
        self._pending, self._replaces, self._cached = new, current, None
        return s.then(Step.REFRESHED, pending=new, spent=current, retried=retried), None

    def _save(self, s: Situation, deadline: float) -> tuple[Situation, BaseException | None]:
        pending, replaces = self._pending, self._replaces
        assert pending is not None
        try:
            saved = self.store.save(pending, replaces=replaces)
        except Exception as exc:  # noqa: BLE001 (the store failed; keep the pair, never refresh again)
            left = max(0.0, deadline - time.monotonic())
            return s.then(Step.SAVE_FAILED, save_failures=s.save_failures + 1, save_time_left_s=left), exc
        self._pending = self._replaces = None
        if saved:
            return s.then(Step.SAVED, pending=pending, save_failures=0), None
        return s.then(Step.CAS_LOST, pending=None, stored=self.store.load(), save_failures=0), None
