"""Writes of follows: follow and unfollow an author, an organization or a saved search, the digest
flag, and the private feed token."""

import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone

from dailypapers.errors import Refused
from dailypapers.papers.models import Author, Organization

from .models import FeedToken, Follow
from .selectors import saved_search

# Enough for anyone's reading; a bound so /follows (a section per follow) stays one page.
MAX_FOLLOWS = 200


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
