"""The durable state of everything Aeroledger writes to bexio, and of what it reads back.

- `OutboxItem`: one write to bexio (a contact, an invoice, a manual entry), durable from the moment
  it is decided until bexio confirmed it. A worker claims it with a lease, marks it "sending" and
  commits *before* anything is sent; an attempt that may have reached bexio (`maybe_in_bexio`, or a
  row still "sending" after a worker died) is looked up in bexio before anything is sent again.
  That is what makes every write exactly once. `OutboxAttempt` is its log (the transfer log).
- `TransferBatch`: one "transfer" started by a person or the CLI (progress bar).
- `OrgLease`: which worker runs an organisation's outbox right now (one at a time).
- `InvoiceLink`: what bexio has of one of our invoices (its kb_invoice id, number, status, payments).
- `SyncState`: the status/payment sync's watermark per organisation.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aeroledger.tenancy.models import Organisation

from .invoices import status as bexio_status


class ItemStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Sending")
    DONE = "done", _("In bexio")
    FAILED = "failed", _("Needs attention")
    CANCELLED = "cancelled", _("Withdrawn")


# Kept for the pages and older code that speak of invoice transfers.
TransferStatus = ItemStatus


class ItemKind(models.TextChoices):
    CONTACT = "contact", _("Contact")
    INVOICE = "invoice", _("Invoice")
    MANUAL_ENTRY = "manual_entry", _("Booking")


class TransferBatch(models.Model):
    """One "transfer" started by a person or the CLI: the items it covers and its progress."""

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
        rows = self.items.values("status").annotate(n=models.Count("id"))
        counts = {s.value: 0 for s in ItemStatus}
        for row in rows:
            counts[row["status"]] = row["n"]
        counts["total"] = sum(counts[s.value] for s in ItemStatus if s != ItemStatus.CANCELLED)
        counts["remaining"] = counts[ItemStatus.PENDING] + counts[ItemStatus.SENDING]
        return counts


class OutboxItem(models.Model):
    """One write to bexio, kept for ever: what it is about, where it stands, what bexio made of it."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=ItemKind.choices)
    # What the write is about, unique per organisation and kind (an invoice's uuid, a booking's
    # reference number, a member): the same write is never queued twice.
    key = models.CharField(max_length=120)
    label = models.CharField(max_length=200, blank=True)  # for people: "Invoice 2026-00012 Muster"
    invoice = models.ForeignKey(
        "billing.Invoice", null=True, blank=True, on_delete=models.CASCADE, related_name="bexio_outbox"
    )
    credit_entry = models.ForeignKey(
        "billing.CreditEntry", null=True, blank=True, on_delete=models.CASCADE, related_name="bexio_outbox"
    )
    member = models.ForeignKey(
        "members.Member", null=True, blank=True, on_delete=models.CASCADE, related_name="bexio_outbox"
    )
    batch = models.ForeignKey(
        TransferBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="items"
    )
    status = models.CharField(max_length=10, choices=ItemStatus.choices, default=ItemStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_try_at = models.DateTimeField(null=True, blank=True)
    # Lease: a worker owns the row until claimed_until; an expired lease may be taken over.
    claimed_by = models.CharField(max_length=100, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    # An earlier attempt sent the write and got no definite answer: look it up before sending again.
    maybe_in_bexio = models.BooleanField(default=False)
    # bexio's verbatim answer of the last failure, and its HTTP status (None: no answer).
    last_error = models.TextField(blank=True)
    last_error_status = models.PositiveSmallIntegerField(null=True, blank=True)
    # What bexio made of it: its id and its number or reference.
    bexio_id = models.BigIntegerField(null=True, blank=True)
    bexio_ref = models.CharField(max_length=100, blank=True)
    # What was sent (manual entries: the lines), for the log and the reconciliation.
    sent = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "kind", "key"], name="one_outbox_item_per_write")
        ]
        indexes = [
            models.Index(fields=["organisation", "status", "next_try_at"], name="outbox_org_due"),
            models.Index(fields=["status", "next_try_at"], name="outbox_due"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}: {self.status}"

    @property
    def lease_expired(self) -> bool:
        return self.claimed_until is None or self.claimed_until <= timezone.now()

    @property
    def withdrawable(self) -> bool:
        """Nothing of it can be in bexio: it may still be withdrawn (e.g. its invoice cancelled)."""
        return (
            self.status in (ItemStatus.PENDING, ItemStatus.FAILED, ItemStatus.CANCELLED)
            and not self.maybe_in_bexio
            and self.bexio_id is None
        )

    def action_hint(self) -> str:
        if self.status == ItemStatus.FAILED:
            return str(_("Fix what bexio reports (mapping, contact or the document), then retry."))
        return ""


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after `attempts` failed tries: 5 s, 10 s, 20 s ... at most 15 min."""
    return timedelta(seconds=min(900, 5 * 2 ** max(0, attempts - 1)))


class OutboxAttempt(models.Model):
    """The transfer log: one row per attempt at an item (the HTTP calls themselves are BexioCall)."""

    class Outcome(models.TextChoices):
        CREATED = "created", _("Created in bexio")
        ADOPTED = "adopted", _("Found in bexio and adopted")
        RETRY = "retry", _("Will retry")
        FAILED = "failed", _("Needs attention")
        PAUSED = "paused", _("Paused (reconnect needed)")
        RUNNING = "running", _("Running")
        INTERRUPTED = "interrupted", _("Interrupted (will resume)")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(OutboxItem, on_delete=models.CASCADE, related_name="log")
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
        return f"{self.item_id}: {self.outcome}"


class OrgLease(models.Model):
    """Which worker runs an organisation's outbox right now (one at a time, lease with expiry)."""

    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="+")
    claimed_by = models.CharField(max_length=100, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.organisation_id}: {self.claimed_by}"


class InvoiceLink(models.Model):
    """What bexio has of one of our invoices: exactly one row per invoice once it was sent."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    invoice = models.OneToOneField("billing.Invoice", on_delete=models.CASCADE, related_name="bexio_invoice")
    contact_id = models.PositiveIntegerField(null=True, blank=True)
    bexio_id = models.PositiveIntegerField(null=True, blank=True)
    document_nr = models.CharField(max_length=50, blank=True)
    # bexio's kb_item_status_id as last seen (bexio.InvoiceStatus); labels via `status_label`.
    bexio_status = models.PositiveSmallIntegerField(null=True, blank=True)
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

    class Meta:
        indexes = [models.Index(fields=["organisation", "bexio_id"])]

    def __str__(self) -> str:
        return f"invoice {self.invoice_id} in bexio: {self.bexio_id}"

    @property
    def status_label(self) -> str:
        """bexio's status of the invoice in the club's words ("Open", "Partially paid", ...)."""
        return bexio_status.label(self.bexio_status)

    @property
    def is_cancelled_in_bexio(self) -> bool:
        return bexio_status.is_cancelled(self.bexio_status)

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
                    "The invoice was cancelled in bexio. Check the member's account and bill again if the "
                    "charges are still owed."
                )
            )
        return ""


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
