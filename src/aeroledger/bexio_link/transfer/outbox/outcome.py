"""What happens when an attempt fails: the decision, in one function.

| what went wrong                                   | item becomes | next                          |
|---------------------------------------------------|--------------|-------------------------------|
| `Blocked` (mapping, contact data: nothing sent)   | failed       | a person fixes it, retries    |
| `Rejected` (bexio has it, but it is not right)    | failed       | a person looks                |
| reconnect needed / not connected / option off     | waits        | the organisation is paused    |
| bexio answered 4xx (not 429) to the write         | failed       | bexio's message, verbatim     |
| 5xx, timeout, dropped, 429 after retries, a crash | waits        | retried after a back-off      |
| the same, for the `max_attempts`th time           | failed       | "gave up after N attempts"    |

A 4xx answer to the write itself means bexio did not store it; every other failure after the
write was sent leaves `maybe_in_bexio` set, so the next attempt looks the write up before sending.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from aeroledger.bexio_link.connection.clients import NotConnected
from bexio import errors

from ..models import ItemStatus, OutboxAttempt, backoff
from .senders import Blocked, Rejected

MAX_ATTEMPTS = 10


@dataclass(frozen=True)
class Decision:
    status: str  # the item's next status
    outcome: str  # the attempt's outcome (log)
    message: str
    http_status: int | None = None
    next_try_at: datetime | None = None
    pause: bool = False  # the organisation waits for a person (reconnect)
    refused: bool = False  # bexio definitely did not store the write


def is_reconnect(exc: BaseException) -> bool:
    return isinstance(exc, errors.ReconnectRequired | errors.AuthenticationError | NotConnected)


def message_of(exc: BaseException) -> str:
    """What the transfer log shows: bexio's own words (with the field errors it lists), verbatim."""
    return getattr(exc, "full_message", "") or getattr(exc, "message", "") or str(exc) or type(exc).__name__


def decide(exc: BaseException, *, attempts: int, max_attempts: int = MAX_ATTEMPTS) -> Decision:
    message = message_of(exc)
    status = getattr(exc, "status", None)
    failed = OutboxAttempt.Outcome.FAILED
    if isinstance(exc, Blocked):
        return Decision(ItemStatus.FAILED, failed, message, refused=True)
    if isinstance(exc, Rejected):
        return Decision(ItemStatus.FAILED, failed, message, http_status=status)
    if is_reconnect(exc):
        return Decision(
            ItemStatus.PENDING, OutboxAttempt.Outcome.PAUSED, message, http_status=status, pause=True
        )
    if isinstance(exc, errors.BexioError) and status is not None and 400 <= status < 500 and status != 429:
        return Decision(ItemStatus.FAILED, failed, message, http_status=status, refused=True)
    if attempts >= max_attempts:
        message = _("Gave up after %(n)s attempts: %(message)s") % {"n": attempts, "message": message}
        return Decision(ItemStatus.FAILED, failed, message, http_status=status)
    return Decision(
        ItemStatus.PENDING,
        OutboxAttempt.Outcome.RETRY,
        message,
        http_status=status,
        next_try_at=timezone.now() + backoff(attempts),
    )
