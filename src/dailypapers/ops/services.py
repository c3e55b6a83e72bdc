"""The ledger of running jobs: a job killed mid-way (kill -9, a lost machine) is run again.

Huey takes a job off the queue when a worker starts it and has no acknowledgement, so a worker that
dies mid-job loses the job. Here every job a worker starts is written down (RunningJob, by a
pre-execute hook of the queue, ops.tasks) and struck out when it ends, whatever the outcome (huey
itself schedules the retries of a job that raised). Each worker process beats every BEAT_SECONDS
(WorkerBeat) and, on the same thread, puts back on the queue the jobs of workers that are gone: on
this machine, a job whose executing process has exited (found within one beat); on another, a job
whose worker's beat is older than LEASE_SECONDS (a lost machine; a database outage longer than that
may put back a job that is still running: every job is safe to run twice at once, see below). A job
is put back once: the row is deleted first, and only the deleter enqueues. Every job is built to be
run twice (search.tasks, digests.sending: claims, one row per paper, delivery rows), so the one that
died is simply redone.
"""

import logging
import os
import threading
from datetime import timedelta

from django.db import close_old_connections, connection
from django.utils import timezone

from dailypapers.queue import huey

from .models import RunningJob, WorkerBeat
from .selectors import HOST, live_workers, worker_gone

logger = logging.getLogger(__name__)

BEAT_SECONDS = 5.0

_worker: str | None = None  # this process's worker, set by `dailypapers worker` (inherited by its children)


def current_worker() -> str | None:
    return _worker


def job_started(task) -> None:
    """pre_execute: the job is written down before it runs (only inside a worker: not in immediate mode)."""
    if _worker is None:
        return
    RunningJob.objects.update_or_create(
        task_id=task.id,
        defaults={"name": task.name, "message": huey().serialize_task(task), "worker": _worker, "host": HOST,
                  "pid": os.getpid(), "started_at": timezone.now()},
    )


def job_ended(task) -> None:
    """post_execute: done, or failed (then huey schedules its retry, a new start)."""
    if _worker is not None:
        RunningJob.objects.filter(task_id=task.id).delete()


def requeue_abandoned() -> list[str]:
    """Put back on the queue every job whose worker is gone; returns their names."""
    now = timezone.now()
    live = live_workers(now=now)
    requeued = []
    for job in RunningJob.objects.all():
        if not worker_gone(job, live=live) or not RunningJob.objects.filter(pk=job.pk).delete()[0]:
            continue  # still running, or another worker put it back first
        huey().enqueue(huey().deserialize_task(bytes(job.message)))
        logger.warning("job %s (%s) was running on %s, which is gone: put back on the queue",
                       job.name, job.task_id, job.worker)
        requeued.append(job.name)
    WorkerBeat.objects.filter(beat_at__lt=now - timedelta(days=1)).delete()
    return requeued


def beat() -> None:
    WorkerBeat.objects.update_or_create(worker=_worker, defaults={"beat_at": timezone.now()})


def start_heartbeat() -> threading.Event:
    """This process is a worker from now on: beat, and put back abandoned jobs, now and every
    BEAT_SECONDS on a thread of its own; set the returned event to stop (the beat row is removed)."""
    global _worker
    _worker = f"{HOST}:{os.getpid()}"
    stop = threading.Event()

    def run() -> None:
        while True:
            try:
                beat()
                requeue_abandoned()
            except Exception:
                logger.warning("worker heartbeat failed", exc_info=True)
            finally:
                close_old_connections()
                connection.close()  # a connection of its own per beat: one dead with a restart is not reused
            if stop.wait(BEAT_SECONDS):
                break
        try:
            WorkerBeat.objects.filter(worker=_worker).delete()
        except Exception:
            logger.warning("could not remove the worker's heartbeat", exc_info=True)
        finally:
            connection.close()

    threading.Thread(target=run, name="worker-heartbeat", daemon=True).start()
    return stop
