"""The connection to bexio as the rest of Aeroledger uses it.

- `client_for(organisation)` -> a `bexio.BexioClient` with the database token store, the bexio
  company's rate governor and the call-log hook (raises `NotConnected` / `ReconnectNeeded`).
- `connection_for(organisation)` -> the `BexioConnection`, or None when never connected / disconnected.
- The "Get new token" flow: `start_authorisation` and `finish_authorisation`.
- `refresh_now`, `run_keep_alive`, `test_connection`, `disconnect`, `mark_reconnect_needed`.

Tokens never appear in a log line, an exception message, an event or the call log.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import secrets
import time
from dataclasses import dataclass, field

import jwt
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from bexio import BexioClient, RateGovernor, errors
from bexio.auth import BexioAuth, ReconnectRequired, TokenProvider, new_pkce

from . import crypto
from .models import (
    STATE_VALID_FOR,
    BexioCall,
    BexioConnection,
    ConnectionEvent,
    EventKind,
    PendingAuthorisation,
    Status,
    Trigger,
)
from .scopes import OPTIONAL_SCOPES, requested_scopes
from .tokenstore import DatabaseTokenStore

log = logging.getLogger(__name__)

REFRESH_MARGIN_S = 120


class NotConnected(Exception):
    """The organisation has no usable bexio token (never connected, or disconnected)."""


class ReconnectNeeded(NotConnected, ReconnectRequired):
    """bexio refused the refresh token (revoked, expired): an admin must get a new token."""


class AuthorisationError(Exception):
    """The callback could not complete; `message` is for the user, `organisation` when known."""

    def __init__(self, message: str, organisation=None):
        super().__init__(message)
        self.message = message
        self.organisation = organisation


# --- configuration -----------------------------------------------------------------------------
def credentials_configured() -> bool:
    return bool(
        getattr(settings, "BEXIO_CLIENT_ID", "")
        and getattr(settings, "BEXIO_CLIENT_SECRET", "")
        and getattr(settings, "BEXIO_AUTH_ISSUER", "")
        and getattr(settings, "BEXIO_API_BASE", "")
    )


def is_sandbox() -> bool:
    return settings.BEXIO_API_BASE.rstrip("/") == getattr(settings, "BEXIO_SANDBOX_URL", "").rstrip("/")


def redirect_uri() -> str:
    return settings.AEROLEDGER_BASE_URL.rstrip("/") + "/bexio/callback"


def bexio_auth() -> BexioAuth:
    return BexioAuth(
        issuer=settings.BEXIO_AUTH_ISSUER,
        client_id=settings.BEXIO_CLIENT_ID,
        client_secret=settings.BEXIO_CLIENT_SECRET,
        auth_method="basic",
    )


def forbidden_explanation() -> str:
    """What a 403 from bexio means for the user (for pages and logs of other parts too)."""
    return _(
        "bexio answered 403: the bexio user who granted access lacks this permission in bexio. "
        "An admin in bexio must get a new token."
    )


# --- lookups -----------------------------------------------------------------------------------
def connection_for(organisation) -> BexioConnection | None:
    """The organisation's connection once a token was obtained (also when a reconnect is needed);
    None when it was never connected or was disconnected."""
    conn = BexioConnection.objects.filter(organisation=organisation).select_related("organisation").first()
    if conn is None or conn.status == Status.NOT_CONNECTED:
        return None
    return conn


def connection_row(organisation) -> BexioConnection:
    conn, _created = BexioConnection.objects.get_or_create(organisation=organisation)
    return conn


def record_event(organisation, kind, message="", *, user=None, conn=None, scopes=None, trigger="") -> None:
    ConnectionEvent.objects.create(
        organisation=organisation,
        kind=kind,
        trigger=trigger,
        message=message,
        user=user if user is not None and user.is_authenticated else None,
        company_id=conn.company_id if conn else "",
        company_name=conn.company_name if conn else "",
        scopes=list(scopes or []),
    )


# --- the client --------------------------------------------------------------------------------
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
            mark_reconnect_needed(self._organisation, _describe(exc) or reason, trigger=self._trigger)
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


def client_for(organisation, *, context: str = "") -> BexioClient:
    """A bexio client for the organisation's connection.

    Raises `NotConnected` (no token) or `ReconnectNeeded` (bexio refused the grant). Whether
    transfers may run is `connection_for(org).transfers_allowed` (all required scopes granted).
    """
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


# --- Get new token -----------------------------------------------------------------------------
def save_optional_scopes(organisation, chosen, *, user=None) -> list[str]:
    chosen = [name for name in OPTIONAL_SCOPES if name in set(chosen)]
    conn = connection_row(organisation)
    if chosen != list(conn.requested_optional_scopes):
        conn.requested_optional_scopes = chosen
        conn.save(update_fields=["requested_optional_scopes", "updated_at"])
        record_event(organisation, EventKind.SCOPES_CHANGED, ", ".join(chosen) or "-", user=user, conn=conn)
    return chosen


def start_authorisation(organisation, user, session_key: str) -> str:
    """Create the single-use state (bound to user, organisation, session) and return bexio's URL."""
    conn = connection_row(organisation)
    scopes = requested_scopes(conn.requested_optional_scopes)
    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(24)
    pkce = new_pkce()
    verifier, challenge = pkce.verifier, pkce.challenge
    # Flows abandoned long ago (whoever started them) are dropped.
    PendingAuthorisation.objects.filter(created__lt=timezone.now() - STATE_VALID_FOR * 6).delete()
    PendingAuthorisation.objects.create(
        state_hash=PendingAuthorisation.hash_state(state),
        code_verifier_enc=crypto.encrypt(verifier),
        nonce=nonce,
        user=user,
        organisation=organisation,
        session_key=session_key,
        scopes=scopes,
        redirect_uri=redirect_uri(),
    )
    record_event(organisation, EventKind.FLOW_STARTED, " ".join(scopes), user=user, conn=conn, scopes=scopes)
    auth = bexio_auth()
    auth.close()  # building the address needs no request
    return auth.authorization_url(
        redirect_uri=redirect_uri(),
        scopes=scopes,
        state=state,
        nonce=nonce,
        code_challenge=challenge,
        code_challenge_method="S256",
    )


@dataclass
class CallbackResult:
    organisation: object
    connection: BexioConnection | None = None
    cancelled: bool = False
    messages: list[str] = field(default_factory=list)


def _claim_pending(state: str, user, session_key: str) -> PendingAuthorisation:
    if not state:
        raise AuthorisationError(_("bexio sent no state. Start again with Get new token."))
    pending = (
        PendingAuthorisation.objects.select_related("organisation")
        .filter(state_hash=PendingAuthorisation.hash_state(state))
        .first()
    )
    if pending is None:
        raise AuthorisationError(_("This authorisation is unknown. Start again with Get new token."))
    if pending.user_id != user.pk or not session_key or pending.session_key != session_key:
        log.warning(
            "bexio callback: state of another user or session refused (org %s)", pending.organisation_id
        )
        raise AuthorisationError(
            _(
                "This authorisation was started by another user or in another browser session. Start again "
                "with Get new token."
            )
        )
    if pending.used_at is not None:
        raise AuthorisationError(
            _("This authorisation was already used. Start again with Get new token."), pending.organisation
        )
    if pending.is_expired:
        raise AuthorisationError(
            _("This authorisation has expired (it is valid for 10 minutes). Start again with Get new token."),
            pending.organisation,
        )
    # Single use, also against two requests racing with the same state.
    claimed = PendingAuthorisation.objects.filter(pk=pending.pk, used_at__isnull=True).update(
        used_at=timezone.now()
    )
    if claimed != 1:
        raise AuthorisationError(
            _("This authorisation was already used. Start again with Get new token."), pending.organisation
        )
    return pending


def _may_manage(user, organisation) -> bool:
    from aeroledger.tenancy.models import Membership

    return Membership.objects.filter(user=user, organisation=organisation, manage_settings=True).exists()


def finish_authorisation(*, user, session_key: str, params) -> CallbackResult:
    """Handle bexio's redirect: check state (and iss), exchange the code, store the grant."""
    pending = _claim_pending(params.get("state", ""), user, session_key)
    organisation = pending.organisation
    if not organisation.bexio_option or not _may_manage(user, organisation):
        raise AuthorisationError(_("You may no longer manage the bexio connection of this organisation."))

    # bexio announces authorization_response_iss_parameter_supported (RFC 9207): `iss` must be there.
    iss = params.get("iss") or ""
    if iss.rstrip("/") != settings.BEXIO_AUTH_ISSUER.rstrip("/"):
        log.warning("bexio callback: unexpected issuer %r refused (org %s)", iss, organisation.pk)
        raise AuthorisationError(
            _("The answer did not come from the configured bexio. Nothing was stored."), organisation
        )

    error = params.get("error")
    if error:
        description = params.get("error_description", "")
        if error == "access_denied":
            record_event(organisation, EventKind.CANCELLED, description, user=user)
            return CallbackResult(organisation, cancelled=True)
        record_event(organisation, EventKind.FAILED, f"{error}: {description}".strip(), user=user)
        raise AuthorisationError(
            _("bexio reported an error: %(error)s %(description)s. No token was stored.")
            % {"error": error, "description": description},
            organisation,
        )

    code = params.get("code")
    if not code:
        raise AuthorisationError(_("bexio sent no authorisation code. Nothing was stored."), organisation)

    auth = bexio_auth()
    try:
        return _exchange_and_store(auth, pending, code, user)
    finally:
        auth.close()


def _exchange_and_store(auth, pending, code, user) -> CallbackResult:
    organisation = pending.organisation
    try:
        tokens = auth.exchange_code(
            code, redirect_uri=pending.redirect_uri, code_verifier=pending.get_code_verifier()
        )
    except Exception as exc:
        record_event(organisation, EventKind.FAILED, _describe(exc), user=user)
        raise AuthorisationError(
            _("bexio did not accept the authorisation (%(reason)s). Nothing was stored; try again.")
            % {"reason": _describe(exc)},
            organisation,
        ) from None

    if tokens.id_token and not _nonce_matches(tokens.id_token, pending.nonce):
        record_event(organisation, EventKind.FAILED, "nonce mismatch", user=user)
        raise AuthorisationError(
            _("bexio's answer did not match this request. Nothing was stored."), organisation
        )

    try:
        info = auth.userinfo(tokens.access_token) or {}
    except Exception as exc:
        log.warning("bexio userinfo failed for org %s: %s", organisation.pk, _describe(exc))
        info = {}
    claims = _id_claims(tokens.id_token)
    company_id = str(info.get("company_id") or claims.get("company_id") or "")
    company_name = str(info.get("company_name") or claims.get("company_name") or "")
    name = " ".join(p for p in (info.get("given_name"), info.get("family_name")) if p) or info.get("name", "")
    bexio_user_id = info.get("company_user_id") or claims.get("company_user_id") or info.get("sub") or ""

    with transaction.atomic():
        conn = BexioConnection.objects.select_for_update().filter(organisation=organisation).first()
        if conn is None:
            conn = BexioConnection.objects.create(organisation=organisation)
            conn = BexioConnection.objects.select_for_update().get(pk=conn.pk)
        # The previous token is not revoked: at bexio (Keycloak) revoking an offline token removes
        # every offline session of this client for that user, the one just granted included.
        conn.set_tokens(tokens.access_token, tokens.refresh_token)
        conn.expires_at = tokens.expires_at
        conn.granted_scopes = sorted(tokens.scopes)
        conn.status = Status.CONNECTED
        changed = conn.company_id and conn.company_id != company_id
        previous_company = (conn.company_name or conn.company_id) if changed else ""
        conn.company_id = company_id
        conn.company_name = company_name
        conn.bexio_user_id = str(bexio_user_id)
        conn.bexio_user_name = str(name or "")
        conn.bexio_user_email = str(info.get("email") or claims.get("email") or "")
        conn.obtained_at = timezone.now()
        conn.obtained_by = user
        conn.last_refresh_at = None
        conn.reconnect_reason = ""
        conn.last_error = ""
        conn.last_error_at = None
        conn.last_error_status = None
        conn.save()
        record_event(organisation, EventKind.CONNECTED, "", user=user, conn=conn, scopes=conn.granted_scopes)
    log.info("bexio token obtained for org %s (company %s)", organisation.pk, company_id)
    result = CallbackResult(organisation, connection=conn)
    if previous_company:
        result.messages.append(
            _(
                "This token is for the bexio company %(new)s, no longer %(old)s: check the mapping and "
                "the contacts before the next transfer."
            )
            % {"new": company_name or company_id, "old": previous_company}
        )
    return result


def _nonce_matches(id_token: str, nonce: str) -> bool:
    claims = _id_claims(id_token)
    return "nonce" not in claims or secrets.compare_digest(str(claims["nonce"]), nonce)


def _id_claims(id_token: str | None) -> dict:
    # Received straight from bexio's token endpoint over TLS (OIDC core 3.1.3.7): no signature check.
    if not id_token:
        return {}
    try:
        return jwt.decode(id_token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}


def _describe(exc: Exception) -> str:
    """A short, token-free description of an error for messages and the log."""
    code = getattr(exc, "error_code", None) or getattr(exc, "error", None) or type(exc).__name__
    status = getattr(exc, "status", None) or getattr(exc, "status_code", None)
    text = getattr(exc, "message", None) or getattr(exc, "description", None) or ""
    parts = [str(p) for p in (status, code, text) if p]
    return " ".join(parts)[:300]


def _revoke_quietly(auth, token: str, organisation) -> None:
    try:
        auth.revoke(token, token_type_hint="refresh_token")
    except Exception as exc:
        log.warning("bexio revoke failed for org %s: %s", organisation.pk, _describe(exc))


# --- keeping alive, reconnect ------------------------------------------------------------------
def mark_reconnect_needed(organisation, reason: str, *, trigger: str = "") -> bool:
    """Set "Reconnect needed" (once) and tell the organisation's Manage-settings staff by e-mail.

    `trigger`: the refresh that found the grant refused (keep-alive or on demand), if any.
    """
    with transaction.atomic():
        conn = BexioConnection.objects.select_for_update().filter(organisation=organisation).first()
        if conn is None or conn.status != Status.CONNECTED:
            return False
        conn.status = Status.RECONNECT_NEEDED
        conn.reconnect_reason = reason[:2000]
        conn.clear_tokens()
        conn.last_error = reason[:2000]
        conn.last_error_at = timezone.now()
        conn.save()
        record_event(organisation, EventKind.RECONNECT_NEEDED, reason, conn=conn, trigger=trigger)
    log.warning("bexio connection of org %s needs a reconnect: %s", organisation.pk, reason)
    notify_admins_reconnect(organisation, reason)
    return True


def notify_admins_reconnect(organisation, reason: str) -> None:
    from aeroledger.tenancy.models import Membership

    memberships = (
        Membership.objects.filter(organisation=organisation, manage_settings=True, user__is_active=True)
        .select_related("user")
        .exclude(user__email="")
    )
    base = settings.AEROLEDGER_BASE_URL.rstrip("/")
    url = f"{base}/o/{organisation.slug}/invoicing/bexio/authorisation"
    for membership in memberships:
        user = membership.user
        profile = getattr(user, "profile", None)
        language = getattr(profile, "language", None) or settings.LANGUAGE_CODE
        with override(language):
            subject = _("bexio connection of %(org)s: reconnect needed") % {"org": organisation.name}
            body = _(
                "bexio no longer accepts the access granted to %(org)s (%(reason)s).\n\n"
                "Transfers to bexio are paused; nothing queued is lost. Please open\n%(url)s\n"
                "and click Get new token, logged in at bexio as a bexio admin.\n"
            ) % {"org": organisation.name, "reason": reason, "url": url}
        send_mail(subject, body, None, [user.email], fail_silently=True)


class KeepAlive:
    """Outcomes of `run_keep_alive` for one organisation."""

    REFRESHED = "refreshed"  # this process refreshed (history: "Token refreshed", keep-alive)
    ADOPTED = "adopted"  # another process had just refreshed; its token was adopted
    RECONNECT_NEEDED = "reconnect_needed"  # bexio refused the grant (history: "Reconnect needed")
    NOT_CONNECTED = "not_connected"  # nothing to keep alive
    FAILED = "failed"  # network or server error (history: "Keep-alive failed")


def _refresh(organisation, trigger: str) -> str:
    conn = connection_for(organisation)
    if conn is None or not conn.is_connected:
        return KeepAlive.NOT_CONNECTED
    provider = _provider(organisation, trigger=trigger)
    current = provider.store.load()
    try:
        provider.force_refresh(current.access_token if current else None)
    except ReconnectNeeded:
        return KeepAlive.RECONNECT_NEEDED
    # The store wrote the "Token refreshed" event in the transaction of its save.
    return KeepAlive.REFRESHED if provider.store.saved else KeepAlive.ADOPTED


def refresh_now(organisation, *, trigger: str = Trigger.ON_DEMAND) -> bool:
    """Refresh the token now. True when a fresh token is stored (by this or another process),
    False when not connected.

    Raises nothing for a refused grant: the connection is marked "Reconnect needed" instead.
    Network and server errors propagate (see `run_keep_alive` for the scheduled refresh).
    """
    return _refresh(organisation, trigger) in (KeepAlive.REFRESHED, KeepAlive.ADOPTED)


def run_keep_alive(organisation) -> str:
    """The scheduled keep-alive refresh of one organisation; returns a `KeepAlive` outcome.

    Every outcome is in the history: "Token refreshed" (keep-alive), "Reconnect needed" or
    "Keep-alive failed" (with a token-free reason); an adopted token has the event of the process
    that refreshed it. Raises nothing for a network or server error.
    """
    try:
        return _refresh(organisation, Trigger.KEEP_ALIVE)
    except Exception as exc:
        reason = _describe(exc)
        log.warning("bexio keep-alive failed for org %s: %s", organisation.pk, reason)
        record_event(
            organisation,
            EventKind.KEEP_ALIVE_FAILED,
            reason,
            conn=connection_for(organisation),
            trigger=Trigger.KEEP_ALIVE,
        )
        return KeepAlive.FAILED


# --- test, disconnect --------------------------------------------------------------------------
@dataclass
class TestResult:
    ok: bool
    latency_ms: int = 0
    company_name: str = ""
    user_name: str = ""
    message: str = ""
    forbidden: bool = False


def test_connection(organisation, *, user=None) -> TestResult:
    started = time.monotonic()
    try:
        with client_for(organisation, context="test connection") as client:
            me = client.users.me()
            profiles = client.company_profile.list()
    except NotConnected as exc:
        result = TestResult(False, message=str(exc))
    except errors.PermissionDeniedError as exc:
        result = TestResult(False, message=_describe(exc), forbidden=True)
    except Exception as exc:
        result = TestResult(False, message=_describe(exc))
    else:
        profile = profiles[0] if profiles else None
        result = TestResult(
            True,
            company_name=str(getattr(profile, "name", "") or ""),
            user_name=" ".join(p for p in (getattr(me, "firstname", ""), getattr(me, "lastname", "")) if p),
        )
    result.latency_ms = int((time.monotonic() - started) * 1000)
    conn = connection_for(organisation)
    record_event(
        organisation,
        EventKind.TESTED,
        (_("OK in %(ms)s ms") % {"ms": result.latency_ms}) if result.ok else result.message,
        user=user,
        conn=conn,
    )
    return result


def disconnect(organisation, *, user=None) -> None:
    """Revoke the grant at bexio, delete the tokens, keep the history."""
    with transaction.atomic():
        conn = BexioConnection.objects.select_for_update().filter(organisation=organisation).first()
        if conn is None:
            return
        refresh = conn.get_refresh_token() if conn.refresh_token_enc else ""
        conn.clear_tokens()
        conn.status = Status.NOT_CONNECTED
        conn.granted_scopes = []
        conn.reconnect_reason = ""
        conn.save()
        record_event(organisation, EventKind.DISCONNECTED, "", user=user, conn=conn)
    if refresh:
        auth = bexio_auth()
        try:
            _revoke_quietly(auth, refresh, organisation)
        finally:
            auth.close()


__all__ = [
    "AuthorisationError",
    "BexioClient",
    "NotConnected",
    "ReconnectNeeded",
    "call_context",
    "client_for",
    "connection_for",
    "disconnect",
    "finish_authorisation",
    "mark_reconnect_needed",
    "refresh_now",
    "run_keep_alive",
    "start_authorisation",
    "test_connection",
]
