"""Sending each digest exactly once per subscription and period: claim, then send."""

from collections.abc import Iterator
from dataclasses import dataclass

from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from dailypapers.mail import MailStats, send_claimed
from dailypapers.papers.models import Paper
from dailypapers.papers.periods import Period

from .emails import build_message, digest_items
from .models import DigestDelivery, Subscription
from .selection import FREQUENCIES, digest_papers, follow_sections, period_papers


@dataclass
class SendStats(MailStats):
    already: int = 0
    empty: int = 0

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
    send_claimed(claimed=_claimed(period=period, stats=stats, on_progress=on_progress),
                 mark_sent=_sent, mark_refused=_refused, stats=stats)
    return stats


def _claimed(*, period: Period, stats: SendStats, on_progress) -> Iterator[tuple[DigestDelivery, EmailMessage]]:
    """Each subscription's delivery, claimed only when it is its turn to be sent (a run killed
    mid-way leaves no claims on digests it never reached), with its digest."""
    papers = period_papers(period)
    items = digest_items(papers)
    topics: dict[str, list[Paper]] = {}  # one search per topic, not per subscriber
    subscriptions = Subscription.objects.filter(
        frequency=FREQUENCIES[period.kind], confirmed_at__isnull=False, unsubscribed_at__isnull=True, inactive_reason=""
    ).order_by("pk")
    done = set(DigestDelivery.objects.filter(period=period.key).exclude(status=DigestDelivery.Status.SENDING)
               .values_list("subscription_id", flat=True))
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
        delivery.papers = len(chosen)  # saved with the sent mark
        yield delivery, build_message(
            subscription=subscription, period=period, items=[items[p.pk] for p in chosen],
            followed=[{"label": s.follow.label, "kind": s.follow.get_kind_display(),
                       "items": [items[p.pk] for p in s.papers]} for s in followed],
        )


def _sent(delivery: DigestDelivery) -> None:
    delivery.status, delivery.sent_at = DigestDelivery.Status.SENT, timezone.now()
    delivery.save(update_fields=["status", "sent_at", "papers"])


def _refused(delivery: DigestDelivery, reason: str) -> None:
    with transaction.atomic():
        delivery.status, delivery.error = DigestDelivery.Status.FAILED, reason[:500]
        delivery.save(update_fields=["status", "error"])
        subscription = delivery.subscription
        subscription.inactive_reason = f"The mail server refused the address: {reason}"[:300]
        subscription.save(update_fields=["inactive_reason"])
