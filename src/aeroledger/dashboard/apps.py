from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The organisation's overview (`/o/<slug>/`): what needs the treasurer today."""

    name = "aeroledger.dashboard"
    label = "dashboard"
    verbose_name = "overview"
