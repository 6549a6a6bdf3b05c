"""Reconciliation runs: one at a time per organisation, with progress, the result kept.

`start(org, period, user)` records a queued run (refused with `AlreadyRunning` while another one is
queued or running: a partial unique index decides, across processes); `execute(run)` does it (the
task, or the command in its own process) and stores the result. A run whose worker died (no
progress for `STALE_AFTER`) no longer blocks: it is marked failed when the next one starts.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import ReconciliationRun
from .reconcile import period_bounds, reconcile


class AlreadyRunning(Exception):
    """Another reconciliation of the organisation is queued or running."""

    def __init__(self, run: ReconciliationRun):
        super().__init__(_("A reconciliation is already running (started %(at)s).") % {"at": run.created_at})
        self.run = run


def open_run(org) -> ReconciliationRun | None:
    return ReconciliationRun.objects.filter(organisation=org, status__in=ReconciliationRun.OPEN).first()


def last_finished(org) -> ReconciliationRun | None:
    return ReconciliationRun.objects.filter(
        organisation=org, status=ReconciliationRun.Status.FINISHED
    ).first()


def start(org, period: str | None = None, *, user=None, today=None) -> ReconciliationRun:
    date_from, date_to = period_bounds(period, today)
    running = open_run(org)
    if running is not None and running.is_stale:
        ReconciliationRun.objects.filter(pk=running.pk, status__in=ReconciliationRun.OPEN).update(
            status=ReconciliationRun.Status.FAILED,
            error=_("Interrupted (the worker stopped)."),
            finished_at=timezone.now(),
        )
    try:
        with transaction.atomic():
            return ReconciliationRun.objects.create(
                organisation=org,
                period=period or "",
                date_from=date_from,
                date_to=date_to,
                created_by=user,
            )
    except IntegrityError:
        raise AlreadyRunning(open_run(org) or ReconciliationRun(organisation=org)) from None


def _progress(run: ReconciliationRun):
    def report(step: int, steps: int, label: str, requests: int) -> None:
        ReconciliationRun.objects.filter(pk=run.pk).update(
            step=step, steps=steps, step_label=label[:200], requests=requests, heartbeat_at=timezone.now()
        )

    return report


def execute(run: ReconciliationRun, *, client=None):
    """Do the run (in this process) and keep its result; returns the `reconcile.Result`."""
    moved = ReconciliationRun.objects.filter(pk=run.pk, status=ReconciliationRun.Status.QUEUED).update(
        status=ReconciliationRun.Status.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now()
    )
    if not moved:
        return None  # taken by another worker, or already done
    run.refresh_from_db()
    try:
        result = reconcile(
            run.organisation,
            period=run.period or None,
            client=client,
            progress=_progress(run),
            today=run.date_to,
        )
    except Exception as exc:
        from aeroledger.bexio_link.connection.clients import describe_error  # noqa: PLC0415

        ReconciliationRun.objects.filter(pk=run.pk).update(
            status=ReconciliationRun.Status.FAILED,
            error=describe_error(exc) or type(exc).__name__,
            finished_at=timezone.now(),
        )
        raise
    ReconciliationRun.objects.filter(pk=run.pk).update(
        status=ReconciliationRun.Status.FINISHED,
        finished_at=timezone.now(),
        result=result.as_json(),
        differences=len(result.differences),
        requests=result.requests,
        step=run.steps or 1,
    )
    return result
