"""Background jobs of the papers app (huey tasks, run by `dailypapers worker`).

- summarize_new_papers: every minute, only with DAILYPAPERS_LLM_URL, one-line summaries from the
  configured language model for papers Hugging Face gave none (papers.summaries): at most
  DAILYPAPERS_LLM_PAPERS_PER_RUN papers and 50 seconds of asking a run, one run at a time site-wide.
  Each summary and its cache row are written together, so a run killed mid-way leaves whole
  summaries only; the next run goes on.
"""

import logging

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from dailypapers.queue import exclusive

from . import summaries

logger = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*"), name="papers.summarize_new_papers")
def summarize_new_papers() -> str:
    endpoint = summaries.Endpoint.configured()
    if endpoint is None:
        return "off (DAILYPAPERS_LLM_URL is not set)"
    with exclusive("llm-summaries") as mine:
        if not mine:
            return "another run is at it"
        run = summaries.summarize_pending(endpoint=endpoint, limit=settings.LLM_PAPERS_PER_RUN)
    if run.written or run.from_cache or run.refused or run.stopped:
        logger.info("summaries: %s", run)
    return str(run)
