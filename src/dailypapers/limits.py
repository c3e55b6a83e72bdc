"""Limits on what people send, one name each, read by the models, forms, API schemas and templates
(through the `limits` context processor), so a limit cannot differ between the page and the API.
Also the one reading of the "count/period" rate strings of the RATE_* and API_ANON_RATE settings."""

MAX_COMMENT_LENGTH = 10_000  # a comment, a reply, the comment that comes with a submission
MAX_REPORT_REASON_LENGTH = 500
MAX_ARXIV_ID_INPUT_LENGTH = 300  # what a person may paste as an arXiv id or URL
MAX_AUTHOR_NAME_LENGTH = 300  # an author filter
MAX_CATEGORY_LENGTH = 32
MAX_SLUG_LENGTH = 100  # an organization's slug
MAX_USERNAME_LENGTH = 150  # Django's own limit, also for ?submitter=
MAX_TOPIC_LENGTH = 250  # a digest's topic
MAX_QUERY_LENGTH = 250  # a search query (longer ones are trimmed on the page, refused by the APIs)
MAX_MIN_UPVOTES = 10_000  # a digest's minimum upvotes
MAX_MENTIONS = 10  # @names linked and notified in one comment (the first ones): no mass pinging

_PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def window_seconds(rate: str) -> int:
    """The window of a django-ratelimit rate: "5/m" -> 60, "3/5m" -> 300, "100/h" -> 3600 (an unknown
    unit counts as minutes, as the 429 pages always said)."""
    period = rate.split("/")[-1] or "m"
    return int(period[:-1] or 1) * _PERIOD_SECONDS.get(period[-1], 60)


def context(request) -> dict:
    """Template context processor: {{ limits.MAX_COMMENT_LENGTH }} for maxlength attributes."""
    return {"limits": {name: value for name, value in globals().items() if name.startswith("MAX_")}}
