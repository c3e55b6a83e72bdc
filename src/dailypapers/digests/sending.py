"""Sending each digest exactly once per subscription and period: claim, then send."""

import smtplib
from dataclasses import dataclass

from django.core.mail import get_connection
from django.db import transaction
from django.utils import timezone

from dailypapers.papers.models import Paper
from dailypapers.papers.periods import Period

from .emails import build_message, digest_items
from .models import DigestDelivery, Subscription
from .selection import FREQUENCIES, digest_papers, follow_sections, period_papers


@dataclass
class SendStats:
    sent: int = 0
    already: int = 0
    empty: int = 0
    refused: int = 0
    deferred: int = 0

    def __str__(self) -> str:
        return (f"{self.sent} sent / {self.already} already sent / {self.empty} with nothing to send / "
                f"{self.refused} refused (marked inactive) / {self.deferred} deferred")


def send_digests(*, period: Period, on_progress=None) -> SendStats:
    """Send the period's digest to every active subscription of its frequency, once.

    A delivery row is claimed (committed) before the mail server is contacted and marked
    sent right after it accepts. A run that dies is simply run again: sent rows are
    skipped, claimed-but-unsent rows are retried. The one gap left is a death in the
    instant between the server's acceptance and our commit; that subscriber would get
    the digest twice, with the same Message-ID.
    """
    stats = SendStats()
    papers = period_papers(period)
    items = digest_items(papers)
    topics: dict[str, list[Paper]] = {}  # one search per topic, not per subscriber
    subscriptions = Subscription.objects.filter(
        frequency=FREQUENCIES[period.kind], confirmed_at__isnull=False, unsubscribed_at__isnull=True, inactive_reason=""
    ).order_by("pk")
    done = set(DigestDelivery.objects.filter(period=period.key).exclude(status=DigestDelivery.Status.SENDING)
               .values_list("subscription_id", flat=True))
    with get_connection() as connection:
        for subscription in subscriptions.iterator(chunk_size=500):
            if on_progress:
                on_progress(1)
            if subscription.pk in done:
                stats.already += 1
                continue
            chosen = digest_papers(subscription=subscription, papers=papers, topics=topics)
            followed = follow_sections(subscription=subscription, papers=papers)
            if not chosen and not followed:
                stats.empty += 1
                continue
            delivery, _ = DigestDelivery.objects.get_or_create(subscription=subscription, period=period.key)
            if delivery.status != DigestDelivery.Status.SENDING:
                stats.already += 1
                continue
            message = build_message(subscription=subscription, period=period, items=[items[p.pk] for p in chosen],
                                    followed=[{"label": s.follow.label, "kind": s.follow.get_kind_display(),
                                               "items": [items[p.pk] for p in s.papers]} for s in followed],
                                    connection=connection)
            try:
                message.send()
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as exc:
                code = _smtp_code(exc)
                if code >= 500:
                    _refused(subscription, delivery, f"{code} {exc}")
                    stats.refused += 1
                else:
                    stats.deferred += 1  # 4xx: the row stays claimed; the next run retries it
                continue
            delivery.status, delivery.sent_at, delivery.papers = DigestDelivery.Status.SENT, timezone.now(), len(chosen)
            delivery.save(update_fields=["status", "sent_at", "papers"])
            stats.sent += 1
    return stats


def _smtp_code(exc: smtplib.SMTPRecipientsRefused | smtplib.SMTPResponseException) -> int:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return min(code for code, _ in exc.recipients.values())
    return exc.smtp_code


def _refused(subscription: Subscription, delivery: DigestDelivery, reason: str) -> None:
    with transaction.atomic():
        delivery.status, delivery.error = DigestDelivery.Status.FAILED, reason[:500]
        delivery.save(update_fields=["status", "error"])
        subscription.inactive_reason = f"The mail server refused the address: {reason}"[:300]
        subscription.save(update_fields=["inactive_reason"])
