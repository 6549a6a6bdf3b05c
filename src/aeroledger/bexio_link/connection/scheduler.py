"""The scheduler loop behind `aeroledger run_scheduler`: enqueue periodic tasks when due."""

import logging
import time
from collections.abc import Callable

from django.db.models import Q
from django.utils import timezone

from .models import ScheduledJob
from .schedule import SCHEDULE, Periodic

log = logging.getLogger(__name__)


def claim(job: Periodic, now=None) -> bool:
    """Mark `job` as run now if it is due; True for exactly one caller among concurrent schedulers."""
    now = now or timezone.now()
    ScheduledJob.objects.get_or_create(name=job.name)
    updated = (
        ScheduledJob.objects.filter(name=job.name)
        .filter(Q(last_run_at__isnull=True) | Q(last_run_at__lte=now - job.every))
        .update(last_run_at=now)
    )
    return updated == 1


def run_due(schedule=SCHEDULE, now=None) -> list[str]:
    """Enqueue every due job once; returns the names enqueued."""
    enqueued = []
    for job in schedule:
        if not claim(job, now):
            continue
        try:
            job.task.enqueue()
        except Exception:
            log.exception("could not enqueue %s", job.name)
            ScheduledJob.objects.filter(name=job.name).update(last_run_at=None)
            continue
        log.info("enqueued %s", job.name)
        enqueued.append(job.name)
    return enqueued


def loop(*, interval_s: float = 30, once: bool = False, sleep: Callable[[float], None] = time.sleep) -> None:
    while True:
        try:
            run_due()
        except Exception:  # e.g. database briefly locked: try again next round
            log.exception("scheduler round failed")
        if once:
            return
        sleep(interval_s)
