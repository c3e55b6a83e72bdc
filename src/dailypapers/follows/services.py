"""Writes of follows: follow and unfollow an author, an organization or a saved search, the digest
flag, and the private feed token."""

import secrets
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from dailypapers.errors import Refused
from dailypapers.notifications.services import notify_followed_author_papers
from dailypapers.papers.models import Author, Organization, Paper

from .models import FeedToken, Follow
from .selectors import author_followers, saved_search

# Enough for anyone's reading; a bound so /follows (a section per follow) stays one page.
MAX_FOLLOWS = 200
# "New papers by followed authors": papers that reached this site in the last day and were
# published in the last week. The second bound keeps a bulk import of an old catalogue (ingest
# jsonl) from telling every follower about years of back papers at once.
NEW_PAPER_ARRIVED = timedelta(days=1)
NEW_PAPER_PUBLISHED = timedelta(days=7)


def _create(*, user, kind: str, lookup: dict, **extra) -> tuple[Follow, bool]:
    """(the follow of this target (`lookup`), whether it was made now): following twice is following."""
    found = Follow.objects.filter(user=user, kind=kind, **lookup).first()
    if found is not None:
        return found, False
    if Follow.objects.filter(user=user).count() >= MAX_FOLLOWS:
        raise Refused(f"You follow {MAX_FOLLOWS} things, the most allowed: unfollow one first.", status=409)
    try:
        with transaction.atomic():
            return Follow.objects.create(user=user, kind=kind, **lookup, **extra), True
    except IntegrityError:  # the same follow made at the same moment by another request
        return Follow.objects.get(user=user, kind=kind, **lookup), False


def follow_author(*, user, author: Author) -> tuple[Follow, bool]:
    return _create(user=user, kind=Follow.Kind.AUTHOR, lookup={"author": author})


def follow_organization(*, user, organization: Organization) -> tuple[Follow, bool]:
    return _create(user=user, kind=Follow.Kind.ORGANIZATION, lookup={"organization": organization})


def follow_search(*, user, query: str, filters: dict[str, str] | None = None) -> tuple[Follow, bool]:
    """Save a search: the query and the search page's filters (published_from, published_to,
    category, organization, author, listed), validated as the search page validates them.
    Each follow_* returns the follow and whether it was made now."""
    search = saved_search(query=query, filters=filters or {})
    return _create(user=user, kind=Follow.Kind.SEARCH, lookup={"search_key": search.key}, query=search.query,
                   filters=search.params)


def unfollow(*, user, follow: Follow) -> None:
    Follow.objects.filter(user=user, pk=follow.pk).delete()


def set_digest(*, user, follow: Follow, digest: bool) -> Follow:
    Follow.objects.filter(user=user, pk=follow.pk).update(digest=digest)
    follow.digest = digest
    return follow


def _new_token() -> str:
    return secrets.token_urlsafe(24)


def feed_token(*, user) -> str:
    """The user's feed token, made on first use."""
    row = FeedToken.objects.filter(user=user).first()
    if row is None:
        row, _ = FeedToken.objects.get_or_create(user=user, defaults={"token": _new_token(),
                                                                      "created_at": timezone.now()})
    return row.token


def rotate_feed_token(*, user) -> str:
    """A new token: every feed address given out before answers 404 from now on."""
    token = _new_token()
    FeedToken.objects.update_or_create(user=user, defaults={"token": token, "created_at": timezone.now()})
    return token


def notify_new_papers_of_followed_authors(*, now: datetime | None = None) -> int:
    """Tell followers of an author (by name or claim) of the new papers by that author. Run on a
    schedule (follows.tasks); notifications are made once per user and paper, so runs may overlap
    freely. Returns how many notifications were made."""
    now = now or timezone.now()
    new = list(Paper.objects.filter(created_at__gte=now - NEW_PAPER_ARRIVED,
                                    published_at__gte=now - NEW_PAPER_PUBLISHED).values_list("pk", flat=True))
    followers = author_followers(paper_ids=new)
    if not followers:
        return 0
    users = get_user_model().objects.in_bulk(list(followers))
    papers = Paper.objects.in_bulk({pk for ids in followers.values() for pk in ids})
    return notify_followed_author_papers(user_papers={
        users[user_id]: [papers[pk] for pk in sorted(ids)] for user_id, ids in followers.items() if user_id in users})
