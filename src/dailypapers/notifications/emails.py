"""What a notifications mail says, and its signed unsubscribe links: rendering only (sending is sending.py)."""

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse

from dailypapers.mail import multipart_message

from .models import Kind, Notification, NotificationMail
from .selectors import shown

UNSUBSCRIBE_SALT = "notifications.unsubscribe"


def unsubscribe_token(*, user_id: int, kinds: list[str]) -> str:
    """Whoever holds the mail may stop these kinds of mail to its user: no sign-in needed, nothing else allowed."""
    return signing.dumps({"user": user_id, "kinds": sorted(kinds)}, salt=UNSUBSCRIBE_SALT)


def unsubscribe_request(*, token: str) -> tuple[int, list[str]] | None:
    """(user id, kinds) of an unsubscribe link, or None for a forged or mangled one."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("user"), int) or not isinstance(data.get("kinds"), list):
        return None
    if not data["kinds"] or not set(data["kinds"]) <= set(Kind.values):
        return None
    return data["user"], data["kinds"]


def unsubscribe_url(*, user_id: int, kinds: list[str]) -> str:
    token = unsubscribe_token(user_id=user_id, kinds=kinds)
    return settings.BASE_URL + reverse("notifications:unsubscribe", args=[token])


def build_message(*, mail: NotificationMail, notifications: list[Notification]) -> EmailMultiAlternatives:
    """One mail with every notification claimed for it, grouped by kind, each kind with its own
    unsubscribe link; the List-Unsubscribe header's one click (RFC 8058) stops the kinds this mail holds."""
    kinds = [kind for kind in Kind if any(n.kind == kind for n in notifications)]
    groups = [{"label": kind.label, "unsubscribe_url": unsubscribe_url(user_id=mail.user_id, kinds=[kind.value]),
               "items": [{"shown": shown(n), "url": settings.BASE_URL + shown(n).url}
                         for n in notifications if n.kind == kind]}
              for kind in kinds]
    one_click = unsubscribe_url(user_id=mail.user_id, kinds=[k.value for k in kinds])
    context = {"site_name": settings.SITE_NAME, "groups": groups, "base_url": settings.BASE_URL,
               "page_url": settings.BASE_URL + reverse("notifications:page"), "unsubscribe_url": one_click,
               "username": mail.user.get_username()}
    count = len(notifications)
    return multipart_message(
        subject=f"{settings.SITE_NAME}: {count} new notification{'s' if count != 1 else ''}",
        to=mail.to, template="notifications/mail", context=context, list_unsubscribe=f"<{one_click}>",
        message_key=f"notifications-{mail.pk}",
    )
