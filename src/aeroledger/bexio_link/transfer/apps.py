from django.apps import AppConfig


class BexioTransferConfig(AppConfig):
    name = "aeroledger.bexio_link.transfer"
    label = "bexio_transfer"
    verbose_name = "bexio transfer"
