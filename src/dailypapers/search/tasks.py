"""Background jobs of the search app (huey tasks, run by `dailypapers worker`).

- embed_new_papers: vectors for papers that lack one, in claimed batches. On PostgreSQL each
  batch is claimed with SELECT ... FOR UPDATE SKIP LOCKED, so any number of workers split the
  work and never embed the same paper at once; a worker killed mid-batch rolls its claim back
  and the papers are claimed again. On SQLite (one machine) one embedding run at a time.
  Vectors are keyed by paper: a batch done twice overwrites, it never duplicates.
- extract_keywords: keywords for embedded papers Hugging Face gave none (search.keywords), claimed
  in batches as the embedding is; stored with the text hash they came from, so a batch done twice
  writes the same keywords. Enqueued after every embedding run that embedded something.
- update_indexes: this machine's keyword index and vector index catch up with the database.
- maintain_indexes: nightly rebuild of both indexes from the database (merges the keyword
  index's many small segments, drops superseded vectors); nothing is recomputed.
"""

import logging

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from dailypapers.queue import exclusive

from . import services
from .embedders import get_embedder
from .models import IndexState

logger = logging.getLogger(__name__)

RETRIES = {"retries": 3, "retry_delay": 30, "retry_backoff": 2}  # 30 s, 60 s, 120 s


def _claimed(pending, *, columns: tuple[str, ...], batch_size: int, work, limit: int | None = None) -> int:
    """Run `work(rows)` on the pending papers batch by batch, each batch claimed first and worked on
    inside its claim; returns the sum of what `work` returned. `limit` stops after about that many."""
    done, after = 0, 0
    pending = pending.order_by("pk")
    while limit is None or done < limit:
        with transaction.atomic():
            # The claim: rows locked by another worker's open batch are skipped, not waited for.
            # (SQLite has no row locks; Django leaves the clause out there, and `exclusive` in the
            # tasks keeps to one run at a time.)
            rows = list(
                pending.filter(pk__gt=after).select_for_update(skip_locked=True, of=("self",))
                .values_list(*columns)[:batch_size]
            )
            if not rows:
                break
            done += work(rows)
        after = rows[-1][0]
    return done


def embed_claimed(*, batch_size: int | None = None, threads: int | None = None, limit: int | None = None) -> int:
    """Embed pending papers batch by batch, each batch claimed first; returns the papers embedded.
    `limit` stops after about that many (the benchmark's bounded runs)."""
    embedder = get_embedder(threads=threads or settings.EMBED_THREADS)
    started = timezone.now()
    done = _claimed(
        services.papers_needing_vectors(model_id=embedder.model_id), columns=("pk", "title", "abstract"),
        batch_size=batch_size or settings.EMBED_BATCH_SIZE, limit=limit,
        work=lambda rows: services.embed_batch(rows=rows, embedder=embedder),
    )
    if limit is None:
        IndexState.objects.update_or_create(name="vectors", defaults={"indexed_until": started})
    return done


def extract_keywords_claimed(*, batch_size: int | None = None, limit: int | None = None) -> int:
    """Keywords for papers that have a vector and lack keywords (search.keywords), in claimed batches
    like the embedding's; returns the papers done."""
    embedder = get_embedder(threads=settings.EMBED_THREADS)
    return _claimed(
        services.papers_needing_keywords(model_id=embedder.model_id), columns=services.KEYWORD_COLUMNS,
        batch_size=batch_size or settings.EMBED_BATCH_SIZE, limit=limit,
        work=lambda rows: services.extract_keywords_batch(rows=rows, embedder=embedder),
    )


def _one_run_at_a_time(name: str, job) -> int:
    """PostgreSQL: any number of runs, which split the work by their claims; SQLite: one at a time."""
    if connection.vendor == "postgresql":
        return job()
    with exclusive(name) as mine:
        return job() if mine else 0  # another run on this machine is at it


@db_periodic_task(crontab(minute="*"), name="search.embed_new_papers", **RETRIES)
def embed_new_papers() -> int:
    embedded = _one_run_at_a_time("embed", embed_claimed)
    if embedded:
        logger.info("embedded %d papers", embedded)
        extract_new_keywords()  # their keywords next, without waiting for the minute's run
    return embedded


@db_periodic_task(crontab(minute="*"), name="search.extract_keywords", **RETRIES)
def extract_new_keywords() -> int:
    """Keywords for embedded papers Hugging Face gave none (after each embedding run, and every
    minute for whatever is left)."""
    done = _one_run_at_a_time("keywords", extract_keywords_claimed)
    if done:
        logger.info("extracted keywords of %d papers", done)
    return done


@db_periodic_task(crontab(minute="*"), name="search.update_indexes", **RETRIES)
def update_indexes() -> int:
    """Keyword index for papers changed since the last run; stored vectors the vector index lacks.
    Both are files in this machine's data directory (the local search backend)."""
    with exclusive("search-index", machine=True) as mine:
        if not mine:
            return 0
        embedder = get_embedder()
        count = services.index_keywords()
        count += services.sync_vector_index(model_id=embedder.model_id, dim=embedder.dim)
    return count


@db_periodic_task(crontab(hour="3", minute="17"), name="search.maintain_indexes", **RETRIES)
def maintain_indexes() -> int:
    with exclusive("search-index", machine=True) as mine:
        if not mine:
            return 0
        count = services.index_keywords(rebuild=True)
        services.rebuild_vector_index()
    logger.info("search indexes rebuilt: %d papers", count)
    return count


@db_task(name="search.after_new_papers", **RETRIES)
def after_new_papers() -> None:
    """Enqueued after papers arrive (a submitted paper's fetch): searchable by keyword at once,
    then embedded, without waiting for the minute's periodic run."""
    update_indexes.call_local()
    embed_new_papers.call_local()
    update_indexes.call_local()

