"""The token refresh as one explicit sequence: a pure decision function and its table of cases.

`TokenProvider` (bexio.tokens) does the I/O (read the store, ask bexio for a new pair, save it);
after each step it describes what it saw as a `Situation` and `decide()` says what to do next.
The rules that matter, learnt the hard way:

- bexio rotates the refresh token: once a refresh token was sent, it is spent. The new pair must be
  saved (compare-and-swap) **before** its access token is used, and a pair that could not be saved
  is kept and saved again later; the spent refresh token is never sent again.
- Other threads and processes refresh too: under the locks the store is read first and a fresh
  token found there is adopted; a lost compare-and-swap means someone else saved: adopt theirs.
- `invalid_grant` may mean that another process has just rotated the token: re-read the store and
  adopt (or refresh once more with) a newer pair; only when there is none is the grant gone.
- bexio unreachable (network, 5xx): a token that is still valid for a few seconds keeps working.

| after          | when                                          | then                            |
|----------------|-----------------------------------------------|---------------------------------|
| BEGIN          | a rotated pair is still unsaved               | SAVE it (never refresh again)   |
| BEGIN          | cached token fresh, no 401 on it              | USE cached                      |
| BEGIN          | otherwise                                     | LOAD (under the locks)          |
| LOADED         | nothing stored                                | RECONNECT no_token              |
| LOADED         | stored fresh and not the rejected one         | USE stored (adopt)              |
| LOADED         | stored has no refresh token                   | RECONNECT no_refresh_token      |
| LOADED         | otherwise                                     | REFRESH with the stored pair    |
| REFRESHED      | bexio sent a new pair                         | SAVE it                         |
| invalid_grant  | store re-read: gone, unchanged, or retried    | RECONNECT invalid_grant         |
| invalid_grant  | store re-read: a newer pair, fresh            | USE it (adopt)                  |
| invalid_grant  | store re-read: a newer pair, expiring         | REFRESH with it (once)          |
| unreachable    | store re-read: a newer pair, fresh            | USE it (adopt)                  |
| unreachable    | no 401, the stored token valid >= 5 s         | USE it (bexio is down)          |
| unreachable    | otherwise                                     | RAISE the network/5xx error     |
| failed         | store re-read: a newer pair, fresh            | USE it; otherwise RAISE         |
| oauth error    | any other token-endpoint error                | RAISE                           |
| SAVED          | the compare-and-swap won                      | USE the new pair                |
| CAS_LOST       | store re-read: another process's pair         | USE it (adopt)                  |
| CAS_LOST       | store re-read: nothing stored                 | RECONNECT no_token              |
| SAVE_FAILED    | the back-off fits in the time left            | SAVE_LATER: leave the store's   |
|                |                                               | lock, wait, SAVE again          |
| SAVE_FAILED    | no time left                                  | RAISE; the pair stays pending   |

(invalid_grant, unreachable, failed, oauth error: REFRESH_FAILED with that `Failure`.)
`tests/bexio/test_refresh_table.py` checks every row.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime

from bexio import retry
from bexio.oauth import TokenSet

__all__ = ["Act", "Decision", "Failure", "Situation", "Step", "decide"]

STILL_VALID_S = 5.0  # bexio unreachable: a token valid this much longer is still handed out
SAVE_BACKOFF_CAP_S = 5.0


class Step(enum.Enum):
    """What has just happened in the sequence."""

    BEGIN = "begin"  # access_token() or force_refresh() was called
    LOADED = "loaded"  # the store was read under the locks
    REFRESHED = "refreshed"  # bexio answered the refresh with a new pair (now `pending`)
    REFRESH_FAILED = "refresh_failed"  # bexio refused or could not be reached; the store re-read
    SAVED = "saved"  # the compare-and-swap stored `pending`
    CAS_LOST = "cas_lost"  # the compare-and-swap found another pair; the store re-read
    SAVE_FAILED = "save_failed"  # the store raised (e.g. its database restarting)


class Failure(enum.Enum):
    """Why a refresh failed."""

    INVALID_GRANT = "invalid_grant"  # the refresh token is not (or no longer) valid
    UNREACHABLE = "unreachable"  # network error or 5xx from the token endpoint
    FAILED = "failed"  # another error answer that is not the token endpoint's own
    OAUTH = "oauth"  # any other OAuth error (invalid_client, ...)


class Act(enum.Enum):
    USE = "use"  # hand out `token` (ends the sequence)
    LOAD = "load"  # read the store (taking the store's lock first)
    REFRESH = "refresh"  # send `token`'s refresh token to bexio
    SAVE = "save"  # compare-and-swap `pending` in place of `spent`
    SAVE_LATER = "save_later"  # leave the store's lock, wait `wait_s`, then SAVE again
    RECONNECT = "reconnect"  # raise ReconnectRequired(reason) (ends the sequence)
    RAISE = "raise"  # raise the error at hand (ends the sequence)


@dataclass(frozen=True, slots=True)
class Situation:
    """Everything `decide` looks at, and nothing else."""

    step: Step
    cached: TokenSet | None = None  # the pair this provider last handed out
    stored: TokenSet | None = None  # the store's pair at the latest read
    pending: TokenSet | None = None  # rotated by bexio and not saved yet: the only live refresh token
    spent: TokenSet | None = None  # the pair whose refresh token was sent to bexio
    rejected: str | None = None  # force_refresh(): the access token bexio answered 401 to
    force: bool = False  # force_refresh() (a 401, or keep-alive): the cached token is not enough
    failure: Failure | None = None
    retried: bool = False  # invalid_grant was already followed by a refresh with a newer pair
    save_failures: int = 0  # how often saving `pending` raised in a row
    save_time_left_s: float = 0.0  # how long saving may still be retried

    def then(self, step: Step, **changes: object) -> Situation:
        return replace(self, step=step, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Decision:
    act: Act
    token: TokenSet | None = None  # USE: the pair to hand out; REFRESH: the pair to refresh
    reason: str = ""  # RECONNECT: ReconnectRequired.reason
    wait_s: float = 0.0  # SAVE_LATER


def _fresh(tokens: TokenSet | None, now: datetime, margin_s: float) -> bool:
    return tokens is not None and not tokens.expires_within(margin_s, now)


def _newer(stored: TokenSet | None, spent: TokenSet | None) -> bool:
    return stored is not None and not stored.same_as(spent)


def decide(s: Situation, *, now: datetime, margin_s: float) -> Decision:
    """The next step of the refresh sequence (see the table in the module's docstring)."""
    step = s.step
    if step is Step.BEGIN:
        if s.pending is not None:
            return Decision(Act.SAVE)
        if not s.force and _fresh(s.cached, now, margin_s):
            return Decision(Act.USE, s.cached)
        return Decision(Act.LOAD)

    if step is Step.LOADED:
        stored = s.stored
        if stored is None:
            return Decision(Act.RECONNECT, reason="no_token")
        if _fresh(stored, now, margin_s) and stored.access_token != s.rejected:
            return Decision(Act.USE, stored)  # another thread or process refreshed meanwhile
        if not stored.refresh_token:
            return Decision(Act.RECONNECT, reason="no_refresh_token")
        return Decision(Act.REFRESH, stored)

    if step is Step.REFRESHED:
        return Decision(Act.SAVE)

    if step is Step.REFRESH_FAILED:
        stored, newer = s.stored, _newer(s.stored, s.spent)
        if s.failure is Failure.INVALID_GRANT:
            if not newer or s.retried:
                return Decision(Act.RECONNECT, reason="invalid_grant")
            if _fresh(stored, now, margin_s):
                return Decision(Act.USE, stored)
            return Decision(Act.REFRESH, stored)
        if s.failure in (Failure.UNREACHABLE, Failure.FAILED):
            if newer and _fresh(stored, now, margin_s):
                return Decision(Act.USE, stored)
            if s.failure is Failure.UNREACHABLE and s.rejected is None and _fresh(stored, now, STILL_VALID_S):
                return Decision(Act.USE, stored)  # the token endpoint is down; this one still works
        return Decision(Act.RAISE)

    if step is Step.SAVED:
        return Decision(Act.USE, s.pending)

    if step is Step.CAS_LOST:
        if s.stored is None:
            return Decision(Act.RECONNECT, reason="no_token")
        return Decision(Act.USE, s.stored)  # someone else saved a newer pair: adopt it

    if step is Step.SAVE_FAILED:
        wait = retry.backoff_delay(s.save_failures, cap=SAVE_BACKOFF_CAP_S)
        if wait <= s.save_time_left_s:
            return Decision(Act.SAVE_LATER, wait_s=wait)
        return Decision(Act.RAISE)

    raise AssertionError(f"no rule for {step}")  # pragma: no cover
