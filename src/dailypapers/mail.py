"""Sending the mails a run has claimed, and their shape: what the digests (digests/sending.py) and
the notification mails (notifications/sending.py) share. Below every app: it imports none.

Claiming stays with each sender, because what makes a mail this run's to send differs (a delivery
row per subscription and period; notifications given to a mail by a conditional UPDATE). Every
sender commits its claim before the mail is handed over here, so a run that dies is run again and
sends nobody twice; here a mail is sent and marked sent as soon as the server accepts it."""

import smtplib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string

Claim = TypeVar("Claim")


@dataclass
class MailStats:
    """What a run did with the mails it claimed; each sender's own stats add what it skipped."""

    sent: int = 0
    refused: int = 0  # a permanent refusal (5xx): marked failed, never tried again
    deferred: int = 0  # a temporary one (4xx): left claimed, for a later run


def send_claimed(
    *, claimed: Iterable[tuple[Claim, EmailMessage]], mark_sent: Callable[[Claim], None],
    mark_refused: Callable[[Claim, str], None], stats: MailStats,
) -> None:
    """Send each claimed mail over one SMTP connection, opened before `claimed` is iterated (so a
    sender may claim lazily, each mail just before it is sent), and count what became of it:
    `mark_sent(claim)` once the server accepted it; a permanent refusal (5xx) calls
    `mark_refused(claim, "<code> <the server's words>")`; a temporary one (4xx) marks nothing, the
    mail stays claimed and the sender's next run retries it."""
    with get_connection() as connection:
        for claim, message in claimed:
            try:
                connection.send_messages([message])
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as exc:
                code = _smtp_code(exc)
                if code >= 500:
                    mark_refused(claim, f"{code} {exc}")
                    stats.refused += 1
                else:
                    stats.deferred += 1
                continue
            mark_sent(claim)
            stats.sent += 1


def _smtp_code(exc: smtplib.SMTPRecipientsRefused | smtplib.SMTPResponseException) -> int:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return min(code for code, _ in exc.recipients.values())
    return exc.smtp_code


def multipart_message(
    *, subject: str, to: str, template: str, context: dict, list_unsubscribe: str, message_key: str,
) -> EmailMultiAlternatives:
    """A text (`template`.txt) and HTML (`template`.html) mail to one address whose one click
    unsubscribes (RFC 8058: `list_unsubscribe`, the List-Unsubscribe header's value, is POSTed to).
    `message_key` names the mail: the same mail has the same Message-ID, so a duplicate, if one is
    ever sent, is recognisable."""
    host = settings.BASE_URL.split("://")[-1].split("/")[0].split(":")[0]
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template}.txt", context),
        to=[to],
        headers={
            "List-Unsubscribe": list_unsubscribe,
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Message-ID": f"<{message_key}@{host}>",
        },
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    return message
