"""Background jobs of the digests app (huey tasks, run by `dailypapers worker`)."""

import logging

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from dailypapers.queue import exclusive

from . import services

logger = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*/5"), name="digests.send_due", retries=3, retry_delay=60, retry_backoff=2)
def send_due() -> list[str]:
    """Send each closed day's (weekdays) and week's digest. Every five minutes, on any number of
    workers: one run at a time site-wide (the lock), and within a run send_digests' delivery
    claims make it exactly-once, so a run killed mid-way and run again sends nobody twice."""
    with exclusive("digests") as mine:
        if not mine:
            return []
        lines = []
        for period in services.closed_periods(now=timezone.now()):
            stats = services.send_digests(period=period)
            if stats.sent or stats.refused or stats.deferred:
                logger.info("digest %s: %s", period.key, stats)
            lines.append(f"digest {period.key}: {stats}")
        return lines
