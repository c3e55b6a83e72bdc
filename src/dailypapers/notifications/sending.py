"""Mailing notifications, batched: one mail per user with everything new since their last one,
each notification in exactly one mail.

A run first claims: per user, a NotificationMail row is created and the user's waiting
notifications are given to it by one conditional UPDATE (`mail IS NULL`, by primary key, no
join: the database re-checks the condition on a row another sender claimed meanwhile), in one
transaction, before the mail server is contacted. Of two senders at once each notification is
claimed by one; a mail that claimed nothing is dropped. Then each claimed mail is sent and marked
sent. A mail left claimed but unsent (the run died, or the server said 4xx: try later) is taken
over by a later run once it is STALE_AFTER old, by a compare-and-set on its claim time, so two
runs never both take it. The one gap left is a death between the server's acceptance and our
commit: that mail is sent twice, with the same Message-ID."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from django.db import transaction
from django.utils import timezone

from dailypapers.mail import MailStats, send_claimed

from .emails import build_message
from .models import Notification, NotificationMail
from .selectors import mailable, page_items

# Older unsent notifications stay on the page only: a mail days late (the worker was down, the
# address not verified yet) is noise.
MAIL_MAX_AGE = timedelta(days=3)
# A mail claimed this long ago and still not sent is taken over: its sender died, or it was deferred.
STALE_AFTER = timedelta(minutes=10)


@dataclass
class SendStats(MailStats):
    no_address: int = 0

    def __str__(self) -> str:
        return (f"{self.sent} sent / {self.refused} refused / {self.deferred} deferred / "
                f"{self.no_address} users without a verified address")


def _addresses(user_ids: list[int]) -> dict[int, str]:
    """Each user's verified address, the primary one first."""
    found: dict[int, str] = {}
    for user_id, email in (EmailAddress.objects.filter(user_id__in=user_ids, verified=True)
                           .order_by("-primary", "pk").values_list("user_id", "email")):
        found.setdefault(user_id, email)
    return found


def _claim(*, now: datetime, stats: SendStats) -> list[NotificationMail]:
    waiting: dict[int, list[int]] = {}
    for pk, user_id in mailable(since=now - MAIL_MAX_AGE).order_by("pk").values_list("pk", "user_id"):
        waiting.setdefault(user_id, []).append(pk)
    addresses = _addresses(list(waiting))
    claimed = []
    for user_id, ids in waiting.items():
        if user_id not in addresses:
            stats.no_address += 1
            continue
        with transaction.atomic():
            mail = NotificationMail.objects.create(user_id=user_id, to=addresses[user_id], claimed_at=now)
            if Notification.objects.filter(pk__in=ids, mail__isnull=True).update(mail=mail):
                claimed.append(mail)
            else:
                mail.delete()  # another sender claimed them all first
    return claimed


def _take_over_stale(*, now: datetime) -> list[NotificationMail]:
    taken = []
    for mail in NotificationMail.objects.filter(status=NotificationMail.Status.SENDING,
                                                claimed_at__lt=now - STALE_AFTER):
        if NotificationMail.objects.filter(pk=mail.pk, status=NotificationMail.Status.SENDING,
                                           claimed_at=mail.claimed_at).update(claimed_at=now):
            mail.claimed_at = now
            taken.append(mail)
    return taken


def send_notification_mails(*, now: datetime | None = None) -> SendStats:
    """Mail every user what waits for them, once. Safe to run anywhere, any number at once."""
    now = now or timezone.now()
    stats = SendStats()
    mails = _take_over_stale(now=now) + _claim(now=now, stats=stats)
    if not mails:
        return stats  # no mail server contacted
    claimed = ((mail, build_message(mail=mail, notifications=list(page_items(Notification.objects.filter(mail=mail)))))
               for mail in mails)  # each mail's message built when its turn comes
    send_claimed(claimed=claimed, mark_sent=_sent, mark_refused=_refused, stats=stats)
    return stats


def _sent(mail: NotificationMail) -> None:
    sent_at = timezone.now()
    with transaction.atomic():
        mail.status, mail.sent_at = NotificationMail.Status.SENT, sent_at
        mail.save(update_fields=["status", "sent_at"])
        Notification.objects.filter(mail=mail).update(emailed_at=sent_at)


def _refused(mail: NotificationMail, reason: str) -> None:
    # A 4xx leaves the mail claimed instead: a run after STALE_AFTER takes it over and sends it.
    mail.status, mail.error = NotificationMail.Status.FAILED, reason[:500]
    mail.save(update_fields=["status", "error"])
