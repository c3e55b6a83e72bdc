from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Running the site: the worker and status commands, /healthz, the admin's status page,
    scheduled ingests and the record of every background job. The top layer: it may read any app."""

    name = "dailypapers.ops"
    verbose_name = "Operations"
