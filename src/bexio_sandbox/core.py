"""The sandbox's state: store, settings, signing key, clients, grants, faults, rate limits, log."""

from __future__ import annotations

import base64
import copy
import hashlib
import random
import re
import secrets
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from . import seed
from .ratelimit import DEFAULT as DEFAULT_BUCKET
from .ratelimit import LIMITS, WINDOW_S, RateLimiter, Take
from .store import Store

REALM = "_realm"  # pseudo company of realm-level documents (clients, grants, codes)

DEFAULT_SETTINGS = {
    "rate_limit": LIMITS[DEFAULT_BUCKET],  # the default bucket (everything not named in ratelimit.BUCKETS)
    "rate_window_s": WINDOW_S,  # the default bucket's window; the named buckets count per minute
    "rate_limits": dict(LIMITS),  # per bucket; "default" mirrors rate_limit
    "latency_ms": 0,
    "access_token_ttl_s": 3600,
    "revoke_used_refresh_tokens": True,
    "offline_idle_s": 365 * 24 * 3600,
    "online_idle_s": 1800,
    "code_ttl_s": 60,
    "timeout_hold_s": 30,
    "allow_balance_sheet_positions": False,  # bexio refuses positions on asset/liability accounts
}

# which scope pair guards which API path (read scope, write scope); None = any valid token
SCOPE_RULES = [
    (
        re.compile(r"^/2\.0/(contact|contact_group|contact_relation|contact_branch|salutation|title)\b"),
        ("contact_show", "contact_edit"),
        "contact",
    ),
    (re.compile(r"^/2\.0/kb_invoice\b"), ("kb_invoice_show", "kb_invoice_edit"), "kb_invoice"),
    (re.compile(r"^/2\.0/kb_offer\b"), ("kb_offer_show", "kb_offer_edit"), "kb_offer"),
    (re.compile(r"^/2\.0/kb_order\b"), ("kb_order_show", "kb_order_edit"), "kb_order"),
    (re.compile(r"^/2\.0/kb_delivery\b"), ("kb_delivery_show", "kb_delivery_edit"), "kb_delivery"),
    (re.compile(r"^/2\.0/note\b"), ("note_show", "note_edit"), "other"),
    (re.compile(r"^/2\.0/article\b"), ("article_show", "article_edit"), "article"),
    (re.compile(r"^/3\.0/banking/accounts\b"), ("bank_account_show", "bank_account_show"), "bank_account"),
    (
        re.compile(r"^/(2\.0/accounts|2\.0/account_groups|3\.0/taxes|3\.0/currencies|3\.0/accounting)\b"),
        ("accounting", "accounting"),
        "accounting",
    ),
]

KNOWN_SCOPES = {
    "openid",
    "profile",
    "email",
    "offline_access",
    "company_profile",
    "accounting",
    "article_show",
    "article_edit",
    "bank_account_show",
    "bank_payment_show",
    "bank_payment_edit",
    "contact_show",
    "contact_edit",
    "file",
    "kb_invoice_show",
    "kb_invoice_edit",
    "kb_offer_show",
    "kb_offer_edit",
    "kb_order_show",
    "kb_order_edit",
    "kb_delivery_show",
    "kb_delivery_edit",
    "monitoring_show",
    "monitoring_edit",
    "note_show",
    "note_edit",
    "kb_article_order_show",
    "kb_article_order_edit",
    "project_show",
    "project_edit",
    "stock_edit",
    "task_show",
    "task_edit",
    "kb_bill_show",
    "kb_expense_show",
    "payroll_employee_show",
    "payroll_employee_edit",
    "payroll_absence_show",
    "payroll_absence_edit",
    "payroll_paystub_show",
    "additional_company",
}

ALL_API_SCOPES = sorted(KNOWN_SCOPES - {"additional_company"})


def check_redirect_uris(uris) -> list[str]:
    """Absolute http(s) URLs without a fragment, as Keycloak accepts them for a client."""
    out = []
    for uri in uris or ():
        uri = str(uri).strip()
        if not re.match(r"^https?://[^/\s#]+(/[^\s#]*)?$", uri):
            raise ValueError(f"not an absolute http(s) redirect URI: {uri!r}")
        out.append(uri)
    return out


def expand_scopes(scopes) -> list[str]:
    """Write implies read: `contact_edit` grants `contact_show` too."""
    out = []
    for s in scopes:
        if s and s not in out:
            out.append(s)
        if s.endswith("_edit"):
            show = s[: -len("_edit")] + "_show"
            if show in KNOWN_SCOPES and show not in out:
                out.append(show)
    return out


def sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Fault:
    method: str | None
    path: re.Pattern
    when: str
    effect: str
    probability: float
    times: int | None
    rng: random.Random
    hits: int = 0
    spec: dict = field(default_factory=dict)

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method not in ("*", method):
            return False
        if not self.path.search(path):
            return False
        if self.times is not None and self.hits >= self.times:
            return False
        if self.probability < 1 and self.rng.random() >= self.probability:
            return False
        self.hits += 1
        return True


class Sandbox:
    def __init__(self, db: str = ":memory:", demo_redirect_uris=(), **settings):
        """`demo_redirect_uris`: callbacks the demo client accepts besides 127.0.0.1:8000 and localhost:8000
        (e.g. the app's `AEROLEDGER_BASE_URL` + /bexio/callback); kept through resets."""
        self.store = Store(db)
        self.demo_redirect_uris = check_redirect_uris(demo_redirect_uris)
        self.settings = copy.deepcopy(DEFAULT_SETTINGS)
        self.update_settings({k: v for k, v in settings.items() if v is not None})
        self.defaults = copy.deepcopy(self.settings)
        self.faults: list[Fault] = []
        self.faults_lock = threading.Lock()
        self.wake = threading.Event()  # set on reset/clear_faults: held "timeout" requests end
        self.log: deque[dict] = deque(maxlen=20000)
        self.log_lock = threading.Lock()
        self.log_seq = 0
        self.limiter = RateLimiter()
        self._token_cache: dict[str, dict] = {}
        self.flows: dict[str, dict] = {}
        with self.store.tx():
            self._load_key()
            if not self.store.kv_get("seeded"):
                self._seed()
            else:  # a kept --db: the callbacks it knows stay, the ones given now are added
                known = (self.client(seed.DEMO_CLIENT_ID) or {}).get("redirect_uris", [])
                self._register_demo_client(known)

    # setup -------------------------------------------------------------------------------------
    def _load_key(self) -> None:
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

    def _seed(self) -> None:
        seed.seed_all(self.store)
        self._register_demo_client()

    def _register_demo_client(self, known=()) -> None:
        uris = list(dict.fromkeys([*seed.DEMO_REDIRECT_URIS, *known, *self.demo_redirect_uris]))
        self.register_client(seed.DEMO_CLIENT_ID, seed.DEMO_CLIENT_SECRET, uris)

    def reset(self) -> None:
        with self.store.tx():
            self.store.wipe(keep_keys=("signing_key",))
            self._seed()
        self.settings = copy.deepcopy(self.defaults)
        self.clear_faults()
        self.limiter.clear()
        self._token_cache.clear()
        self.flows.clear()
        with self.log_lock:
            self.log.clear()

    def update_settings(self, values: dict) -> dict:
        """Validate and apply; `rate_limits` merges per bucket, `rate_limit` is the default bucket's."""
        unknown = set(values) - set(DEFAULT_SETTINGS)
        if unknown:
            raise ValueError(f"unknown settings: {sorted(unknown)}")
        limits = values.get("rate_limits") or {}
        if not isinstance(limits, dict) or set(limits) - set(LIMITS):
            names = ", ".join(LIMITS)
            raise ValueError(f"rate_limits: a mapping of buckets ({names}) to requests per minute")
        for k, v in values.items():
            if k in ("revoke_used_refresh_tokens", "allow_balance_sheet_positions"):
                self.settings[k] = bool(v)
            elif k == "rate_limits":
                self.settings[k].update({name: int(n) for name, n in limits.items()})
                if DEFAULT_BUCKET in limits and "rate_limit" not in values:
                    self.settings["rate_limit"] = int(limits[DEFAULT_BUCKET])
            else:
                self.settings[k] = float(v) if isinstance(v, float) and not float(v).is_integer() else int(v)
        self.settings["rate_limits"][DEFAULT_BUCKET] = self.settings["rate_limit"]
        return copy.deepcopy(self.settings)

    # realm -------------------------------------------------------------------------------------
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

    # faults ------------------------------------------------------------------------------------
    def add_fault(self, spec: dict) -> dict:
        when = spec.get("when", "before")
        effect = str(spec.get("effect", "status:500"))
        if when not in ("before", "after_commit"):
            raise ValueError("when must be before or after_commit")
        if not re.fullmatch(r"status:\d{3}|drop|timeout|delay:\d+", effect):
            raise ValueError("effect must be status:<code>, drop, timeout or delay:<ms>")
        method = spec.get("method")
        fault = Fault(
            method=method.upper() if method else None,
            path=re.compile(spec.get("path", ".*")),
            when=when,
            effect=effect,
            probability=float(spec.get("probability", 1.0)),
            times=int(spec["times"]) if spec.get("times") is not None else None,
            rng=random.Random(spec.get("seed")),
            spec=dict(spec),
        )
        with self.faults_lock:
            self.faults.append(fault)
            self.wake.clear()
        return {**fault.spec, "when": when, "effect": effect}

    def clear_faults(self) -> None:
        with self.faults_lock:
            self.faults = []
        self.wake.set()

    def match_fault(self, method: str, path: str, when: str) -> Fault | None:
        if not self.faults:
            return None
        with self.faults_lock:
            for f in self.faults:
                if f.when == when and f.matches(method, path):
                    return f
        return None

    # rate limit --------------------------------------------------------------------------------
    def rate_take(self, key: str, bucket: str = DEFAULT_BUCKET) -> Take:
        """One request of `key` (a company, or `ip:<addr>`) against `bucket` (see ratelimit.py)."""
        if bucket == DEFAULT_BUCKET:
            return self.limiter.take(key, bucket, self.settings["rate_limit"], self.settings["rate_window_s"])
        return self.limiter.take(key, bucket, self.settings["rate_limits"][bucket], WINDOW_S)

    # request log -------------------------------------------------------------------------------
    def log_request(self, entry: dict) -> None:
        with self.log_lock:
            self.log_seq += 1
            entry["id"] = self.log_seq
            self.log.append(entry)

    def requests_since(self, since: int) -> list[dict]:
        with self.log_lock:
            return [e for e in self.log if e["id"] > since]
