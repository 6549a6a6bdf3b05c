"""OAuth 2 / OpenID Connect against auth.bexio.com: the authorization server's side.

- `BexioAuth`: authorization URL (state, PKCE S256, nonce), code exchange, refresh, revoke,
  userinfo, discovery, id-token claims. Token parameters always go in the form body.
- `TokenSet`: what the token endpoint answers (access + rotated refresh token, expiry, scopes).
- `new_pkce()`, `new_state()`, `new_nonce()`: the secrets of one authorization.

Keeping a token valid over time (refresh, rotation, several processes) is `bexio.tokens`.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from bexio.errors import (
    ConnectError,
    ConnectionDroppedError,
    OAuthError,
    RequestTimeoutError,
    error_for_status,
)

__all__ = ["DEFAULT_ISSUER", "PKCE", "BexioAuth", "TokenSet", "new_nonce", "new_pkce", "new_state"]

DEFAULT_ISSUER = "https://auth.bexio.com/realms/bexio"


def _utcnow() -> datetime:
    return datetime.now(UTC)


# ---- what the token endpoint answers ------------------------------------------------------------


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
