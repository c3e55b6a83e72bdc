"""What `dailypapers status` and the admin's status page show: one read of the whole site's state."""

import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.db.models import Max
from django.utils import timezone
from django.utils.module_loading import import_string

from dailypapers.papers.models import HarvestState, Paper
from dailypapers.queue import queue_counts
from dailypapers.search.services import keyword_indexed_until, papers_needing_keywords, papers_needing_vectors

from .models import JobStat, RunningJob, WorkerBeat

SCHEDULED_INGESTS = ("ops.harvest_arxiv_oai", "ops.import_hf_daily")
LEASE_SECONDS = 30  # a worker silent this long is gone (its machine lost, or frozen); it beats every 5 s
HOST = socket.gethostname()


def live_workers(*, now: datetime) -> set[str]:
    """The workers (host:pid) that beat within LEASE_SECONDS."""
    return set(WorkerBeat.objects.filter(beat_at__gte=now - timedelta(seconds=LEASE_SECONDS))
               .values_list("worker", flat=True))


def worker_gone(job: RunningJob, *, live: set[str]) -> bool:
    """Whether the process running this job is gone: on this machine, exactly (is its pid alive); on
    another, by its worker's beat."""
    return not _pid_alive(job.pid) if job.host == HOST else job.worker not in live


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class WorkerState:
    worker: str  # host:pid of a `dailypapers worker`
    beat_at: datetime
    seconds_since_beat: float
    alive: bool  # beat within LEASE_SECONDS (one that stopped cleanly removes its beat; a dead one's stays a day)


@dataclass
class JobRunning:
    name: str
    task_id: str
    worker: str
    pid: int
    started_at: datetime
    seconds_running: float
    worker_alive: bool  # False: it is put back on the queue at a live worker's next beat


@dataclass
class Status:
    papers: int
    vectors_pending: int
    keywords_pending: int  # embedded papers without Hugging Face's keywords or extracted ones yet
    keyword_indexed_until: datetime | None
    papers_changed_since_index: int
    queue_pending: int | None
    queue_scheduled: int | None
    queue_error: str
    failed_jobs: int
    jobs: list[JobStat]
    last_digests: dict[str, tuple[str, datetime] | None]
    last_ingests: list[JobStat]
    last_harvest: HarvestState | None
    workers: list[WorkerState] = field(default_factory=list)
    running: list[JobRunning] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failing_jobs(self) -> list[JobStat]:
        """Jobs whose last try failed (not since succeeded)."""
        return [j for j in self.jobs if j.last_error_at and (j.last_ok_at is None or j.last_error_at > j.last_ok_at)]

    @property
    def index_lag_seconds(self) -> float | None:
        if self.keyword_indexed_until is None:
            return None
        return (
            max(0.0, (timezone.now() - self.keyword_indexed_until).total_seconds())
            if self.papers_changed_since_index
            else 0.0
        )


def site_status() -> Status:
    now = timezone.now()
    indexed_until = keyword_indexed_until()
    changed = Paper.objects.filter(modified_at__gt=indexed_until).count() if indexed_until else Paper.objects.count()
    counts: dict[str, int | None]
    try:
        counts, queue_error = dict(queue_counts()), ""
    except Exception as exc:  # noqa: BLE001 - the status of a broken queue is that it is broken
        counts, queue_error = {"pending": None, "scheduled": None}, f"{type(exc).__name__}: {exc}"
    # Through the app registry: ops and digests are sibling layers (ARCHITECTURE.md), and the status
    # only reads the deliveries table.
    DigestDelivery = apps.get_model("digests", "DigestDelivery")
    last_digests: dict[str, tuple[str, datetime] | None] = {}
    for kind in ("day", "week"):
        newest = (
            DigestDelivery.objects.filter(period__startswith=f"{kind}:", status="sent")
            .values("period")
            .annotate(at=Max("sent_at"))
            .order_by("-period")
            .first()
        )
        last_digests[kind] = (newest["period"], newest["at"]) if newest else None
    jobs = list(JobStat.objects.order_by("name"))
    live = live_workers(now=now)
    workers = [WorkerState(worker=b.worker, beat_at=b.beat_at, seconds_since_beat=(now - b.beat_at).total_seconds(),
                           alive=b.worker in live)
               for b in WorkerBeat.objects.order_by("-beat_at", "worker")]
    running = [JobRunning(name=j.name, task_id=j.task_id, worker=j.worker, pid=j.pid, started_at=j.started_at,
                          seconds_running=max(0.0, (now - j.started_at).total_seconds()),
                          worker_alive=not worker_gone(j, live=live))
               for j in RunningJob.objects.order_by("started_at")]
    return Status(
        papers=Paper.objects.count(),
        vectors_pending=papers_needing_vectors(model_id=_model_id()).count(),
        keywords_pending=papers_needing_keywords(model_id=_model_id()).count(),
        keyword_indexed_until=indexed_until,
        papers_changed_since_index=changed,
        queue_pending=counts["pending"],
        queue_scheduled=counts["scheduled"],
        queue_error=queue_error,
        failed_jobs=sum(j.failures for j in jobs),
        jobs=jobs,
        last_digests=last_digests,
        last_ingests=[j for j in jobs if j.name in SCHEDULED_INGESTS],
        last_harvest=HarvestState.objects.order_by("-updated_at").first(),
        workers=workers,
        running=running,
    )


def _model_id() -> str:
    # The model's id without loading the model (a web process may never have loaded it).
    return import_string(settings.DAILYPAPERS_EMBEDDER).model_id
