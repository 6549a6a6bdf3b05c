"""OAuth2 / OpenID Connect against auth.bexio.com, and tokens that refresh themselves.

- `BexioAuth`: authorization URL (state, PKCE S256, nonce), code exchange, refresh, revoke,
  userinfo, discovery. Token parameters always go in the form body.
- `TokenStore`: where the tokens live (the app stores them encrypted in its database).
- `TokenProvider`: hands out a valid access token; refreshes one at a time, adopts tokens that
  another process stored, saves the rotated refresh token before using the new access token.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import threading
import time
import weakref
from collections.abc import Callable, Hashable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlencode, urlsplit

import httpx

from bexio import retry
from bexio.errors import (
    BexioError,
    ConnectError,
    ConnectionDroppedError,
    NetworkError,
    OAuthError,
    ReconnectRequired,
    RequestTimeoutError,
    ServerError,
    error_for_status,
)

__all__ = [
    "BexioAuth",
    "MemoryTokenStore",
    "OAuthError",
    "PKCE",
    "StaticToken",
    "ReconnectRequired",
    "TokenProvider",
    "TokenSet",
    "TokenStore",
    "new_nonce",
    "new_pkce",
    "new_state",
]

DEFAULT_ISSUER = "https://auth.bexio.com/realms/bexio"


def _utcnow() -> datetime:
    return datetime.now(UTC)


# ---- tokens ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenSet:
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: datetime
    scopes: frozenset[str] = frozenset()
    id_token: str | None = field(default=None, repr=False)

    def expires_within(self, seconds: float, now: datetime | None = None) -> bool:
        return (now or _utcnow()) + timedelta(seconds=seconds) >= self.expires_at

    def same_as(self, other: TokenSet | None) -> bool:
        return other is not None and (
            other.access_token == self.access_token and other.refresh_token == self.refresh_token
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at.isoformat(),
            "scopes": sorted(self.scopes),
            "id_token": self.id_token,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TokenSet:
        expires_at = data["expires_at"]
        if isinstance(expires_at, str):
            expires_at = datetime.fromisoformat(expires_at)
        return cls(
            access_token=data["access_token"],
            refresh_token=data.get("refresh_token"),
            expires_at=expires_at,
            scopes=frozenset(data.get("scopes") or ()),
            id_token=data.get("id_token"),
        )

    @classmethod
    def from_response(
        cls, data: Mapping[str, Any], *, now: datetime | None = None, previous: TokenSet | None = None
    ) -> TokenSet:
        """Build from a token endpoint answer; keeps the previous refresh token/scopes if omitted."""
        now = now or _utcnow()
        scope = data.get("scope")
        if scope is not None:
            scopes = frozenset(str(scope).split())
        else:
            scopes = previous.scopes if previous else frozenset()
        refresh = data.get("refresh_token") or (previous.refresh_token if previous else None)
        try:
            expires_in = float(data.get("expires_in") or 300)
        except (TypeError, ValueError):
            expires_in = 300.0
        return cls(
            access_token=str(data["access_token"]),
            refresh_token=refresh,
            expires_at=now + timedelta(seconds=expires_in),
            scopes=scopes,
            id_token=data.get("id_token") or (previous.id_token if previous else None),
        )


@runtime_checkable
class TokenStore(Protocol):
    def load(self) -> TokenSet | None: ...

    def save(self, new: TokenSet, *, replaces: TokenSet | None) -> bool:
        """Compare-and-swap: store `new` only while the stored token is still `replaces`."""
        ...


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


# ---- PKCE, state, nonce ---------------------------------------------------------------------


@dataclass(frozen=True)
class PKCE:
    verifier: str = field(repr=False)
    challenge: str
    method: str = "S256"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def new_pkce() -> PKCE:
    verifier = _b64url(secrets.token_bytes(48))  # 64 characters, within RFC 7636's 43..128
    challenge = _b64url(hashlib.sha256(verifier.encode("ascii")).digest())
    return PKCE(verifier=verifier, challenge=challenge)


def new_state() -> str:
    return secrets.token_urlsafe(32)


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


# ---- the authorization server ----------------------------------------------------------------


class BexioAuth:
    def __init__(
        self,
        *,
        issuer: str = DEFAULT_ISSUER,
        client_id: str,
        client_secret: str,
        auth_method: str = "basic",
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        endpoints: Mapping[str, str] | None = None,
    ) -> None:
        if auth_method not in ("basic", "post"):
            raise ValueError("auth_method must be 'basic' or 'post'")
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self.auth_method = auth_method
        base = f"{self.issuer}/protocol/openid-connect"
        self.endpoints: dict[str, str] = {
            "authorization_endpoint": f"{base}/auth",
            "token_endpoint": f"{base}/token",
            "userinfo_endpoint": f"{base}/userinfo",
            "revocation_endpoint": f"{base}/revoke",
            "jwks_uri": f"{base}/certs",
            "end_session_endpoint": f"{base}/logout",
        }
        if endpoints:
            self.endpoints.update(endpoints)
        self._http = httpx.Client(
            transport=transport, timeout=timeout, headers={"Accept": "application/json"}
        )

    def __repr__(self) -> str:
        return f"BexioAuth(issuer={self.issuer!r}, client_id={self.client_id!r})"

    def close(self) -> None:
        self._http.close()

    # discovery
    def discover(self) -> dict[str, Any]:
        url = f"{self.issuer}/.well-known/openid-configuration"
        document = self._call("GET", url)
        for key in list(self.endpoints):
            if isinstance(document.get(key), str):
                self.endpoints[key] = document[key]
        return document

    # front channel
    def authorization_url(
        self,
        *,
        redirect_uri: str,
        scopes: Iterable[str],
        state: str,
        nonce: str | None = None,
        code_challenge: str | None = None,
        code_challenge_method: str = "S256",
        **extra: str,
    ) -> str:
        if not state:
            raise ValueError("state is required")
        params: dict[str, str] = {
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": " ".join(dict.fromkeys(scopes)),
            "state": state,
        }
        if nonce:
            params["nonce"] = nonce
        if code_challenge:
            params["code_challenge"] = code_challenge
            params["code_challenge_method"] = code_challenge_method
        params.update({k: v for k, v in extra.items() if v is not None})
        endpoint = self.endpoints["authorization_endpoint"]
        sep = "&" if urlsplit(endpoint).query else "?"
        return f"{endpoint}{sep}{urlencode(params)}"

    # back channel
    def exchange_code(self, code: str, *, redirect_uri: str, code_verifier: str | None = None) -> TokenSet:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if code_verifier:
            form["code_verifier"] = code_verifier
        return TokenSet.from_response(self._token_call(form))

    def refresh(self, refresh_token: str, *, previous: TokenSet | None = None) -> TokenSet:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return TokenSet.from_response(self._token_call(form), previous=previous)

    def revoke(self, token: str, *, token_type_hint: str | None = "refresh_token") -> None:  # noqa: S107
        form = {"token": token}
        if token_type_hint:
            form["token_type_hint"] = token_type_hint
        self._call("POST", self.endpoints["revocation_endpoint"], form=form, client_auth=True)

    def userinfo(self, access_token: str) -> dict[str, Any]:
        return self._call(
            "GET", self.endpoints["userinfo_endpoint"], headers={"Authorization": f"Bearer {access_token}"}
        )

    def id_token_claims(self, id_token: str, *, nonce: str | None = None, verify: bool = False) -> dict:
        """Claims of an id_token; checks the nonce. With verify=True also signature/iss/aud via JWKS."""
        import jwt  # pyjwt; imported here so that the package works without it

        if verify:
            jwks = jwt.PyJWKClient(self.endpoints["jwks_uri"])
            key = jwks.get_signing_key_from_jwt(id_token).key
            claims = jwt.decode(
                id_token, key, algorithms=["RS256", "ES256"], audience=self.client_id, issuer=self.issuer
            )
        else:
            claims = jwt.decode(id_token, options={"verify_signature": False})
        if nonce is not None and claims.get("nonce") != nonce:
            raise OAuthError("invalid_nonce", "the id_token nonce does not match")
        return claims

    def _token_call(self, form: dict[str, str]) -> dict[str, Any]:
        return self._call("POST", self.endpoints["token_endpoint"], form=form, client_auth=True)

    def _call(
        self,
        method: str,
        url: str,
        *,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        client_auth: bool = False,
    ) -> Any:
        headers = dict(headers or {})
        auth = None
        if client_auth:
            if self.auth_method == "basic":
                auth = httpx.BasicAuth(self.client_id, self._client_secret)
            else:
                form = {**(form or {}), "client_id": self.client_id, "client_secret": self._client_secret}
        path = urlsplit(url).path
        try:
            response = self._http.request(method, url, data=form, headers=headers, auth=auth)
        except httpx.TimeoutException:
            raise RequestTimeoutError("timed out", method=method, path=path) from None
        except httpx.ConnectError:
            raise ConnectError("could not connect", method=method, path=path) from None
        except httpx.TransportError:
            raise ConnectionDroppedError("connection dropped", method=method, path=path) from None
        body: Any = None
        if response.content:
            try:
                body = response.json()
            except ValueError:
                body = None
        if response.status_code >= 400:
            if isinstance(body, dict) and "error" in body:
                raise OAuthError(
                    str(body["error"]),
                    body.get("error_description"),
                    status=response.status_code,
                    method=method,
                    path=path,
                    body=body,
                    headers=response.headers,
                )
            message = body.get("message") if isinstance(body, dict) else response.reason_phrase
            raise error_for_status(response.status_code)(
                message, status=response.status_code, method=method, path=path, body=body
            )
        return body if body is not None else {}


# ---- the provider ---------------------------------------------------------------------------

_LOCKS: weakref.WeakValueDictionary[Hashable, Any] = weakref.WeakValueDictionary()
_LOCKS_GUARD = threading.Lock()


class _Lock:
    """A weak-referenceable RLock wrapper for the per-key registry."""

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
            lock = _Lock()
            _LOCKS[key] = lock
        return lock


log = logging.getLogger(__name__)


class _UnsavedRotation(Exception):
    """bexio rotated the token but the store failed to save it (e.g. its database restarted)."""

    def __init__(self, new: TokenSet, replaces: TokenSet) -> None:
        super().__init__("the rotated bexio token could not be saved")
        self.new = new
        self.replaces = replaces


class TokenProvider:
    """A valid access token on demand, refreshing (rotation-safe) shortly before expiry."""

    def __init__(
        self,
        *,
        auth: BexioAuth,
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
        # After bexio rotated the refresh token the old one is dead: the new pair must reach the
        # store. When the store fails (its database restarting), keep trying this long.
        self.save_retry_s = save_retry_s
        self._sleep = sleep
        self._unsaved: _UnsavedRotation | None = None
        self._clock = clock or _utcnow
        self._lock = _process_lock(lock_key if lock_key is not None else ("store", id(store)))
        self._cached: TokenSet | None = None
        self.refreshes = 0  # how many refresh calls this provider made (for tests and logs)

    def __repr__(self) -> str:
        return f"TokenProvider(store={type(self.store).__name__}, margin={self.refresh_margin_s})"

    @property
    def tokens(self) -> TokenSet | None:
        return self._cached

    def _fresh(self, tokens: TokenSet | None) -> bool:
        return tokens is not None and not tokens.expires_within(self.refresh_margin_s, self._clock())

    def access_token(self) -> str:
        if self._unsaved is not None:
            return self._save_rotated(self._unsaved, budget_s=0).access_token
        cached = self._cached
        if self._fresh(cached):
            return cached.access_token  # type: ignore[union-attr]
        return self._refresh(rejected=None).access_token

    def force_refresh(self, rejected_access_token: str | None = None) -> str:
        """After a 401: adopt a newer stored token if there is one, else refresh."""
        if rejected_access_token is None:
            rejected_access_token = self._cached.access_token if self._cached else ""
        return self._refresh(rejected=rejected_access_token).access_token

    def _store_lock(self) -> AbstractContextManager[Any]:
        lock = getattr(self.store, "lock", None)
        return lock() if callable(lock) else nullcontext()

    def _refresh(self, *, rejected: str | None) -> TokenSet:
        try:
            return self._refresh_locked(rejected=rejected)
        except _UnsavedRotation as unsaved:
            # Outside the store's lock (its transaction died with the connection): retry the save.
            return self._save_rotated(unsaved, budget_s=self.save_retry_s)

    def _save_rotated(self, unsaved: _UnsavedRotation, *, budget_s: float) -> TokenSet:
        """Store the rotated pair, retrying while the store fails (its database restarting).

        The new access token is used only once the pair is saved. Until then the pair is kept here
        so that a later call saves it instead of refreshing again with the spent refresh token.
        """
        with self._lock:
            self._unsaved = unsaved
            self._cached = None
            deadline = time.monotonic() + budget_s
            attempt = 0
            while True:
                try:
                    saved = self.store.save(unsaved.new, replaces=unsaved.replaces)
                except Exception as exc:
                    attempt += 1
                    delay = retry.backoff_delay(attempt, cap=5.0)
                    if time.monotonic() + delay > deadline:
                        log.error("the rotated bexio token could not be saved yet (%s)", type(exc).__name__)
                        raise
                    self._sleep(delay)
                    continue
                self._unsaved = None
                if saved:
                    self._cached = unsaved.new
                    return unsaved.new
                stored = self.store.load()  # someone stored a newer pair meanwhile: adopt it
                if stored is None:
                    raise ReconnectRequired("the bexio token was removed", reason="no_token")
                self._cached = stored
                return stored

    def _refresh_locked(self, *, rejected: str | None) -> TokenSet:
        with self._lock, self._store_lock():
            current = self.store.load()
            if current is None:
                self._cached = None
                raise ReconnectRequired("no bexio token is stored", reason="no_token")
            usable = self._fresh(current) and (rejected is None or current.access_token != rejected)
            if usable:
                # Another thread or process refreshed meanwhile: adopt its token.
                self._cached = current
                return current
            try:
                return self._refresh_and_save(current)
            except (NetworkError, ServerError):
                # The token endpoint is unreachable; a token that has not expired yet still works.
                if rejected is None and not current.expires_within(5, self._clock()):
                    self._cached = current
                    return current
                raise

    def _refresh_and_save(self, current: TokenSet, *, retried: bool = False) -> TokenSet:
        if not current.refresh_token:
            raise ReconnectRequired("the stored bexio token cannot be refreshed", reason="no_refresh_token")
        try:
            self.refreshes += 1
            new = self.auth.refresh(current.refresh_token, previous=current)
        except OAuthError as exc:
            if exc.error != "invalid_grant":
                raise
            return self._after_invalid_grant(current, retried=retried)
        except BexioError:
            # Network failure or 5xx: perhaps another process succeeded meanwhile.
            again = self.store.load()
            if again is not None and not again.same_as(current) and self._fresh(again):
                self._cached = again
                return again
            raise
        # Save the rotated refresh token before anyone uses the new access token.
        try:
            saved = self.store.save(new, replaces=current)
        except Exception as exc:  # noqa: BLE001 (the store failed; the old refresh token is spent)
            raise _UnsavedRotation(new, current) from exc
        if saved:
            self._cached = new
            return new
        stored = self.store.load()
        if stored is None:
            raise ReconnectRequired("the bexio token was removed", reason="no_token")
        self._cached = stored
        return stored

    def _after_invalid_grant(self, current: TokenSet, *, retried: bool) -> TokenSet:
        again = self.store.load()
        if again is None or again.same_as(current) or retried:
            self._cached = None
            raise ReconnectRequired("bexio refused the refresh token (invalid_grant)", reason="invalid_grant")
        if self._fresh(again):
            self._cached = again
            return again
        return self._refresh_and_save(again, retried=True)


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
