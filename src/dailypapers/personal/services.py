"""Writes for For you: Not interested, impressions, keyword filters."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from dailypapers.papers.models import Paper

from .models import MAX_KEYWORDS_LENGTH, FeedFilters, Impression, NotInterested
from .selectors import parse_keywords

# Reloading the page (or paging back to it) within this gap is the same visit: it is not another
# impression, so a paper fades after FADE_AFTER_IMPRESSIONS real visits, not three refreshes.
IMPRESSION_GAP = timedelta(minutes=30)
MAX_KEYWORDS = 20


class BadFilters(ValueError):
    pass


def not_interested(*, user, paper: Paper) -> None:
    NotInterested.objects.get_or_create(user=user, paper=paper)


def undo_not_interested(*, user, paper: Paper) -> None:
    NotInterested.objects.filter(user=user, paper=paper).delete()


def record_impressions(*, user, paper_ids: list[int], now: datetime | None = None,
                       known: dict[int, tuple[int, datetime]] | None = None) -> int:
    """Count one impression per paper shown, unless it was shown within IMPRESSION_GAP. At most two
    queries: read the rows (unless `known` has them already: paper id -> (count, last shown) of every
    row there is among these papers, as selectors.for_you read them), then one upsert of those that
    count. Returns how many were counted."""
    if not paper_ids:
        return 0
    now = now or timezone.now()
    if known is None:
        shown = Impression.objects.filter(user=user, paper_id__in=paper_ids)
        known = {pk: (count, at) for pk, count, at in shown.values_list("paper_id", "count", "last_shown_at")}
    due = [Impression(user=user, paper_id=pk, count=known[pk][0] + 1 if pk in known else 1, last_shown_at=now)
           for pk in dict.fromkeys(paper_ids) if pk not in known or now - known[pk][1] >= IMPRESSION_GAP]
    if due:
        # Two renders at once may both add one: an impression more or less is harmless, no lock is taken.
        Impression.objects.bulk_create(due, update_conflicts=True, unique_fields=["user", "paper"],
                                       update_fields=["count", "last_shown_at"])
    return len(due)


def _clean(text: str, label: str) -> str:
    words = parse_keywords(text)
    if len(words) > MAX_KEYWORDS:
        raise BadFilters(f"At most {MAX_KEYWORDS} {label} keywords.")
    joined = ", ".join(words)
    if len(joined) > MAX_KEYWORDS_LENGTH:
        raise BadFilters(f"The {label} keywords are too long (at most {MAX_KEYWORDS_LENGTH} characters).")
    return joined


@transaction.atomic
def save_filters(*, user, include: str, exclude: str) -> FeedFilters:
    row, _ = FeedFilters.objects.get_or_create(user=user)
    row.include, row.exclude = _clean(include, "include"), _clean(exclude, "exclude")
    row.save(update_fields=["include", "exclude", "updated_at"])
    return row
