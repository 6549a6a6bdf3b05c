"""The refresh sequence's table of cases (bexio.refresh), row by row, and the rows that only show
over several calls of the provider."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bexio import errors
from bexio.auth import MemoryTokenStore, TokenProvider, TokenSet
from bexio.refresh import Act, Failure, Situation, Step, decide

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
MARGIN = 120.0


def pair(name: str, expires_in: float, *, refresh: bool = True) -> TokenSet:
    return TokenSet(
        access_token=f"at-{name}",
        refresh_token=f"rt-{name}" if refresh else None,
        expires_at=NOW + timedelta(seconds=expires_in),
    )


FRESH, EXPIRING, EXPIRED = pair("fresh", 3600), pair("expiring", 60), pair("expired", -10)
NEWER, NEWER_EXPIRING, NEW = pair("newer", 3600), pair("newer-expiring", 30), pair("new", 3600)
NO_REFRESH = pair("static", 60, refresh=False)
S, L, RF = Step, Step.LOADED, Step.REFRESH_FAILED
IG, UN, FA, OA = Failure.INVALID_GRANT, Failure.UNREACHABLE, Failure.FAILED, Failure.OAUTH

# (case, situation, expected act, expected token or reconnect reason)
TABLE = [
    (
        "unsaved pair pending: save it, never refresh",
        Situation(S.BEGIN, cached=None, pending=NEW),
        Act.SAVE,
        None,
    ),
    ("cached token fresh", Situation(S.BEGIN, cached=FRESH), Act.USE, FRESH),
    ("cached token expiring", Situation(S.BEGIN, cached=EXPIRING), Act.LOAD, None),
    ("nothing cached yet", Situation(S.BEGIN), Act.LOAD, None),
    (
        "401 on a fresh cached token",
        Situation(S.BEGIN, cached=FRESH, rejected="at-fresh", force=True),
        Act.LOAD,
        None,
    ),
    ("nothing stored", Situation(L, stored=None), Act.RECONNECT, "no_token"),
    ("another process refreshed already", Situation(L, cached=EXPIRING, stored=NEWER), Act.USE, NEWER),
    (
        "stored is the rejected one",
        Situation(L, stored=FRESH, rejected="at-fresh", force=True),
        Act.REFRESH,
        FRESH,
    ),
    ("keep-alive: a fresh stored token", Situation(L, stored=FRESH, rejected="", force=True), Act.USE, FRESH),
    ("stored expiring: refresh it", Situation(L, stored=EXPIRING), Act.REFRESH, EXPIRING),
    ("stored without refresh token", Situation(L, stored=NO_REFRESH), Act.RECONNECT, "no_refresh_token"),
    ("refresh ok: save before use", Situation(S.REFRESHED, pending=NEW, spent=EXPIRING), Act.SAVE, None),
    ("refresh ok + save ok", Situation(S.SAVED, pending=NEW), Act.USE, NEW),
    ("save lost the CAS race: adopt", Situation(S.CAS_LOST, stored=NEWER), Act.USE, NEWER),
    ("save lost: token removed", Situation(S.CAS_LOST, stored=None), Act.RECONNECT, "no_token"),
    (
        "save failed (db down), time left: keep the pair, save later",
        Situation(S.SAVE_FAILED, pending=NEW, save_failures=1, save_time_left_s=60),
        Act.SAVE_LATER,
        None,
    ),
    (
        "save failed, no time left: raise, the pair stays pending",
        Situation(S.SAVE_FAILED, pending=NEW, save_failures=3, save_time_left_s=0.5),
        Act.RAISE,
        None,
    ),
    (
        "invalid_grant, store unchanged: the grant is gone",
        Situation(RF, failure=IG, spent=EXPIRING, stored=EXPIRING),
        Act.RECONNECT,
        "invalid_grant",
    ),
    (
        "invalid_grant, token removed",
        Situation(RF, failure=IG, spent=EXPIRING, stored=None),
        Act.RECONNECT,
        "invalid_grant",
    ),
    (
        "invalid_grant, newer fresh pair stored: adopt",
        Situation(RF, failure=IG, spent=EXPIRING, stored=NEWER),
        Act.USE,
        NEWER,
    ),
    (
        "invalid_grant, newer expiring pair: refresh once with it",
        Situation(RF, failure=IG, spent=EXPIRING, stored=NEWER_EXPIRING),
        Act.REFRESH,
        NEWER_EXPIRING,
    ),
    (
        "invalid_grant again after that retry",
        Situation(RF, failure=IG, spent=NEWER_EXPIRING, stored=NEWER, retried=True),
        Act.RECONNECT,
        "invalid_grant",
    ),
    (
        "network error, newer fresh pair stored: adopt",
        Situation(RF, failure=UN, spent=EXPIRING, stored=NEWER),
        Act.USE,
        NEWER,
    ),
    (
        "network error, stored token still valid: use it",
        Situation(RF, failure=UN, spent=EXPIRING, stored=EXPIRING),
        Act.USE,
        EXPIRING,
    ),
    (
        "network error, stored token expired: raise",
        Situation(RF, failure=UN, spent=EXPIRED, stored=EXPIRED),
        Act.RAISE,
        None,
    ),
    (
        "network error after a 401: raise",
        Situation(RF, failure=UN, spent=EXPIRING, stored=EXPIRING, rejected="at-expiring", force=True),
        Act.RAISE,
        None,
    ),
    (
        "other error answer, newer fresh pair: adopt",
        Situation(RF, failure=FA, spent=EXPIRING, stored=NEWER),
        Act.USE,
        NEWER,
    ),
    (
        "other error answer: raise",
        Situation(RF, failure=FA, spent=EXPIRING, stored=EXPIRING),
        Act.RAISE,
        None,
    ),
    (
        "invalid_client and the like: raise",
        Situation(RF, failure=OA, spent=EXPIRING, stored=NEWER),
        Act.RAISE,
        None,
    ),
]


@pytest.mark.parametrize(("case", "situation", "act", "expected"), TABLE, ids=[row[0] for row in TABLE])
def test_refresh_table(case, situation, act, expected):
    decision = decide(situation, now=NOW, margin_s=MARGIN)
    assert decision.act is act, case
    if act is Act.RECONNECT:
        assert decision.reason == expected
    elif act in (Act.USE, Act.REFRESH):
        assert decision.token is expected
    if act is Act.SAVE_LATER:
        assert 0 < decision.wait_s <= situation.save_time_left_s


def test_every_step_has_a_row():
    assert {row[1].step for row in TABLE} == set(Step)
    assert {row[2] for row in TABLE} == set(Act)


# ---- rows that need several calls -------------------------------------------------------------------


class CountingAuth:
    def __init__(self, fail: Exception | None = None):
        self.calls: list[str] = []
        self.fail = fail

    def refresh(self, refresh_token, *, previous=None):
        self.calls.append(refresh_token)
        if self.fail:
            raise self.fail
        n = len(self.calls) + 1
        return TokenSet.from_response(
            {"access_token": f"at-{n}", "refresh_token": f"rt-{n}", "expires_in": 3600}
        )


def tokens(access="at-1", refresh="rt-1", expires_in=10):
    return TokenSet(access, refresh, datetime.now(UTC) + timedelta(seconds=expires_in))


class DownThenUp(MemoryTokenStore):
    down = True

    def save(self, new, *, replaces):
        if self.down:
            raise OSError("database down")
        return super().save(new, replaces=replaces)


def test_keep_alive_after_a_failed_save_saves_the_pending_pair_instead_of_resending_the_spent_token():
    """force_refresh (a 401, the keep-alive task) while a rotated pair is unsaved: the spent rt-1
    would be answered invalid_grant and the connection marked 'reconnect needed'."""
    auth, store = CountingAuth(), DownThenUp(tokens())
    provider = TokenProvider(auth=auth, store=store, save_retry_s=0)
    with pytest.raises(OSError):
        provider.access_token()
    store.down = False
    assert provider.force_refresh("at-1") == "at-2"
    assert auth.calls == ["rt-1"] and store.load().refresh_token == "rt-2"


def test_a_pending_pair_is_retried_once_per_call_while_the_store_stays_down():
    auth, store = CountingAuth(), DownThenUp(tokens())
    sleeps = []
    provider = TokenProvider(auth=auth, store=store, save_retry_s=1.0, sleep=sleeps.append)
    with pytest.raises(OSError):
        provider.access_token()
    assert sleeps == [0.5]  # within save_retry_s: one wait (0.5 s back-off), then the budget is spent
    for _ in range(3):
        with pytest.raises(OSError):
            provider.access_token()
    assert auth.calls == ["rt-1"] and sleeps == [0.5]  # later calls: one attempt each, no refresh


def test_an_oauth_error_other_than_invalid_grant_is_raised_as_is():
    auth = CountingAuth(fail=errors.OAuthError("invalid_client", "Invalid client credentials", status=401))
    store = MemoryTokenStore(tokens())
    loads = []
    original = store.load
    store.load = lambda: (loads.append(1), original())[1]
    with pytest.raises(errors.OAuthError) as caught:
        TokenProvider(auth=auth, store=store).access_token()
    assert caught.value.error == "invalid_client" and len(loads) == 1
