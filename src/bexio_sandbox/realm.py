"""The Keycloak realm `bexio`: the signing key, OAuth clients (the demo client with its callbacks),
realm users and their company memberships (seed.py), grants (sessions), access and refresh tokens.
oauth.py and login.py serve it over HTTP."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
import uuid

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from . import seed

REALM = "_realm"  # pseudo company of realm-level documents (clients, grants, codes, refresh tokens)


def sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_redirect_uris(uris) -> list[str]:
    """Absolute http(s) URLs without a fragment, as Keycloak accepts them for a client."""
    out = []
    for uri in uris or ():
        uri = str(uri).strip()
        if not re.match(r"^https?://[^/\s#]+(/[^\s#]*)?$", uri):
            raise ValueError(f"not an absolute http(s) redirect URI: {uri!r}")
        out.append(uri)
    return out


class Realm:
    def __init__(self, store, settings_of, demo_redirect_uris=()):
        """`settings_of()` gives the sandbox's current settings (token lifetimes, idle limits)."""
        self.store = store
        self._settings_of = settings_of
        self.demo_redirect_uris = check_redirect_uris(demo_redirect_uris)
        self._token_cache: dict[str, dict] = {}
        self.flows: dict[str, dict] = {}  # browser logins in progress
        self.load_key()

    @property
    def settings(self) -> dict:
        return self._settings_of()

    def clear(self) -> None:
        self._token_cache.clear()
        self.flows.clear()

    def load_key(self) -> None:
        pem = self.store.kv_get("signing_key")
        if pem is None:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ).decode()
            self.store.kv_set("signing_key", pem)
        self.private_key = serialization.load_pem_private_key(pem.encode(), password=None)
        self.public_key = self.private_key.public_key()
        self.kid = base64.urlsafe_b64encode(hashlib.sha256(pem.encode()).digest()[:12]).decode().rstrip("=")

    def register_demo_client(self, known=()) -> None:
        """The demo client with the default callbacks, those it `known` already (a kept --db) and those
        given at start (`--demo-redirect-uri`)."""
        uris = list(dict.fromkeys([*seed.DEMO_REDIRECT_URIS, *known, *self.demo_redirect_uris]))
        self.register_client(seed.DEMO_CLIENT_ID, seed.DEMO_CLIENT_SECRET, uris)

    # clients and users ----------------------------------------------------------------------------
    def register_client(self, client_id: str, client_secret: str, redirect_uris: list[str]) -> dict:
        doc = {"client_id": client_id, "client_secret": client_secret, "redirect_uris": list(redirect_uris)}
        self.store.put("client", REALM, client_id, doc)
        return doc

    def client(self, client_id: str | None) -> dict | None:
        return self.store.get("client", REALM, client_id) if client_id else None

    @staticmethod
    def realm_user(username: str | None) -> dict | None:
        for u in seed.REALM_USERS:
            if username and u["username"].lower() == username.lower():
                return u
        return None

    @staticmethod
    def user_by_sub(sub: str) -> dict | None:
        return next((u for u in seed.REALM_USERS if u["sub"] == sub), None)

    def default_user(self, company: str) -> dict:
        for u in seed.REALM_USERS:
            m = u["memberships"].get(company)
            if m and m["superadmin"]:
                return u
        raise KeyError(company)

    # grants and tokens ---------------------------------------------------------------------------
    def new_grant(self, *, client_id: str, user: dict, company: str, scopes: list[str], nonce=None) -> dict:
        grant = {
            "sid": str(uuid.uuid4()),
            "client_id": client_id,
            "sub": user["sub"],
            "company": company,
            "scopes": scopes,
            "offline": "offline_access" in scopes,
            "active": True,
            "created": time.time(),
            "last_used": time.time(),
            "nonce": nonce,
        }
        self.store.put("grant", REALM, grant["sid"], grant)
        return grant

    def grant_idle_limit(self, grant: dict) -> float:
        return self.settings["offline_idle_s"] if grant["offline"] else self.settings["online_idle_s"]

    def grant_alive(self, grant: dict | None) -> bool:
        if not grant or not grant["active"]:
            return False
        return time.time() - grant["last_used"] <= self.grant_idle_limit(grant)

    def issue_tokens(self, grant: dict, issuer: str, *, with_refresh: bool = True) -> dict:
        now = int(time.time())
        ttl = int(self.settings["access_token_ttl_s"])
        user = self.user_by_sub(grant["sub"])
        member = user["memberships"][grant["company"]]
        scope = " ".join(grant["scopes"])
        claims = {
            "exp": now + ttl,
            "iat": now,
            "jti": str(uuid.uuid4()),
            "iss": issuer,
            "aud": "account",
            "sub": user["sub"],
            "typ": "Bearer",
            "azp": grant["client_id"],
            "sid": grant["sid"],
            "scope": scope,
            "company_id": grant["company"],
            "user_id": member["user_id"],
            "company_user_id": member["user_id"],
            "login_id": user["sub"],
            "email": user["username"],
        }
        access = jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": self.kid})
        out = {
            "access_token": access,
            "expires_in": ttl,
            "refresh_expires_in": 0 if grant["offline"] else int(self.settings["online_idle_s"]),
            "token_type": "Bearer",
            "not-before-policy": 0,
            "session_state": grant["sid"],
            "scope": scope,
        }
        if with_refresh:
            refresh = secrets.token_urlsafe(48)
            self.store.put(
                "refresh",
                REALM,
                sha(refresh),
                {"sid": grant["sid"], "client_id": grant["client_id"], "used": False, "created": now},
            )
            out["refresh_token"] = refresh
        if "openid" in grant["scopes"]:
            id_claims = {
                "exp": now + ttl,
                "iat": now,
                "auth_time": int(grant["created"]),
                "jti": str(uuid.uuid4()),
                "iss": issuer,
                "aud": grant["client_id"],
                "sub": user["sub"],
                "typ": "ID",
                "azp": grant["client_id"],
                "sid": grant["sid"],
                "email": user["username"],
                "email_verified": True,
                "given_name": user["given_name"],
                "family_name": user["family_name"],
                "preferred_username": user["username"],
                "name": f"{user['given_name']} {user['family_name']}",
                "company_id": grant["company"],
                "company_user_id": member["user_id"],
                "company_name": seed.COMPANIES[grant["company"]]["name"],
            }
            if grant.get("nonce"):
                id_claims["nonce"] = grant["nonce"]
            out["id_token"] = jwt.encode(
                id_claims, self.private_key, algorithm="RS256", headers={"kid": self.kid}
            )
        return out

    def verify_access(self, token: str) -> dict | None:
        """Claims of a valid, unexpired, unrevoked access token, else None."""
        claims = self._token_cache.get(token)
        if claims is None:
            try:
                claims = jwt.decode(
                    token,
                    self.public_key,
                    algorithms=["RS256"],
                    audience="account",
                    options={"verify_exp": False, "verify_iss": False},
                )
            except jwt.PyJWTError:
                return None
            if claims.get("typ") != "Bearer":
                return None
            if len(self._token_cache) > 5000:
                self._token_cache.clear()
            self._token_cache[token] = claims
        if claims["exp"] <= time.time():
            return None
        if self.store.kv_get(f"revoked:{claims['jti']}"):
            return None
        grant = self.store.get("grant", REALM, claims["sid"])
        if not grant or not grant["active"]:
            return None
        return claims
