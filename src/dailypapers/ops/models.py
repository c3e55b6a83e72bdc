from django.db import models


class JobStat(models.Model):
    """Runs and failures of one kind of background job (a huey task name), kept by the queue's
    signals (ops.tasks): what `dailypapers status`, /healthz's neighbours and the admin show."""

    name = models.CharField(max_length=100, unique=True)
    runs = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0, help_text="tries that raised (each retry counts)")
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_ok_at = models.DateTimeField(null=True, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_result = models.CharField(max_length=500, blank=True, help_text="what the last successful run said")

    def __str__(self) -> str:
        return self.name
