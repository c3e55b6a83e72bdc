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


class RunningJob(models.Model):
    """A job a worker has started and not finished (the queue's ledger, ops.services): huey takes a
    job off the queue when it starts, so a worker killed mid-job would lose it; the row keeps the
    job's message until it ends, and a job whose worker died is put back on the queue."""

    task_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    message = models.BinaryField(help_text="the job as the queue serialized it")
    worker = models.CharField(max_length=200, help_text="host:pid of the `dailypapers worker` running it")
    host = models.CharField(max_length=200)
    pid = models.PositiveIntegerField(help_text="the process executing it (a child with --processes)")
    started_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} on {self.worker}"


class WorkerBeat(models.Model):
    """Each running `dailypapers worker` says it is alive every few seconds."""

    worker = models.CharField(max_length=200, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.worker
