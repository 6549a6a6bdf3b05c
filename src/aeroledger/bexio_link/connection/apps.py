from django.apps import AppConfig


class BexioConnectionConfig(AppConfig):
    name = "aeroledger.bexio_link.connection"
    label = "bexio_connection"
    verbose_name = "bexio connection"

    def ready(self):
        from aeroledger.tenancy import hooks

        from . import panels

        hooks.register("dashboard", panels.dashboard_panel)
