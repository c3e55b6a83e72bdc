"""The task queue (huey) and the one lock every background job uses.

The queue itself is configured in settings.HUEY (DAILYPAPERS_QUEUE_URL): a SQLite file in the
data directory by default, Redis when several machines share it. Tasks live in each app's
tasks.py (search, digests, notifications, follows, community, ops); `dailypapers worker` (and `serve`'s supervised
worker) runs the consumer that executes them.

Why not huey's own lock_task for mutual exclusion: a worker killed with SIGKILL leaves a huey lock
set for good (TTLs need Redis 7.4 and are not supported by the SQLite storage), so the next run
would never start. `exclusive` uses locks the operating system or the database drop when the
holder dies: a PostgreSQL session advisory lock (cluster-wide: every worker on every machine),
or, with SQLite (one machine by definition), a file lock in the data directory.
"""

import fcntl
import logging
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)


def huey():
    """The site's Huey instance (imported late: djhuey reads settings.HUEY on import)."""
    from huey.contrib.djhuey import HUEY

    return HUEY


@contextmanager
def exclusive(name: str, *, machine: bool = False) -> Iterator[bool]:
    """Yield True when this process now holds the lock `name`, False when another holder has it
    (then do nothing: the holder is doing the work). Never waits. `machine`: a lock for this
    machine's data directory only (its own index files), whatever the database."""
    if connection.vendor == "postgresql" and not machine:
        key = zlib.crc32(f"dailypapers:{name}".encode()) - 2**31  # a signed 32-bit advisory lock key
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            held = cursor.fetchone()[0]
        try:
            yield held
        finally:
            if held:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        return
    folder = settings.DATA_DIR / "locks"
    folder.mkdir(mode=0o700, exist_ok=True)
    with open(folder / f"{name}.lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def queue_counts() -> dict[str, int]:
    """Tasks waiting to run now and tasks scheduled for later (retries with their delay)."""
    queue = huey()
    return {"pending": queue.pending_count(), "scheduled": queue.scheduled_count()}
