from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Running the site: the worker and status commands, /healthz, the admin's status page,
    scheduled ingests and the record of every background job. The top layer: it may read any app."""

    name = "dailypapers.ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        # Every app's tasks registered in every process (the web enqueues, the worker runs) and the
        # queue's job-record hooks (ops.tasks) in place wherever a task runs.
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("tasks")
