from django.apps import AppConfig


class BexioMasterdataConfig(AppConfig):
    name = "aeroledger.bexio_link.masterdata"
    label = "bexio_masterdata"
    verbose_name = "bexio masterdata"
