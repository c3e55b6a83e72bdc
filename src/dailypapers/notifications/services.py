"""Writes of the notifications app: making notifications, marking them read, preferences."""

from collections.abc import Iterable, Mapping, Sequence

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from dailypapers.community.models import Comment, PendingSubmission
from dailypapers.papers.models import Paper

from .models import Kind, Notification, NotificationPreference
from .selectors import channels


def _create(notifications: list[Notification]) -> int:
    """Save the notifications their users want (on the page or by mail, per their preferences);
    one made before (the constraints: once per comment, paper or submission) is skipped. Returns
    how many were wanted."""
    if not notifications:
        return 0
    wanted = channels(user_ids={n.user_id for n in notifications})
    kept = []
    for notification in notifications:
        on_site, by_email = wanted(notification.user_id, notification.kind)
        if on_site or by_email:
            notification.wants_email = by_email
            kept.append(notification)
    Notification.objects.bulk_create(kept, ignore_conflicts=True)
    return len(kept)


def notify_comment(*, comment: Comment, mentioned: Sequence, reply: bool = True) -> None:
    """The parent comment's author is told of the reply (`reply`), the mentioned users of the
    mention. Nobody is told of their own comment, and the parent's author once (the reply says it all)."""
    author_id = comment.author_id
    parent_author_id = comment.parent.author_id if comment.parent is not None else None
    made = []
    if reply and parent_author_id not in (None, author_id):
        made.append(Notification(user_id=parent_author_id, kind=Kind.REPLY, actor_id=author_id,
                                 paper_id=comment.paper_id, comment=comment))
    for user in mentioned:
        if user.pk not in (author_id, parent_author_id):
            made.append(Notification(user=user, kind=Kind.MENTION, actor_id=author_id,
                                     paper_id=comment.paper_id, comment=comment))
    _create(made)


def notify_submission(*, pending: PendingSubmission) -> None:
    """The submitter is told that the paper they submitted was fetched and listed, or why not."""
    _create([Notification(user_id=pending.user_id, kind=Kind.SUBMISSION, paper_id=pending.paper_id,
                          submission=pending)])


def notify_followed_author_papers(*, user_papers: Mapping[AbstractBaseUser, Sequence[Paper]]) -> int:
    """Tell each user (a key) of the new papers by authors they follow (the follows app says which).
    A user is told of a paper once, however many of its authors they follow and however often this
    is called with it. Returns how many notifications were made."""
    pairs = {(user.pk, paper.pk) for user, papers in user_papers.items() for paper in papers}
    if not pairs:
        return 0
    known = set(Notification.objects.filter(
        kind=Kind.FOLLOWED_AUTHOR_PAPER, user_id__in={u for u, _ in pairs}, paper_id__in={p for _, p in pairs},
    ).values_list("user_id", "paper_id"))
    return _create([Notification(user_id=u, kind=Kind.FOLLOWED_AUTHOR_PAPER, paper_id=p)
                    for u, p in sorted(pairs - known)])


def mark_read(*, user, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications read (these ones; None: all). Returns how many were unread."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=list(notification_ids))
    return unread.update(read_at=timezone.now())


def set_preferences(*, user, choices: Mapping[str, tuple[bool, bool]]) -> None:
    """Per kind, (on the page, by email). Turning email off also takes back the notifications of
    that kind still waiting for the next mail."""
    with transaction.atomic():
        for kind, (on_site, by_email) in choices.items():
            NotificationPreference.objects.update_or_create(
                user=user, kind=Kind(kind), defaults={"on_site": on_site, "by_email": by_email})
        off = [kind for kind, (_, by_email) in choices.items() if not by_email]
        if off:
            Notification.objects.filter(user=user, kind__in=off, mail__isnull=True).update(wants_email=False)


def stop_email(*, user, kinds: Iterable[str]) -> None:
    """No more mail of these kinds (an unsubscribe link); the page is as it was."""
    wanted = channels(user_ids={user.pk})
    set_preferences(user=user, choices={kind: (wanted(user.pk, kind)[0], False) for kind in kinds})

