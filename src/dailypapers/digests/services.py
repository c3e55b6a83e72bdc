"""Email digests: subscribing (double opt-in), choosing each digest's papers, and sending
each one exactly once per subscription and period."""

import hashlib
import logging
import smtplib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives, get_connection, send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from dailypapers.community.services import feed_day
from dailypapers.papers import selectors as paper_selectors
from dailypapers.papers.models import Authorship, Paper
from dailypapers.personal.selectors import rank_papers
from dailypapers.search.selectors import embed_query, keyword_matches, similarities

from .models import DigestDelivery, Subscription

logger = logging.getLogger(__name__)

# "digests.subscribe" links carry the requested settings (the older "digests.confirm" ones, a
# pending row's id, are no longer accepted: their owners subscribe again).
SUBSCRIBE_SALT, UNSUBSCRIBE_SALT = "digests.subscribe", "digests.unsubscribe"
_REQUESTED_FIELDS = {"email", "frequency", "topic", "min_upvotes"}
CONFIRM_MAX_AGE = 7 * 24 * 3600
TOPIC_MIN_SIMILARITY = 0.35  # a topic's semantic match; keyword matches always count


# --- periods -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    kind: str  # "day" or "week"
    start: date

    @property
    def key(self) -> str:
        if self.kind == "day":
            return f"day:{self.start.isoformat()}"
        year, week, _ = self.start.isocalendar()
        return f"week:{year}-W{week:02d}"

    @property
    def frequency(self) -> str:
        return Subscription.Frequency.DAILY if self.kind == "day" else Subscription.Frequency.WEEKLY

    @property
    def label(self) -> str:
        if self.kind == "day":
            return self.start.strftime("%b %-d, %Y")
        return f"week {self.key.split('-W')[1]} ({self.start:%b %-d} – {self.start + timedelta(days=6):%b %-d})"

    @classmethod
    def parse(cls, text: str) -> "Period":
        """'day:2026-03-16' or 'week:2026-W12'; ValueError with the reason otherwise."""
        kind, _, value = text.partition(":")
        try:
            if kind == "day":
                return cls("day", date.fromisoformat(value))
            if kind == "week":
                year, week = value.split("-W")
                return cls("week", date.fromisocalendar(int(year), int(week), 1))
        except ValueError:
            pass
        raise ValueError(f"not a period: {text!r} (use day:YYYY-MM-DD or week:YYYY-Www)")


def closed_periods(*, now: datetime) -> list[Period]:
    """The newest daily list that has closed (weekdays only) and the newest closed week."""
    today = feed_day(now)
    day = today - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    last_monday = today - timedelta(days=today.weekday() + 7)
    return [Period("day", day), Period("week", last_monday)]


# --- subscribing ---------------------------------------------------------------------------------
#
# Nothing an anonymous request says changes a subscription. A subscribe request mails a signed
# link to the address; the settings requested travel inside the link and are applied, to a new
# or an existing subscription alike, only when the link's page is confirmed. The reply to the
# request is the same whether or not the address is subscribed. Only a signed-in user whose
# verified address it is changes a subscription at once, and only then is it tied to the account.

def request_subscription(*, email: str, frequency: str, topic: str = "", min_upvotes: int = 0,
                         personal: bool = False, user=None) -> Subscription | None:
    """The subscription when its verified owner changed it directly; otherwise None: a link was
    mailed to the address (or, past DIGEST_MAILS_PER_ADDRESS_PER_HOUR, silently not)."""
    from allauth.account.models import EmailAddress

    requested: dict[str, Any] = {"email": email.strip().lower(), "frequency": frequency, "topic": topic.strip(),
                 "min_upvotes": min_upvotes}
    if user is not None and user.is_authenticated and EmailAddress.objects.filter(
            user=user, email__iexact=requested["email"], verified=True).exists():
        return _apply(**requested, owner=user, personal=personal)
    if _may_mail(requested["email"]):
        link = settings.BASE_URL + reverse("digests:confirm", args=[subscribe_token(**requested)])
        # Fixed wording and the link only: what the requester typed is never mailed to anyone.
        send_mail(
            subject=f"Confirm your {settings.SITE_NAME} digest",
            message=render_to_string("digests/confirm_email.txt", {"link": link, "site_name": settings.SITE_NAME}),
            from_email=None, recipient_list=[requested["email"]],
        )
    return None


def _may_mail(email: str) -> bool:
    """At most DIGEST_MAILS_PER_ADDRESS_PER_HOUR confirmation mails to one address (fixed window,
    in the shared cache), however many clients ask: an address cannot be flooded through us."""
    key = "digests:mails-to:" + hashlib.sha256(email.encode()).hexdigest()
    cache.add(key, 0, timeout=3600)
    try:
        return cache.incr(key) <= settings.DIGEST_MAILS_PER_ADDRESS_PER_HOUR
    except ValueError:  # the window expired between add and incr
        cache.add(key, 1, timeout=3600)
        return True


def subscribe_token(*, email: str, frequency: str, topic: str, min_upvotes: int) -> str:
    return signing.dumps({"email": email, "frequency": frequency, "topic": topic, "min_upvotes": min_upvotes},
                         salt=SUBSCRIBE_SALT, compress=True)


def requested_settings(*, token: str) -> dict | None:
    """What a confirmation link asks for, or None if it is forged or older than CONFIRM_MAX_AGE."""
    try:
        requested = signing.loads(token, salt=SUBSCRIBE_SALT, max_age=CONFIRM_MAX_AGE)
    except signing.BadSignature:
        return None
    return requested if isinstance(requested, dict) and set(requested) == _REQUESTED_FIELDS else None


def confirm(*, token: str) -> Subscription | None:
    """Apply the settings of a confirmation link: the click proves the address's owner wants them."""
    requested = requested_settings(token=token)
    return None if requested is None else _apply(**requested)


def _apply(
    *, email: str, frequency: str, topic: str, min_upvotes: int, owner=None, personal: bool = False
) -> Subscription:
    """Create or change the subscription and make it active. Only the verified `owner` ties it
    to an account and chooses `personal`; a mailed link changes neither."""
    with transaction.atomic():
        subscription, _ = Subscription.objects.select_for_update().get_or_create(
            email=email, frequency=frequency, topic=topic)
        subscription.min_upvotes = min_upvotes
        if owner is not None:
            subscription.user, subscription.personal = owner, personal
        subscription.confirmed_at = subscription.confirmed_at or timezone.now()
        subscription.unsubscribed_at, subscription.inactive_reason = None, ""
        subscription.save()
    return subscription


def unsubscribe_token(subscription: Subscription) -> str:
    return signing.dumps(subscription.pk, salt=UNSUBSCRIBE_SALT)


def unsubscribe(*, token: str) -> Subscription | None:
    try:
        pk = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    subscription = Subscription.objects.filter(pk=pk).first()
    if subscription is not None and subscription.unsubscribed_at is None:
        subscription.unsubscribed_at = timezone.now()
        subscription.save(update_fields=["unsubscribed_at"])
    return subscription


# --- choosing papers -----------------------------------------------------------------------------

def period_papers(period: Period) -> list[Paper]:
    cards = (paper_selectors.papers_of_day(day=period.start) if period.kind == "day"
             else paper_selectors.papers_of_week(monday=period.start))
    return [card.paper for card in cards]


def digest_papers(*, subscription: Subscription, papers: list[Paper], topics: dict | None = None) -> list[Paper]:
    """The period's papers for this subscription, best first, at most DIGEST_MAX_PAPERS.
    `topics` memoises the papers on each topic across the subscriptions of one run."""
    if subscription.topic:
        topics = {} if topics is None else topics
        if subscription.topic not in topics:
            topics[subscription.topic] = _on_topic(subscription.topic, papers) if papers else []
        papers = topics[subscription.topic]
    papers = [p for p in papers if p.upvotes >= subscription.min_upvotes]
    if subscription.personal and subscription.user_id and papers:
        papers = _for_you_order(subscription, papers)
    return papers[:settings.DIGEST_MAX_PAPERS]


def _on_topic(topic: str, papers: list[Paper]) -> list[Paper]:
    ids = [p.pk for p in papers]
    matched = keyword_matches(text=topic, within=ids)
    try:
        similar = similarities(vector=embed_query(topic), keys=ids)
        matched |= {pk for pk, score in similar.items() if score >= TOPIC_MIN_SIMILARITY}
    except Exception as exc:  # noqa: BLE001 - keyword matches alone still make a digest
        logger.warning("topic digest without semantic matching: %r", exc)
    return [p for p in papers if p.pk in matched]


def _for_you_order(subscription: Subscription, papers: list[Paper]) -> list[Paper]:
    """The For you ranking (upvotes, saves, Not interested) over the period's papers."""
    return rank_papers(user=subscription.user, papers=papers)


# --- sending -------------------------------------------------------------------------------------

def digest_items(papers: list[Paper]) -> dict[int, dict]:
    """What a digest shows of each paper, computed once per period (not per subscriber)."""
    names: dict[int, list[str]] = {p.pk: [] for p in papers}
    for paper_id, name in (
        Authorship.objects.filter(paper__in=papers)
        .order_by("paper_id", "position")
        .values_list("paper_id", "author__name")
    ):
        names[paper_id].append(name)
    return {
        p.pk: {"paper": p, "authors": names[p.pk][:4], "more_authors": len(names[p.pk]) > 4,
               "url": settings.BASE_URL + p.get_absolute_url(), "line": _one_line(p)}
        for p in papers
    }


def build_message(
    *, subscription: Subscription, period: Period, items: list[dict], connection=None
) -> EmailMultiAlternatives:
    token = unsubscribe_token(subscription)
    unsubscribe_url = settings.BASE_URL + reverse("digests:unsubscribe", args=[token])
    context = {
        "site_name": settings.SITE_NAME, "period": period, "subscription": subscription, "items": items,
        "unsubscribe_url": unsubscribe_url, "base_url": settings.BASE_URL,
    }
    host = settings.BASE_URL.split("://")[-1].split("/")[0].split(":")[0]
    message = EmailMultiAlternatives(
        subject=f"{settings.SITE_NAME} — {period.label}: {len(items)} paper{'s' if len(items) != 1 else ''}",
        body=render_to_string("digests/digest.txt", context),
        to=[subscription.email],
        connection=connection,
        headers={
            "List-Unsubscribe":
                f"<mailto:{settings.DIGEST_UNSUBSCRIBE_MAILTO}?subject=unsubscribe%20{token}>, <{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            # The same id for the same digest: a duplicate, if ever sent, is recognisable.
            "Message-ID": f"<digest-{subscription.pk}-{period.key.replace(':', '-')}@{host}>",
        },
    )
    message.attach_alternative(render_to_string("digests/digest.html", context), "text/html")
    return message


def _one_line(paper: Paper) -> str:
    text = paper.ai_summary or paper.abstract
    first = text.split(". ")[0].strip()
    return (first if len(first) <= 240 else first[:237] + "…").rstrip(".") + "."


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
        frequency=period.frequency, confirmed_at__isnull=False, unsubscribed_at__isnull=True, inactive_reason=""
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
            if not chosen:
                stats.empty += 1
                continue
            delivery, _ = DigestDelivery.objects.get_or_create(subscription=subscription, period=period.key)
            if delivery.status != DigestDelivery.Status.SENDING:
                stats.already += 1
                continue
            message = build_message(subscription=subscription, period=period,
                                    items=[items[p.pk] for p in chosen], connection=connection)
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
