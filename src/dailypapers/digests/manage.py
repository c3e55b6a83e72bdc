"""The manage page of a subscription, reached by the signed link in every digest (the same signed
subscription id as the unsubscribe link): read it, change its settings, stop it, start it again.
The link is the proof of the address: whoever has the mail may manage what is sent to it."""

from django.core import signing
from django.db import IntegrityError, transaction

from .models import Subscription
from .services import UNSUBSCRIBE_SALT


class ManageRefused(Exception):
    """The change is not possible; str() says why."""


def subscription_for(*, token: str) -> Subscription | None:
    """The subscription a digest's link names, or None for a forged or mangled link."""
    try:
        pk = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return Subscription.objects.filter(pk=pk).first() if isinstance(pk, int) else None


def change_subscription(*, subscription: Subscription, frequency: str, topic: str, min_upvotes: int) -> Subscription:
    """New settings for the subscription (it stays active, or inactive, as it was)."""
    subscription.frequency, subscription.topic, subscription.min_upvotes = frequency, topic.strip(), min_upvotes
    try:
        with transaction.atomic():
            subscription.save(update_fields=["frequency", "topic", "min_upvotes"])
    except IntegrityError:
        raise ManageRefused("This address already has a digest with that frequency and topic.") from None
    return subscription


def resubscribe(*, subscription: Subscription) -> Subscription:
    """Start sending again (the address was confirmed when it first subscribed)."""
    subscription.unsubscribed_at, subscription.inactive_reason = None, ""
    subscription.save(update_fields=["unsubscribed_at", "inactive_reason"])
    return subscription
