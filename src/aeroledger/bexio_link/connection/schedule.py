"""Periodic jobs, run by `aeroledger run_scheduler`: (name, dotted path of a django-tasks task, interval).

The scheduler enqueues each task (without arguments) when its interval has passed since the last
run recorded in the database (`ScheduledJob`); the claim is one conditional UPDATE, so several
scheduler processes never enqueue the same run twice. The task itself does the work for every
organisation concerned. Add a line here to schedule another job.
"""

import os
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Periodic:
    name: str
    task: str  # dotted path of a django_tasks Task, enqueued without arguments
    every: timedelta


SCHEDULE: tuple[Periodic, ...] = (
    # Keeps every organisation's offline session alive (bexio closes it after 1 year idle) and
    # finds revoked grants early ("Reconnect needed" + e-mail).
    Periodic(
        "bexio keep-alive refresh", "aeroledger.bexio_link.connection.tasks.keep_alive", timedelta(hours=6)
    ),
    # --- masterdata refresh (bexio_link.masterdata adds its line here) ---
    # Articles, taxes, accounts, bank accounts, ... of every connected organisation ("Refresh from bexio").
    Periodic(
        "bexio master data refresh", "aeroledger.bexio_link.masterdata.tasks.refresh_all", timedelta(hours=24)
    ),
    # --- status sync (bexio_link.transfer adds its line here) ---
    # Status and payments back from bexio (incremental search on updated_at), every organisation.
    Periodic(
        "bexio status sync",
        "aeroledger.bexio_link.transfer.tasks.sync_status_task",
        timedelta(minutes=int(os.environ.get("BEXIO_STATUS_SYNC_MINUTES", "15"))),
    ),
    # Transfers left behind by a killed worker (expired lease) or waiting for a long back-off.
    Periodic(
        "bexio transfer resume", "aeroledger.bexio_link.transfer.tasks.resume_transfers", timedelta(minutes=5)
    ),
)
