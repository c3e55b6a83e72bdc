"""Subscribing to email digests (double opt-in) and unsubscribing."""

import hashlib
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from .emails import UNSUBSCRIBE_SALT, confirmation_mail
from .models import Subscription

# "digests.subscribe" links carry the requested settings (the older "digests.confirm" ones, a
# pending row's id, are no longer accepted: their owners subscribe again).
SUBSCRIBE_SALT = "digests.subscribe"
_REQUESTED_FIELDS = {"email", "frequency", "topic", "min_upvotes"}
CONFIRM_MAX_AGE = 7 * 24 * 3600


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
        send_mail(**confirmation_mail(link=link), from_email=None, recipient_list=[requested["email"]])
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
