from django.apps import AppConfig


class BexioTransferConfig(AppConfig):
    name = "aeroledger.bexio_link.transfer"
    label = "bexio_transfer"
    verbose_name = "bexio transfer"

    def ready(self):
        from aeroledger.tenancy import hooks

        from . import panels

        hooks.register("dashboard", panels.dashboard_panel)
        hooks.register("invoice_list", panels.invoice_list_panel)
        hooks.register("invoice_list_rows", panels.invoice_list_rows)
        hooks.register("invoice_list_filters", panels.invoice_list_filters)
