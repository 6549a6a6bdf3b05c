"""Invoicing > Bexio > Authorisation: the "Get new token" flow (state, PKCE, callback, storage)."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field

import jwt
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aeroledger.tenancy.models import Membership
from bexio.auth import new_pkce

from . import crypto
from .clients import bexio_auth, describe_error
from .models import (
    STATE_VALID_FOR,
    BexioConnection,
    EventKind,
    PendingAuthorisation,
    Status,
    connection_row,
    record_event,
)
from .scopes import OPTIONAL_SCOPES, requested_scopes

log = logging.getLogger(__name__)


class AuthorisationError(Exception):
    """The callback could not complete; `message` is for the user, `organisation` when known."""

    def __init__(self, message: str, organisation=None):
        super().__init__(message)
        self.message = message
        self.organisation = organisation


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


def forbidden_explanation() -> str:
    """What a 403 from bexio means for the user (for pages and logs of other parts too)."""
    return _(
        "bexio answered 403: the bexio user who granted access lacks this permission in bexio. "
        "An admin in bexio must get a new token."
    )


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
    scopes = requested_scopes(conn.requested_optional_scopes, organisation)
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
        record_event(organisation, EventKind.FAILED, describe_error(exc), user=user)
        raise AuthorisationError(
            _("bexio did not accept the authorisation (%(reason)s). Nothing was stored; try again.")
            % {"reason": describe_error(exc)},
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
        log.warning("bexio userinfo failed for org %s: %s", organisation.pk, describe_error(exc))
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
