from datetime import timedelta

from django.apps import AppConfig


class BexioConnectionConfig(AppConfig):
    name = "aeroledger.bexio_link.connection"
    label = "bexio_connection"
    verbose_name = "bexio connection"

    def ready(self):
        from aeroledger.tenancy import hooks  # noqa: PLC0415 - apps are loaded now

        from . import panels, schedule, tasks  # noqa: PLC0415

        # Keeps every organisation's offline session alive (bexio closes it after 1 year idle) and
        # finds revoked grants early ("Reconnect needed" + e-mail).
        schedule.register("bexio keep-alive refresh", tasks.keep_alive, timedelta(hours=6))
        hooks.register("dashboard", panels.dashboard_panel)
