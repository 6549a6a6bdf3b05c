"""The organisation's connection to bexio: tokens (encrypted), grant, history, call log, schedule."""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aeroledger.tenancy.models import Organisation

from . import crypto
from .scopes import missing_required

STATE_VALID_FOR = timedelta(minutes=10)


class Status(models.TextChoices):
    NOT_CONNECTED = "not_connected", _("Not connected")
    CONNECTED = "connected", _("Connected")
    RECONNECT_NEEDED = "reconnect_needed", _("Reconnect needed")


class BexioConnection(models.Model):
    """One per organisation. Holds the current token pair (encrypted) and what was granted.

    The row also remembers the optional scopes the admin ticked, so it exists before the first
    token. `status` says whether the tokens can be used.
    """

    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="bexio_connection"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.NOT_CONNECTED
    )
    requested_optional_scopes = models.JSONField(_("optional scopes to request"), default=list, blank=True)

    # The token pair, Fernet ciphertext only. Empty when not connected.
    access_token_enc = models.TextField(blank=True, default="")
    refresh_token_enc = models.TextField(blank=True, default="")
    expires_at = models.DateTimeField(_("access token expires"), null=True, blank=True)
    granted_scopes = models.JSONField(_("granted scopes"), default=list, blank=True)

    company_id = models.CharField(_("bexio company id"), max_length=100, blank=True)
    company_name = models.CharField(_("bexio company"), max_length=200, blank=True)
    bexio_user_id = models.CharField(_("bexio user id"), max_length=100, blank=True)
    bexio_user_name = models.CharField(_("bexio user"), max_length=200, blank=True)
    bexio_user_email = models.CharField(_("bexio user e-mail"), max_length=254, blank=True)

    obtained_at = models.DateTimeField(_("token obtained"), null=True, blank=True)
    obtained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_refresh_at = models.DateTimeField(_("last refresh"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last successful call"), null=True, blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_error_status = models.PositiveSmallIntegerField(
        _("HTTP status of the last error"), null=True, blank=True
    )
    reconnect_reason = models.TextField(_("reason for reconnecting"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("bexio connection")
        verbose_name_plural = _("bexio connections")

    def __str__(self) -> str:
        return f"{self.organisation} -> bexio {self.company_name or '-'} ({self.status})"

    # --- state ---------------------------------------------------------------------------------
    @property
    def has_token(self) -> bool:
        return bool(self.refresh_token_enc or self.access_token_enc)

    @property
    def is_connected(self) -> bool:
        return self.status == Status.CONNECTED and self.has_token

    @property
    def needs_reconnect(self) -> bool:
        return self.status == Status.RECONNECT_NEEDED

    @property
    def missing_scopes(self):
        """Required scopes (Scope objects) the current grant lacks; empty when not connected."""
        if not self.has_token:
            return []
        return missing_required(self.granted_scopes, self.organisation)

    @property
    def transfers_allowed(self) -> bool:
        """Connected, not waiting for a reconnect, every required scope granted, option active."""
        return self.is_connected and not self.missing_scopes and self.organisation.bexio_option

    # --- tokens --------------------------------------------------------------------------------
    def set_tokens(self, access_token: str, refresh_token: str | None) -> None:
        self.access_token_enc = crypto.encrypt(access_token)
        self.refresh_token_enc = crypto.encrypt(refresh_token) if refresh_token else ""

    def get_access_token(self) -> str:
        return crypto.decrypt(self.access_token_enc) if self.access_token_enc else ""

    def get_refresh_token(self) -> str:
        return crypto.decrypt(self.refresh_token_enc) if self.refresh_token_enc else ""

    def clear_tokens(self) -> None:
        self.access_token_enc = ""
        self.refresh_token_enc = ""
        self.expires_at = None


class PendingAuthorisation(models.Model):
    """One "Get new token" in flight: the single-use state (hashed), PKCE verifier and nonce.

    Bound to the user, the organisation and the browser session; valid for 10 minutes.
    """

    state_hash = models.CharField(max_length=64, unique=True)
    code_verifier_enc = models.TextField()
    nonce = models.CharField(max_length=100)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    session_key = models.CharField(max_length=100)
    scopes = models.JSONField(default=list)
    redirect_uri = models.CharField(max_length=500)
    created = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"authorisation of {self.organisation_id} by {self.user_id} at {self.created:%Y-%m-%d %H:%M}"

    @staticmethod
    def hash_state(state: str) -> str:
        return hashlib.sha256(state.encode()).hexdigest()

    @property
    def is_expired(self) -> bool:
        return timezone.now() - self.created > STATE_VALID_FOR

    def get_code_verifier(self) -> str:
        return crypto.decrypt(self.code_verifier_enc)


class EventKind(models.TextChoices):
    FLOW_STARTED = "flow_started", _("Authorisation started")
    CONNECTED = "connected", _("Token obtained")
    CANCELLED = "cancelled", _("Authorisation cancelled")
    FAILED = "failed", _("Authorisation failed")
    REFRESHED = "refreshed", _("Token refreshed")
    RECONNECT_NEEDED = "reconnect_needed", _("Reconnect needed")
    TESTED = "tested", _("Connection tested")
    DISCONNECTED = "disconnected", _("Disconnected")
    SCOPES_CHANGED = "scopes_changed", _("Optional scopes changed")
    KEEP_ALIVE_FAILED = "keep_alive_failed", _("Keep-alive failed")


class Trigger(models.TextChoices):
    """What made Aeroledger talk to bexio's token endpoint (refresh and keep-alive events)."""

    KEEP_ALIVE = "keep_alive", _("Scheduled keep-alive")
    ON_DEMAND = "on_demand", _("On demand")


class ConnectionEvent(models.Model):
    """The connection's history; kept after Disconnect. Never holds a token."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=30, choices=EventKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    message = models.TextField(blank=True)
    company_id = models.CharField(max_length=100, blank=True)
    company_name = models.CharField(max_length=200, blank=True)
    scopes = models.JSONField(default=list, blank=True)
    # Refresh, keep-alive and reconnect-needed events: the scheduled keep-alive or a call's need.
    trigger = models.CharField(max_length=20, choices=Trigger.choices, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind}"


class BexioCall(models.Model):
    """The call log: one row per HTTP request to the bexio API (filled by the client's hook)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    status = models.PositiveSmallIntegerField(null=True, blank=True)  # None: no answer (network)
    duration_ms = models.PositiveIntegerField(default=0)
    attempt = models.PositiveSmallIntegerField(default=1)
    error_code = models.CharField(max_length=100, blank=True)
    message = models.TextField(blank=True)
    context = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["organisation", "-at"])]

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status}"


class ScheduledJob(models.Model):
    """Last run of each periodic job of `schedule.py`, shared by every scheduler process."""

    name = models.CharField(max_length=100, unique=True)
    last_run_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


# --- lookups used everywhere in bexio_link ------------------------------------------------------
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
