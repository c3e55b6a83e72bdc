"""Background jobs of the community app (huey tasks, run by `dailypapers worker`)."""

import logging

from huey.contrib.djhuey import db_task

from . import services
from .models import PendingSubmission

logger = logging.getLogger(__name__)


@db_task(name="community.fetch_submission", retries=2, retry_delay=10, retry_backoff=3, context=True)
def fetch_submission(pending_id: int, task=None) -> str:
    """Fetch a submitted paper from arXiv and put it on the list. arXiv's own failures (down,
    timeouts, no such paper) are answered by the HTTP client's retries and end as a refusal the
    submitter reads; an unexpected error is retried by the queue (10 s, then 30 s), and the
    submission is marked failed when the last try fails too."""
    pending = PendingSubmission.objects.filter(pk=pending_id, status=PendingSubmission.Status.FETCHING).first()
    if pending is None:
        return "gone"  # done by an earlier try, or deleted
    try:
        pending = services.complete_submission(pending=pending)
    except Exception:
        if task is None or not task.retries:
            services.fail_submission(
                pending=pending, reason="Something went wrong while fetching it; please try again."
            )
        raise
    if pending.paper_id is not None:
        from dailypapers.search.tasks import after_new_papers

        after_new_papers()  # keyword-searchable in a moment, embedded soon after
    return pending.status
