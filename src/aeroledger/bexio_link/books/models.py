"""The reconciliations of Aeroledger's ledger with bexio's books: one row per run (progress, result).

A run is started from the Books page (a django-tasks task) or by `aeroledger bexio_reconcile`; at
most one runs per organisation at a time (a partial unique index on the open statuses). The result
is stored as JSON (amounts as strings) in the words of `reconcile.Result.as_json()`: the page
renders its texts in the reader's language, the command prints them.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aeroledger.tenancy.models import Organisation

# A run that has not reported progress for this long is taken as interrupted (its worker died).
STALE_AFTER = timedelta(minutes=15)


class ReconciliationRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        FINISHED = "finished", _("Finished")
        FAILED = "failed", _("Failed")

    OPEN = (Status.QUEUED, Status.RUNNING)

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    period = models.CharField(_("period"), max_length=7, blank=True)  # "2026-11"; "" = up to the day
    date_from = models.DateField(null=True, blank=True)  # None: from the beginning
    date_to = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    step = models.PositiveSmallIntegerField(default=0)
    steps = models.PositiveSmallIntegerField(default=0)
    step_label = models.CharField(max_length=200, blank=True)
    requests = models.PositiveIntegerField(default=0)  # requests to bexio
    differences = models.PositiveIntegerField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation"],
                condition=models.Q(status__in=["queued", "running"]),
                name="one_open_reconciliation_per_org",
            )
        ]
        verbose_name = _("reconciliation")
        verbose_name_plural = _("reconciliations")

    def __str__(self) -> str:
        return f"reconciliation {self.pk} ({self.organisation_id} {self.period or self.date_to})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def percent(self) -> int:
        if self.status == self.Status.FINISHED:
            return 100
        return int(100 * self.step / self.steps) if self.steps else 0

    @property
    def seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return round((self.finished_at - self.started_at).total_seconds(), 1)
        return None

    @property
    def is_stale(self) -> bool:
        last = self.heartbeat_at or self.started_at or self.created_at
        return self.is_open and timezone.now() - last > STALE_AFTER
