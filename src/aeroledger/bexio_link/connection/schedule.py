"""Periodic jobs, run by `aeroledger run_scheduler`: each app registers its own in AppConfig.ready().

    schedule.register("bexio status sync", sync_status_task, timedelta(minutes=15))

The scheduler enqueues each task (without arguments) when its interval has passed since the last
run recorded in the database (`ScheduledJob`); the claim is one conditional UPDATE, so several
scheduler processes never enqueue the same run twice. The task itself does the work for every
organisation concerned.
"""

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Periodic:
    name: str
    task: object  # a django_tasks Task, enqueued without arguments
    every: timedelta


SCHEDULE: list[Periodic] = []


def register(name: str, task, every: timedelta) -> Periodic:
    """Add a periodic job (registering the same name again replaces it)."""
    job = Periodic(name, task, every)
    SCHEDULE[:] = [j for j in SCHEDULE if j.name != name] + [job]
    return job
