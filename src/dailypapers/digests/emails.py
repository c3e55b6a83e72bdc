"""What digests and confirmation mails say: rendering only (sending is sending.py)."""

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from dailypapers.mail import multipart_message
from dailypapers.papers.models import Paper
from dailypapers.papers.periods import Period
from dailypapers.papers.selectors import author_names
from dailypapers.papers.templatetags.cards import CARD_KEYWORDS
from dailypapers.papers.templatetags.papertext import plaintext

from .models import Subscription

UNSUBSCRIBE_SALT = "digests.unsubscribe"
SHOWN_AUTHORS = 4


def unsubscribe_token(subscription: Subscription) -> str:
    return signing.dumps(subscription.pk, salt=UNSUBSCRIBE_SALT)


def period_label(period: Period) -> str:
    """Mar 16, 2026 / week 12 (Mar 16 – Mar 22)."""
    return f"week {period.week_number:02d} ({period.span})" if period.kind == "week" else period.heading


def digest_items(papers: list[Paper]) -> dict[int, dict]:
    """What a digest shows of each paper, computed once per period (not per subscriber): its
    summary and keywords as the site shows them (Paper.summary, Paper.keywords: which one, and where
    it came from), as many keywords as a card has."""
    names = author_names(papers)
    return {
        p.pk: {"paper": p, "authors": names[p.pk][:SHOWN_AUTHORS], "more_authors": len(names[p.pk]) > SHOWN_AUTHORS,
               "url": settings.BASE_URL + p.get_absolute_url(),
               **_summary(p), "keywords": p.keywords[:CARD_KEYWORDS], "keywords_label": p.keywords_label}
        for p in papers
    }


def _summary(paper: Paper) -> dict[str, str]:
    """The paper's one-line summary as the site picks it; without one, the abstract's first sentence
    (a mail of bare titles says too little to choose from), labelled as such."""
    if paper.summary:
        return {"summary": plaintext(paper.summary), "summary_label": paper.summary_label}
    first = plaintext(paper.abstract).split(". ")[0].strip()
    if not first:
        return {"summary": "", "summary_label": ""}
    first = (first if len(first) <= 240 else first[:237] + "…").rstrip(".") + "."
    return {"summary": first, "summary_label": "first sentence of the abstract"}


def build_message(
    *, subscription: Subscription, period: Period, items: list[dict], followed: list[dict] | None = None,
) -> EmailMultiAlternatives:
    """`followed`: the "From what you follow" sections, each {"label", "kind", "items"}."""
    token = unsubscribe_token(subscription)
    unsubscribe_url = settings.BASE_URL + reverse("digests:unsubscribe", args=[token])
    label = period_label(period)
    context = {
        "site_name": settings.SITE_NAME, "period_label": label, "subscription": subscription, "items": items,
        "followed": followed or [],
        "unsubscribe_url": unsubscribe_url, "base_url": settings.BASE_URL,
    }
    count = len({i["paper"].pk for i in items} | {i["paper"].pk for f in followed or [] for i in f["items"]})
    return multipart_message(
        subject=f"{settings.SITE_NAME} — {label}: {count} paper{'s' if count != 1 else ''}",
        to=subscription.email, template="digests/digest", context=context,
        list_unsubscribe=(f"<mailto:{settings.DIGEST_UNSUBSCRIBE_MAILTO}?subject=unsubscribe%20{token}>, "
                          f"<{unsubscribe_url}>"),
        message_key=f"digest-{subscription.pk}-{period.key.replace(':', '-')}",
    )


def confirmation_mail(*, link: str) -> dict:
    """Subject and body of the mail with a subscription's confirmation link: fixed wording and the
    link only (what the requester typed is never mailed to anyone)."""
    return {
        "subject": f"Confirm your {settings.SITE_NAME} digest",
        "message": render_to_string("digests/confirm_email.txt", {"link": link, "site_name": settings.SITE_NAME}),
    }
