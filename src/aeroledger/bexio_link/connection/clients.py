"""The bexio client of an organisation, as the rest of Aeroledger gets it.

`client_for(organisation)` -> a `bexio.BexioClient` with the database token store, the bexio
company's rate governor and the call-log hook; it raises `NotConnected` (no token) or
`ReconnectNeeded` (bexio refused the grant), and `BexioOptionOff` when the organisation's licence
no longer includes bexio: nothing talks to bexio then. Tests and benchmarks inject their own
client with `using_client_factory(...)`: the one place where clients are made.

Tokens never appear in a log line, an exception message, an event or the call log.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Callable, Iterator

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from bexio import BexioClient, RateGovernor
from bexio.auth import BexioAuth, ReconnectRequired, TokenProvider

from .models import BexioCall, BexioConnection, Status, Trigger
from .reconnect import mark_reconnect_needed
from .tokenstore import DatabaseTokenStore

log = logging.getLogger(__name__)

REFRESH_MARGIN_S = 120


class NotConnected(Exception):
    """The organisation has no usable bexio token (never connected, or disconnected)."""


class ReconnectNeeded(NotConnected, ReconnectRequired):
    """bexio refused the refresh token (revoked, expired): an admin must get a new token."""


class BexioOptionOff(NotConnected):
    """The organisation's licence no longer includes bexio: no bexio traffic at all."""


def bexio_auth() -> BexioAuth:
    return BexioAuth(
        issuer=settings.BEXIO_AUTH_ISSUER,
        client_id=settings.BEXIO_CLIENT_ID,
        client_secret=settings.BEXIO_CLIENT_SECRET,
        auth_method="basic",
    )


def describe_error(exc: Exception) -> str:
    """A short, token-free description of an error for messages and the log."""
    code = getattr(exc, "error_code", None) or getattr(exc, "error", None) or type(exc).__name__
    status = getattr(exc, "status", None) or getattr(exc, "status_code", None)
    text = getattr(exc, "message", None) or getattr(exc, "description", None) or ""
    parts = [str(p) for p in (status, code, text) if p]
    return " ".join(parts)[:300]


_call_context: contextvars.ContextVar[str] = contextvars.ContextVar("bexio_call_context", default="")


@contextlib.contextmanager
def call_context(context: str):
    """Label the calls made inside the block in the call log, e.g. `call_context("transfer:<uuid>")`."""
    token = _call_context.set(context)
    try:
        yield
    finally:
        _call_context.reset(token)


def _call_logger(organisation_id: int, context: str):
    def on_request(event) -> None:
        status = getattr(event, "status", None)
        try:
            BexioCall.objects.create(
                organisation_id=organisation_id,
                method=str(event.method)[:10],
                path=str(event.path)[:500],
                status=status,
                duration_ms=max(0, int(getattr(event, "duration_ms", 0) or 0)),
                attempt=int(getattr(event, "attempt", 1) or 1),
                error_code=str(getattr(event, "error_code", "") or "")[:100],
                message=str(getattr(event, "message", "") or "")[:2000],
                context=(_call_context.get() or context)[:200],
            )
            now = timezone.now()
            if status is not None and 200 <= status < 400:
                BexioConnection.objects.filter(organisation_id=organisation_id).update(last_success_at=now)
            elif status is None or status >= 400:
                text = f"{event.method} {event.path}: {status or '-'} {getattr(event, 'message', '') or ''}"
                BexioConnection.objects.filter(organisation_id=organisation_id).update(
                    last_error_at=now, last_error=text.strip()[:2000], last_error_status=status
                )
        except Exception:  # the log must never break a call
            log.exception("could not record a bexio call")

    return on_request


class ConnectionTokenProvider(TokenProvider):
    """The client's TokenProvider; a refused grant marks the connection "Reconnect needed".

    The refresh itself runs under the store's `lock()` (the database row lock), so across all
    processes one refresh happens and the others adopt the token it saved. `trigger` (keep-alive
    or on demand) labels the history events of a refresh or a refused grant.
    """

    def __init__(self, *, organisation, trigger: str = Trigger.ON_DEMAND, **kwargs):
        kwargs.setdefault("lock_key", f"bexio-connection-{organisation.pk}")
        super().__init__(**kwargs)
        self._organisation = organisation
        self._trigger = trigger

    def _guard(self, call, *args):
        try:
            return call(*args)
        except ReconnectRequired as exc:
            reason = getattr(exc, "reason", "") or "invalid_grant"
            mark_reconnect_needed(self._organisation, describe_error(exc) or reason, trigger=self._trigger)
            raise ReconnectNeeded(
                _("bexio refused the stored grant of %(org)s: a new token is needed.")
                % {"org": self._organisation}
            ) from None

    def access_token(self) -> str:
        return self._guard(super().access_token)

    def force_refresh(self, rejected_access_token: str | None = None) -> str:
        return self._guard(super().force_refresh, rejected_access_token)


def _provider(
    organisation, *, trigger: str = Trigger.ON_DEMAND, context: str = ""
) -> ConnectionTokenProvider:
    # The "Token refreshed" event of an on-demand refresh names the work that needed the token
    # (the call context, e.g. "transfer:<uuid>"); never a token.
    store = DatabaseTokenStore(
        organisation.pk, trigger=trigger, describe=lambda: _call_context.get() or context
    )
    return ConnectionTokenProvider(
        organisation=organisation,
        trigger=trigger,
        auth=bexio_auth(),
        store=store,
        refresh_margin_s=REFRESH_MARGIN_S,
    )


def _governor(company_id: str):
    return RateGovernor.for_company(company_id or "unknown")


def _connection_client(organisation, *, context: str = "") -> BexioClient:
    conn = BexioConnection.objects.filter(organisation=organisation).first()
    if conn is None or conn.status == Status.NOT_CONNECTED or not (conn.has_token or conn.needs_reconnect):
        raise NotConnected(_("%(org)s is not connected to bexio.") % {"org": organisation})
    if conn.needs_reconnect:
        raise ReconnectNeeded(_("The bexio connection of %(org)s needs a new token.") % {"org": organisation})
    return BexioClient(
        base_url=settings.BEXIO_API_BASE,
        token_provider=_provider(organisation, context=context),
        timeout=getattr(settings, "BEXIO_TIMEOUT_S", 30),
        max_retries=4,
        governor=_governor(conn.company_id),
        company_id=conn.company_id or None,
        on_request=_call_logger(organisation.pk, context),
    )


_factory: Callable[..., BexioClient] | None = None


def client_for(organisation, *, context: str = "") -> BexioClient:
    """A bexio client for the organisation's connection (the one place clients are made).

    Raises `BexioOptionOff` when the organisation's licence no longer includes bexio, `NotConnected`
    (no token) or `ReconnectNeeded` (bexio refused the grant). Whether transfers may run is
    `connection_for(org).transfers_allowed` (all required scopes granted).
    """
    if not organisation.bexio_option:
        raise BexioOptionOff(
            _("The bexio option of %(org)s is switched off (licence): Aeroledger does not talk to bexio.")
            % {"org": organisation}
        )
    return (_factory or _connection_client)(organisation, context=context)


@contextlib.contextmanager
def using_client_factory(factory: Callable[..., BexioClient]) -> Iterator[None]:
    """Within the block `client_for` returns `factory(organisation, context=...)` (tests, benches)."""
    global _factory
    previous, _factory = _factory, factory
    try:
        yield
    finally:
        _factory = previous
