from datetime import timedelta

from django.apps import AppConfig


class BexioMasterdataConfig(AppConfig):
    name = "aeroledger.bexio_link.masterdata"
    label = "bexio_masterdata"
    verbose_name = "bexio masterdata"

    def ready(self):
        from django.db.models.signals import post_save

        from aeroledger.bexio_link.connection import schedule  # noqa: PLC0415
        from aeroledger.bexio_link.connection.models import BexioConnection
        from aeroledger.tenancy import hooks

        from . import panels, tasks  # noqa: PLC0415
        from .signals import connection_saved

        # Articles, taxes, accounts, bank accounts, ... of every connected organisation.
        schedule.register("bexio master data refresh", tasks.refresh_all, timedelta(hours=24))
        post_save.connect(connection_saved, sender=BexioConnection, dispatch_uid="bexio_masterdata.connected")
        hooks.register("member_detail", panels.member_panel)
