"""Which papers a digest holds: the periods that have closed, the period's papers, and each
subscription's choice of them — its topic and its owner's taste through the search selectors
(never the indexes themselves) — and, for a subscription tied to an account, the "From what you
follow" sections of the follows its owner put in the digest."""

from datetime import datetime, timedelta

from django.conf import settings

from dailypapers.community.services import feed_day
from dailypapers.errors import Refused
from dailypapers.follows.selectors import Section, digest_sections
from dailypapers.papers import selectors as paper_selectors
from dailypapers.papers.models import Paper
from dailypapers.papers.periods import Period
from dailypapers.personal.selectors import rank_papers
from dailypapers.search.selectors import papers_on_topic

from .models import Subscription

TOPIC_MIN_SIMILARITY = 0.35  # a topic's semantic match; keyword matches always count
FREQUENCIES = {"day": Subscription.Frequency.DAILY, "week": Subscription.Frequency.WEEKLY}


def digest_period(key: str) -> Period:
    """A period digests are sent for, from its key (day:YYYY-MM-DD or week:YYYY-Www)."""
    period = Period.from_key(key)
    if period.kind not in FREQUENCIES:
        raise Refused(f"not a period: {key!r} (digests are sent for day:YYYY-MM-DD or week:YYYY-Www)")
    return period


def closed_periods(*, now: datetime) -> list[Period]:
    """The newest daily list that has closed (weekdays only) and the newest closed week."""
    today = feed_day(now)
    day = today - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return [Period("day", day), Period.containing("week", today).previous]


def period_papers(period: Period) -> list[Paper]:
    return [card.paper for card in paper_selectors.papers_of_period(period=period)]


def digest_papers(*, subscription: Subscription, papers: list[Paper], topics: dict | None = None) -> list[Paper]:
    """The period's papers for this subscription, best first, at most DIGEST_MAX_PAPERS.
    `topics` memoises the papers on each topic across the subscriptions of one run."""
    if subscription.topic:
        topics = {} if topics is None else topics
        if subscription.topic not in topics:
            topics[subscription.topic] = papers_on_topic(topic=subscription.topic, papers=papers,
                                                         min_similarity=TOPIC_MIN_SIMILARITY)
        papers = topics[subscription.topic]
    papers = [p for p in papers if p.upvotes >= subscription.min_upvotes]
    if subscription.personal and subscription.user_id and papers:
        # The For you ranking (upvotes, saves, Not interested); no signal yet: the period's top papers.
        papers = rank_papers(user=subscription.user, papers=papers)
    return papers[:settings.DIGEST_MAX_PAPERS]


def follow_sections(*, subscription: Subscription, papers: list[Paper]) -> list[Section]:
    """The period's papers of each follow its owner put in the digest (a saved search matches as a topic does)."""
    if not subscription.user_id or not papers:
        return []
    return digest_sections(user=subscription.user, papers=papers, min_similarity=TOPIC_MIN_SIMILARITY)
