"""What `dailypapers status` and the admin's status page show: one read of the whole site's state."""

from dataclasses import dataclass, field
from datetime import datetime

from django.apps import apps
from django.conf import settings
from django.db.models import Max
from django.utils import timezone
from django.utils.module_loading import import_string

from dailypapers.papers.models import HarvestState, Paper
from dailypapers.queue import queue_counts
from dailypapers.search.models import IndexState
from dailypapers.search.services import papers_needing_keywords, papers_needing_vectors

from .models import JobStat

SCHEDULED_INGESTS = ("ops.harvest_arxiv_oai", "ops.import_hf_daily")


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
    notes: list[str] = field(default_factory=list)

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
    keyword = IndexState.objects.filter(name="keyword").first()
    indexed_until = keyword.indexed_until if keyword else None
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
    )


def _model_id() -> str:
    # The model's id without loading the model (a web process may never have loaded it).
    return import_string(settings.DAILYPAPERS_EMBEDDER).model_id
