"""Durable state of the invoice transfer to bexio and of the status/payment sync back.

`TransferState` is the per-invoice state machine that makes a transfer exactly-once: it is
written *before* anything is sent (status "sending", attempts + 1) and after bexio answered, so a
worker killed anywhere in between leaves a row whose lease expires; the next worker that claims it
first looks the invoice up in bexio by `api_reference` and adopts what it finds.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aeroledger.tenancy.models import Organisation


class TransferStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Sending")
    DONE = "done", _("Transferred")
    FAILED = "failed", _("Needs attention")


# bexio's kb_item_status_id for invoices (reference §3.6).
class BexioInvoiceStatus(models.IntegerChoices):
    DRAFT = 7, _("Draft")
    OPEN = 8, _("Open")
    PAID = 9, _("Paid")
    PARTIALLY_PAID = 16, _("Partially paid")
    CANCELLED = 19, _("Cancelled")
    UNPAID = 31, _("Unpaid")


class TransferBatch(models.Model):
    """One "transfer" started by a person or the CLI: the invoices it covers and its progress."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        PAUSED = "paused", _("Paused")
        FINISHED = "finished", _("Finished")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    paused_reason = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"batch {self.pk} ({self.organisation_id})"

    def counts(self) -> dict:
        rows = self.states.values("status").annotate(n=models.Count("id"))
        counts = {s.value: 0 for s in TransferStatus}
        for row in rows:
            counts[row["status"]] = row["n"]
        counts["total"] = sum(counts[s.value] for s in TransferStatus)
        counts["remaining"] = counts[TransferStatus.PENDING] + counts[TransferStatus.SENDING]
        return counts


class TransferState(models.Model):
    """The transfer of one invoice: exactly one row per invoice, kept for ever."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    invoice = models.OneToOneField("billing.Invoice", on_delete=models.CASCADE, related_name="bexio_transfer")
    batch = models.ForeignKey(
        TransferBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="states"
    )
    status = models.CharField(max_length=10, choices=TransferStatus.choices, default=TransferStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_try_at = models.DateTimeField(null=True, blank=True)
    # Lease: a worker owns the row until claimed_until; an expired lease may be taken over.
    claimed_by = models.CharField(max_length=100, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    # bexio's verbatim answer of the last failure, and its HTTP status (None: no answer).
    last_error = models.TextField(blank=True)
    last_error_status = models.PositiveSmallIntegerField(null=True, blank=True)
    # What bexio has.
    contact_id = models.PositiveIntegerField(null=True, blank=True)
    bexio_id = models.PositiveIntegerField(null=True, blank=True)
    document_nr = models.CharField(max_length=50, blank=True)
    bexio_status = models.PositiveSmallIntegerField(null=True, blank=True, choices=BexioInvoiceStatus.choices)
    bexio_total = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    positions_total = models.PositiveIntegerField(default=0)  # positions the invoice has to have
    positions_confirmed = models.PositiveIntegerField(default=0)  # positions bexio confirmed
    issued = models.BooleanField(default=False)
    sent = models.BooleanField(default=False)
    # Status sync: the last values seen in bexio.
    received_payments = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    bexio_updated_at = models.CharField(max_length=25, blank=True)  # bexio's Zurich local time
    gone_in_bexio = models.BooleanField(default=False)  # deleted in bexio
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["organisation", "status", "next_try_at"]),
            models.Index(fields=["organisation", "bexio_id"]),
        ]

    def __str__(self) -> str:
        return f"transfer of invoice {self.invoice_id}: {self.status}"

    @property
    def lease_expired(self) -> bool:
        return self.claimed_until is None or self.claimed_until <= timezone.now()

    @property
    def is_cancelled_in_bexio(self) -> bool:
        return self.bexio_status == BexioInvoiceStatus.CANCELLED

    @property
    def needs_lookup(self) -> bool:
        """Before sending again: did an earlier attempt possibly reach bexio?"""
        return self.attempts > 1 or self.bexio_id is not None

    def action_hint(self) -> str:
        """What a person should do about this invoice, if anything."""
        if self.gone_in_bexio:
            return str(
                _(
                    "The invoice was deleted in bexio. Cancel it here (or create a new invoice) and "
                    "transfer again if it is still owed."
                )
            )
        if self.is_cancelled_in_bexio:
            return str(
                _(
                    "The invoice was cancelled in bexio. Check the member's credit account and bill "
                    "again if the charges are still owed."
                )
            )
        if self.status == TransferStatus.FAILED:
            return str(_("Fix what bexio reports (mapping, contact or invoice), then retry."))
        return ""


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after `attempts` failed tries: 5 s, 10 s, 20 s ... at most 15 min."""
    return timedelta(seconds=min(900, 5 * 2 ** max(0, attempts - 1)))


class TransferAttempt(models.Model):
    """The log: one row per attempt to transfer an invoice (the HTTP calls are in BexioCall)."""

    class Outcome(models.TextChoices):
        CREATED = "created", _("Created in bexio")
        ADOPTED = "adopted", _("Found in bexio and adopted")
        RETRY = "retry", _("Will retry")
        FAILED = "failed", _("Needs attention")
        PAUSED = "paused", _("Paused (reconnect needed)")
        RUNNING = "running", _("Running")
        INTERRUPTED = "interrupted", _("Interrupted (worker stopped)")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    state = models.ForeignKey(TransferState, on_delete=models.CASCADE, related_name="log")
    batch = models.ForeignKey(
        TransferBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)
    duration_ms = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=100, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.RUNNING)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["organisation", "-at"])]

    def __str__(self) -> str:
        return f"{self.state_id}: {self.outcome}"


class OrgLease(models.Model):
    """Which worker runs an organisation's transfers right now (one at a time, lease with expiry)."""

    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="+")
    claimed_by = models.CharField(max_length=100, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.organisation_id}: {self.claimed_by}"


class SyncState(models.Model):
    """Status/payment sync back from bexio, per organisation: the watermark and the last run."""

    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="+")
    # bexio's updated_at of the newest invoice seen, Zurich local time "YYYY-MM-DD HH:MM:SS".
    watermark = models.CharField(max_length=25, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_ok_at = models.DateTimeField(null=True, blank=True)
    last_full_at = models.DateTimeField(null=True, blank=True)  # last check for invoices deleted in bexio
    last_error = models.TextField(blank=True)
    last_changed = models.PositiveIntegerField(default=0)
    last_payments = models.PositiveIntegerField(default=0)
    last_requests = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"sync {self.organisation_id} @ {self.watermark}"
