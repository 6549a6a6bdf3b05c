from django.apps import AppConfig


class BexioBooksConfig(AppConfig):
    name = "aeroledger.bexio_link.books"
    label = "bexio_books"
    verbose_name = "bexio books"
