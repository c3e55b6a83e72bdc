"""Background jobs of the notifications app (huey tasks, run by `dailypapers worker`)."""

import logging

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from dailypapers.queue import exclusive

from .sending import send_notification_mails

logger = logging.getLogger(__name__)


@db_periodic_task(crontab(minute=f"*/{settings.NOTIFICATION_MAIL_MINUTES}"), name="notifications.send_mails",
                  retries=3, retry_delay=60, retry_backoff=2)
def send_mails() -> str:
    """Mail the notifications waiting, every NOTIFICATION_MAIL_MINUTES. The lock keeps the workers
    from doing the same work at once; the claims in send_notification_mails are what make it
    exactly-once, lock or not."""
    with exclusive("notifications") as mine:
        if not mine:
            return ""
        stats = send_notification_mails()
        if stats.sent or stats.refused or stats.deferred:
            logger.info("notification mails: %s", stats)
        return str(stats)
