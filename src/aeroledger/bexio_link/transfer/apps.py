import os
from datetime import timedelta

from django.apps import AppConfig


class BexioTransferConfig(AppConfig):
    name = "aeroledger.bexio_link.transfer"
    label = "bexio_transfer"
    verbose_name = "bexio transfer"

    def ready(self):
        # The senders register themselves with the outbox; the hooks with the club's pages.
        from . import hooks  # noqa: PLC0415 - models must be loaded first
        from .bookings import sender as _bookings  # noqa: F401, PLC0415
        from .contacts import sender as _contacts  # noqa: F401, PLC0415
        from .invoices import sender as _invoices  # noqa: F401, PLC0415

        hooks.register()

        from aeroledger.bexio_link.connection import schedule  # noqa: PLC0415

        from . import tasks  # noqa: PLC0415

        # Status and payments back from bexio (incremental search on updated_at), every organisation.
        minutes = int(os.environ.get("BEXIO_STATUS_SYNC_MINUTES", "15"))
        schedule.register("bexio status sync", tasks.sync_status_task, timedelta(minutes=minutes))
        # Writes left behind by a killed worker (expired lease) or waiting for a long back-off.
        schedule.register("bexio transfer resume", tasks.resume_transfers, timedelta(minutes=5))
