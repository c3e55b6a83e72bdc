"""Reads of the notifications app."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.urls import reverse

from dailypapers.community.models import PendingSubmission

from .models import BY_EMAIL_DEFAULT, Kind, Notification, NotificationPreference


def channels(*, user_ids: Iterable[int]) -> Callable[[int, str], tuple[bool, bool]]:
    """(on the page, by email) for a user and a kind: their preference, else the kind's default.
    One query for all the users."""
    chosen = {(p.user_id, p.kind): (p.on_site, p.by_email)
              for p in NotificationPreference.objects.filter(user_id__in=set(user_ids))}

    def wanted(user_id: int, kind: str) -> tuple[bool, bool]:
        return chosen.get((user_id, kind), (True, BY_EMAIL_DEFAULT[Kind(kind)]))

    return wanted


def _shown(queryset: QuerySet) -> QuerySet:
    """What a notification may still show: not of a comment deleted or hidden since."""
    return queryset.filter(Q(comment__isnull=True) | Q(comment__deleted_at__isnull=True,
                                                       comment__hidden_at__isnull=True))


def visible(*, user) -> QuerySet:
    """The user's notifications on the page: newest first, none of a kind they turned off there
    (a subquery: still one query), none of a removed comment."""
    off = NotificationPreference.objects.filter(user=user, on_site=False).values("kind")
    return _shown(Notification.objects.filter(user=user).exclude(kind__in=off))


def unread_count(*, user) -> int:
    """The header's badge: one query."""
    if not user.is_authenticated:
        return 0
    return visible(user=user).filter(read_at__isnull=True).count()


def page_items(queryset: QuerySet) -> QuerySet:
    return queryset.select_related("actor", "paper", "comment", "submission")


def mailable(*, since) -> QuerySet:
    """Notifications waiting for a mail: wanted by email, claimed by no mail yet, made after `since`
    (older ones stay on the page only: a mail days late is noise), of no removed comment."""
    return _shown(Notification.objects.filter(wants_email=True, mail__isnull=True, emailed_at__isnull=True,
                                              created_at__gte=since))


@dataclass(frozen=True)
class Preference:
    kind: str
    label: str
    on_site: bool
    by_email: bool


def preferences(*, user) -> list[Preference]:
    wanted = channels(user_ids=[user.pk])
    return [Preference(kind.value, kind.label, *wanted(user.pk, kind.value)) for kind in Kind]


@dataclass(frozen=True)
class Shown:
    """What a notification says, wherever it is shown (the page, a mail, the API)."""

    text: str
    url: str  # on this site, from its root
    excerpt: str  # the comment's first words, or ""


EXCERPT_LENGTH = 160


def shown(notification: Notification) -> Shown:
    n = notification
    who = n.actor.username if n.actor else "Someone"
    title = f"“{n.paper.title}”" if n.paper else ""
    excerpt = ""
    if n.comment is not None:
        body = " ".join(n.comment.body.split())
        excerpt = body if len(body) <= EXCERPT_LENGTH else body[:EXCERPT_LENGTH - 1] + "…"
        url = f"{n.paper.get_absolute_url()}#comment-{n.comment_id}" if n.paper else ""
        verb = "replied to your comment on" if n.kind == Kind.REPLY else "mentioned you on"
        return Shown(f"{who} {verb} {title}", url, excerpt)
    if n.kind == Kind.SUBMISSION and n.submission is not None:
        url = reverse("community:submission", args=[n.submission_id])
        if n.submission.status == PendingSubmission.Status.DONE:
            return Shown(f"Your submission {n.submission.arxiv_id} was fetched and is on the list: {title}", url, "")
        return Shown(f"Your submission {n.submission.arxiv_id} was refused: {n.submission.error}", url, "")
    return Shown(f"New paper by an author you follow: {title}", n.paper.get_absolute_url() if n.paper else "", "")
