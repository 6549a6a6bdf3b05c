"""The sandbox's state: the store, the settings, and the parts that keep state between requests:
the realm (realm.py), the rate limits (ratelimit.py), the fault rules (faults.py) and the request log."""

from __future__ import annotations

import copy
import threading
from collections import deque

from . import seed
from .faults import FaultRules
from .ratelimit import DEFAULT as DEFAULT_BUCKET
from .ratelimit import LIMITS, WINDOW_S, RateLimiter, Take
from .realm import Realm
from .store import Store

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


class Sandbox:
    def __init__(self, db: str = ":memory:", demo_redirect_uris=(), **settings):
        """`settings`: start values (DEFAULT_SETTINGS keys) that a reset returns to;
        `demo_redirect_uris`: further callbacks of the demo client, kept through resets (realm.py)."""
        self.store = Store(db)
        self.settings = copy.deepcopy(DEFAULT_SETTINGS)
        self.update_settings({k: v for k, v in settings.items() if v is not None})
        self.defaults = copy.deepcopy(self.settings)
        self.faults = FaultRules()
        self.limiter = RateLimiter()
        self.log: deque[dict] = deque(maxlen=20000)
        self.log_lock = threading.Lock()
        self.log_seq = 0
        with self.store.tx():
            self.realm = Realm(self.store, lambda: self.settings, demo_redirect_uris)
            if not self.store.kv_get("seeded"):
                self._seed()
            else:  # a kept --db: the callbacks it knows stay, the ones given now are added
                known = (self.realm.client(seed.DEMO_CLIENT_ID) or {}).get("redirect_uris", [])
                self.realm.register_demo_client(known)
            # a --db seeded by an older version keeps its data; `POST /_sandbox/reset` brings the current seed
            self.seed_outdated = self.store.kv_get("seed_version", 1) != seed.SEED_VERSION

    @property
    def wake(self):
        """Set on reset and when faults are cleared: held "timeout" requests end."""
        return self.faults.wake

    def _seed(self) -> None:
        seed.seed_all(self.store)
        self.realm.register_demo_client()

    def reset(self) -> None:
        with self.store.tx():
            self.store.wipe(keep_keys=("signing_key",))
            self._seed()
        self.seed_outdated = False
        self.settings = copy.deepcopy(self.defaults)
        self.faults.clear()
        self.limiter.clear()
        self.realm.clear()
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
