from django import template
from django.conf import settings
from django.urls import reverse

from dailypapers.digests.services import unsubscribe_token

register = template.Library()


@register.filter(name="manage_url")
def manage_url(subscription) -> str:
    """The absolute address of the subscription's manage page (signed: the mail is the key)."""
    return settings.BASE_URL + reverse("digests:manage", args=[unsubscribe_token(subscription)])
