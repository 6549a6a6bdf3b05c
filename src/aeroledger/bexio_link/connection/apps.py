from django.apps import AppConfig


class BexioConnectionConfig(AppConfig):
    name = "aeroledger.bexio_link.connection"
    label = "bexio_connection"
    verbose_name = "bexio connection"
