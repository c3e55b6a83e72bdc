"""Background jobs of the follows app (huey tasks, run by `dailypapers worker`)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import services


@db_periodic_task(crontab(minute="*/15"), name="follows.notify_new_papers", retries=3, retry_delay=60, retry_backoff=2)
def notify_new_papers() -> int:
    """Every 15 minutes: followers are told of their authors' new papers (at most once each, so no lock)."""
    return services.notify_new_papers_of_followed_authors()
