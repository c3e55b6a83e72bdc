"""Scheduled ingests (off by default) and the record of every background job.

- ops.harvest_arxiv_oai: daily at DAILYPAPERS_OAI_HOUR_UTC, the OAI-PMH sets in DAILYPAPERS_OAI_SETS
  (records changed since two days before, so a missed day is caught up; re-ingesting is a no-op).
- ops.import_hf_daily: every three hours with DAILYPAPERS_HF_DAILY_IMPORT=1, Hugging Face's list of
  today and yesterday (it grows during the day).
New papers become searchable through the search app's periodic jobs (within a minute).
"""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from dailypapers.papers.services import ingest
from dailypapers.papers.sources import arxiv_oai, hf_daily
from dailypapers.queue import exclusive

from . import services
from .models import JobStat

logger = logging.getLogger(__name__)
INGEST_RETRIES = {"retries": 3, "retry_delay": 600, "retry_backoff": 2}  # 10, 20, 40 minutes


@db_periodic_task(crontab(hour=str(settings.OAI_HOUR_UTC), minute="0"), name="ops.harvest_arxiv_oai", **INGEST_RETRIES)
def harvest_arxiv_oai() -> str:
    if not settings.OAI_SETS:
        return "off (DAILYPAPERS_OAI_SETS is empty)"
    with exclusive("ingest-oai") as mine:
        if not mine:
            return "another harvest is running"
        since = timezone.now().date() - timedelta(days=2)
        lines = []
        for set_spec in settings.OAI_SETS:
            harvest = arxiv_oai.Harvest(from_date=since, until=None, set_spec=set_spec, metadata_prefix="arXivRaw")
            stats = ingest(source=harvest)
            lines.append(f"{set_spec}: {stats}")
        return "; ".join(lines)


@db_periodic_task(crontab(hour="*/3", minute="40"), name="ops.import_hf_daily", **INGEST_RETRIES)
def import_hf_daily() -> str:
    if not settings.HF_DAILY_IMPORT:
        return "off (DAILYPAPERS_HF_DAILY_IMPORT is not set)"
    with exclusive("ingest-hf") as mine:
        if not mine:
            return "another import is running"
        today = timezone.now().date()
        return str(ingest(source=hf_daily.fetch_days(first=today - timedelta(days=1), last=today)))


@db_task(name="ops.ping")
def ping(sent_at: float) -> str:
    """A job that does nothing: the queue's own delay from enqueue to run (bench/queue_latency.py)."""
    return f"{(time.time() - sent_at) * 1000:.2f} ms"


# --- the record of every job ---------------------------------------------------------------------
# Hooks of the queue itself, so every task of every app is counted the same way, in the worker.

@HUEY.pre_execute(name="ops.job_started")
def _started(task) -> None:
    try:
        services.job_started(task)
    except Exception:
        logger.exception("could not write down the start of %s (it is not re-run if its worker dies)", task.name)
    try:
        stat, _ = JobStat.objects.get_or_create(name=task.name)
        JobStat.objects.filter(pk=stat.pk).update(last_started_at=timezone.now())
    except Exception:
        logger.exception("could not record the start of %s", task.name)


@HUEY.post_execute(name="ops.job_finished")
def _finished(task, task_value, exc) -> None:
    try:
        services.job_ended(task)
    except Exception:
        logger.exception("could not strike out %s from the running jobs", task.name)
    now = timezone.now()
    try:
        if exc is None:
            result = "" if task_value is None else str(task_value)[:500]
            JobStat.objects.filter(name=task.name).update(runs=F("runs") + 1, last_ok_at=now, last_result=result)
        else:
            JobStat.objects.filter(name=task.name).update(
                runs=F("runs") + 1, failures=F("failures") + 1, last_error_at=now,
                last_error=f"{type(exc).__name__}: {exc}"[:500])
    except Exception:
        logger.exception("could not record the end of %s", task.name)
