"""OAuth2 against a mocked token endpoint, and the rotation-safe TokenProvider."""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bexio import errors
from bexio.auth import (
    BexioAuth,
    MemoryTokenStore,
    ReconnectRequired,
    TokenProvider,
    TokenSet,
    new_pkce,
)

from .conftest import ISSUER, recorded, tokens


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def make_auth(handler, **kw) -> tuple[BexioAuth, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request):
        request.read()
        seen.append(request)
        return handler(request)

    kw.setdefault("auth_method", "basic")
    return BexioAuth(issuer=ISSUER, client_id="cid", client_secret="csecret",
                     transport=httpx.MockTransport(record), **kw), seen  # fmt: skip


def token_answer(n: int, **extra):
    body = {"access_token": f"at-{n}", "refresh_token": f"rt-{n}", "expires_in": 3600, "token_type": "Bearer"}
    body.update(extra)
    return httpx.Response(200, json=body)


# ---- BexioAuth -------------------------------------------------------------------------------------


def test_authorization_url_has_state_pkce_and_nonce():
    auth, _ = make_auth(lambda r: httpx.Response(500))
    pkce = new_pkce()
    url = auth.authorization_url(
        redirect_uri="http://127.0.0.1:8000/bexio/callback",
        scopes=["openid", "offline_access", "contact_edit"],
        state="st",
        nonce="no",
        code_challenge=pkce.challenge,
    )
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{ISSUER}/protocol/openid-connect/auth"
    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert q == {
        "client_id": "cid",
        "redirect_uri": "http://127.0.0.1:8000/bexio/callback",
        "response_type": "code",
        "scope": "openid offline_access contact_edit",
        "state": "st",
        "nonce": "no",
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
    }
    expected = base64.urlsafe_b64encode(hashlib.sha256(pkce.verifier.encode()).digest()).rstrip(b"=")
    assert pkce.challenge == expected.decode()
    assert 43 <= len(pkce.verifier) <= 128


def test_exchange_code_puts_parameters_in_the_form_body_with_basic_auth():
    auth, seen = make_auth(lambda r: token_answer(1, scope="openid offline_access contact_show"))
    got = auth.exchange_code("the-code", redirect_uri="http://x/cb", code_verifier="ver")
    (req,) = seen
    assert req.method == "POST" and req.url.query == b""
    assert req.url.path == "/realms/bexio/protocol/openid-connect/token"
    assert form(req) == {
        "grant_type": "authorization_code",
        "code": "the-code",
        "redirect_uri": "http://x/cb",
        "code_verifier": "ver",
    }
    assert req.headers["Authorization"] == "Basic " + base64.b64encode(b"cid:csecret").decode()
    assert got.access_token == "at-1" and got.refresh_token == "rt-1"
    assert got.scopes == {"openid", "offline_access", "contact_show"}
    assert 3590 < (got.expires_at.timestamp() - time.time()) <= 3600


def test_client_secret_post_sends_credentials_in_the_body_only():
    auth, seen = make_auth(lambda r: token_answer(2), auth_method="post")
    auth.refresh("rt-1")
    (req,) = seen
    assert "Authorization" not in req.headers
    assert form(req) == {
        "grant_type": "refresh_token",
        "refresh_token": "rt-1",
        "client_id": "cid",
        "client_secret": "csecret",
    }


def test_refresh_keeps_scopes_when_the_answer_omits_them():
    auth, _ = make_auth(lambda r: token_answer(2))
    got = auth.refresh("rt-1", previous=tokens())
    assert got.scopes == tokens().scopes and got.refresh_token == "rt-2"


def test_token_error_is_an_oauth_error_without_secrets():
    body = {"error": "invalid_grant", "error_description": "Token is not active"}
    auth, _ = make_auth(lambda r: httpx.Response(400, json=body))
    with pytest.raises(errors.OAuthError) as caught:
        auth.refresh("secret-refresh-token")
    assert caught.value.error == "invalid_grant" and caught.value.status == 400
    assert "secret" not in str(caught.value) + repr(caught.value.__dict__)


def test_revoke_and_userinfo():
    _, _, info = recorded("OpenID/fetch-user-info")

    def handler(request):
        if request.url.path.endswith("/revoke"):
            return httpx.Response(200)
        return httpx.Response(200, json=info)

    auth, seen = make_auth(handler)
    auth.revoke("rt-9")
    assert form(seen[0]) == {"token": "rt-9", "token_type_hint": "refresh_token"}
    assert seen[0].headers["Authorization"].startswith("Basic ")
    assert auth.userinfo("at-9")["company_id"] == "q69vysq7fkzl"
    assert seen[1].headers["Authorization"] == "Bearer at-9"


def test_discovery_adopts_endpoints():
    _, _, doc = recorded("OAuth/openid-configuration")
    auth, seen = make_auth(lambda r: httpx.Response(200, json=doc))
    assert auth.discover()["issuer"] == "https://auth.bexio.com/realms/bexio"
    assert seen[0].url.path == "/realms/bexio/.well-known/openid-configuration"
    assert auth.endpoints["token_endpoint"] == doc["token_endpoint"]
    assert auth.endpoints["revocation_endpoint"] == doc["revocation_endpoint"]


# ---- TokenProvider ---------------------------------------------------------------------------------


class CountingAuth:
    """Counts refresh calls; optionally slow, to make races real."""

    def __init__(self, *, delay: float = 0.0, fail: Exception | None = None):
        self.calls: list[str] = []
        self.delay = delay
        self.fail = fail
        self.lock = threading.Lock()

    def refresh(self, refresh_token, *, previous=None):
        with self.lock:
            self.calls.append(refresh_token)
            n = len(self.calls) + 1
        time.sleep(self.delay)
        if self.fail:
            raise self.fail
        return TokenSet.from_response(
            {"access_token": f"at-{n}", "refresh_token": f"rt-{n}", "expires_in": 3600}, previous=previous
        )


def test_fresh_token_is_used_without_refresh():
    auth = CountingAuth()
    provider = TokenProvider(auth=auth, store=MemoryTokenStore(tokens()))
    assert provider.access_token() == "at-1" and auth.calls == []


def test_token_near_expiry_is_refreshed_and_rotation_saved():
    auth = CountingAuth()
    store = MemoryTokenStore(tokens(expires_in=60))
    provider = TokenProvider(auth=auth, store=store, refresh_margin_s=120)
    assert provider.access_token() == "at-2"
    assert auth.calls == ["rt-1"]
    assert store.load().refresh_token == "rt-2"  # the rotated refresh token is stored


def test_new_access_token_is_not_used_when_saving_the_rotated_token_fails():
    class BrokenStore(MemoryTokenStore):
        def save(self, new, *, replaces):
            raise OSError("database down")

    provider = TokenProvider(auth=CountingAuth(), store=BrokenStore(tokens(expires_in=10)), save_retry_s=0)
    with pytest.raises(OSError):
        provider.access_token()
    assert provider.tokens is None or provider.tokens.access_token != "at-2"


def test_a_store_failing_during_rotation_is_retried_and_the_spent_token_never_reused():
    """The database restarts just as bexio rotates: the new pair is saved once it is back."""
    auth = CountingAuth()

    class RestartingStore(MemoryTokenStore):
        failures = 2

        def save(self, new, *, replaces):
            if self.failures:
                self.failures -= 1
                raise OSError("database restarting")
            return super().save(new, replaces=replaces)

    store = RestartingStore(tokens(expires_in=10))
    provider = TokenProvider(auth=auth, store=store, sleep=lambda s: None)
    assert provider.access_token() == "at-2"
    assert store.load().refresh_token == "rt-2"
    assert auth.calls == ["rt-1"]  # one refresh: the spent rt-1 was not sent again


def test_a_pair_that_could_not_be_saved_is_saved_by_the_next_call_not_refreshed_again():
    auth = CountingAuth()

    class DownThenUp(MemoryTokenStore):
        down = True

        def save(self, new, *, replaces):
            if self.down:
                raise OSError("database down")
            return super().save(new, replaces=replaces)

    store = DownThenUp(tokens(expires_in=10))
    provider = TokenProvider(auth=auth, store=store, save_retry_s=0)
    with pytest.raises(OSError):
        provider.access_token()
    store.down = False
    assert provider.access_token() == "at-2"
    assert store.load().refresh_token == "rt-2"
    assert auth.calls == ["rt-1"]


def test_two_threads_racing_make_exactly_one_refresh():
    auth = CountingAuth(delay=0.2)
    store = MemoryTokenStore(tokens(expires_in=30))
    # Two providers (e.g. two clients of one organisation) sharing the store and the lock key.
    providers = [TokenProvider(auth=auth, store=store, lock_key="org-1") for _ in range(2)]
    barrier = threading.Barrier(2)
    got = []

    def run(p):
        barrier.wait()
        got.append(p.access_token())

    threads = [threading.Thread(target=run, args=(p,)) for p in providers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert auth.calls == ["rt-1"]
    assert got == ["at-2", "at-2"]
    assert store.saves == 1


def test_a_token_stored_by_another_process_is_adopted():
    auth = CountingAuth()
    store = MemoryTokenStore(tokens(expires_in=30))
    provider = TokenProvider(auth=auth, store=store)
    provider._cached = store.load()
    # Another process refreshed and stored a newer token.
    store.save(tokens("at-other", "rt-other"), replaces=store.load())
    assert provider.access_token() == "at-other"
    assert auth.calls == []


def test_force_refresh_after_401_adopts_or_refreshes():
    auth = CountingAuth()
    store = MemoryTokenStore(tokens())
    provider = TokenProvider(auth=auth, store=store)
    assert provider.force_refresh("at-1") == "at-2"  # the stored token is the rejected one
    assert auth.calls == ["rt-1"]
    store.save(tokens("at-new", "rt-new"), replaces=store.load())
    assert provider.force_refresh("at-2") == "at-new"  # someone else already has a newer one
    assert auth.calls == ["rt-1"]


def test_invalid_grant_rereads_store_then_reconnect_required():
    auth = CountingAuth(fail=errors.OAuthError("invalid_grant", "Token is not active", status=400))
    store = MemoryTokenStore(tokens(expires_in=10))
    loads = []
    original = store.load
    store.load = lambda: (loads.append(1), original())[1]
    provider = TokenProvider(auth=auth, store=store)
    with pytest.raises(ReconnectRequired) as caught:
        provider.access_token()
    assert caught.value.reason == "invalid_grant"
    assert auth.calls == ["rt-1"]
    assert len(loads) == 2  # once before refreshing, once after the failure


def test_invalid_grant_with_a_newer_token_in_the_store_is_recovered():
    store = MemoryTokenStore(tokens(expires_in=10))

    class RaceAuth(CountingAuth):
        def refresh(self, refresh_token, *, previous=None):
            self.calls.append(refresh_token)
            if refresh_token == "rt-1":
                # Another process rotated rt-1 a moment ago and stored its result.
                store.save(tokens("at-p2", "rt-p2"), replaces=store.load())
                raise errors.OAuthError("invalid_grant", "Token is not active", status=400)
            raise AssertionError("must adopt the fresh stored token, not refresh again")

    auth = RaceAuth()
    provider = TokenProvider(auth=auth, store=store)
    assert provider.access_token() == "at-p2"
    assert auth.calls == ["rt-1"]


def test_invalid_grant_retries_once_with_the_reread_token():
    store = MemoryTokenStore(tokens(expires_in=10))

    class RaceAuth(CountingAuth):
        def refresh(self, refresh_token, *, previous=None):
            self.calls.append(refresh_token)
            if refresh_token == "rt-1":
                store.save(tokens("at-p2", "rt-p2", expires_in=5), replaces=store.load())
                raise errors.OAuthError("invalid_grant", status=400)
            return TokenSet.from_response({"access_token": "at-3", "refresh_token": "rt-3", "expires_in": 99})

    auth = RaceAuth()
    provider = TokenProvider(auth=auth, store=store)
    assert provider.access_token() == "at-3"
    assert auth.calls == ["rt-1", "rt-p2"]
    assert store.load().refresh_token == "rt-3"


def test_no_token_stored_is_reconnect_required():
    provider = TokenProvider(auth=CountingAuth(), store=MemoryTokenStore(None))
    with pytest.raises(ReconnectRequired) as caught:
        provider.access_token()
    assert caught.value.reason == "no_token"


def test_cas_refusal_adopts_the_stored_token():
    class LosingStore(MemoryTokenStore):
        def save(self, new, *, replaces):
            # Someone else saved first.
            super().save(tokens("at-winner", "rt-winner"), replaces=replaces)
            return False

    provider = TokenProvider(auth=CountingAuth(), store=LosingStore(tokens(expires_in=10)))
    assert provider.access_token() == "at-winner"


def test_network_failure_while_refreshing_keeps_a_still_valid_token():
    auth = CountingAuth(fail=errors.ConnectError("could not connect"))
    provider = TokenProvider(auth=auth, store=MemoryTokenStore(tokens(expires_in=60)))
    assert provider.access_token() == "at-1"
    provider_expired = TokenProvider(auth=auth, store=MemoryTokenStore(tokens(expires_in=-1)))
    with pytest.raises(errors.ConnectError):
        provider_expired.access_token()


def test_memory_store_is_compare_and_swap():
    first, second, third = tokens("a", "1"), tokens("b", "2"), tokens("c", "3")
    store = MemoryTokenStore(first)
    assert store.save(second, replaces=first) is True
    assert store.save(third, replaces=first) is False  # first is no longer stored
    assert store.load() is second


def test_store_lock_is_held_during_refresh():
    held = []

    class LockingStore(MemoryTokenStore):
        locked = False

        def lock(self):
            store = self

            class Ctx:
                def __enter__(self):
                    store.locked = True

                def __exit__(self, *a):
                    store.locked = False

            return Ctx()

        def save(self, new, *, replaces):
            held.append(self.locked)
            return super().save(new, replaces=replaces)

    provider = TokenProvider(auth=CountingAuth(), store=LockingStore(tokens(expires_in=10)))
    provider.access_token()
    assert held == [True]
