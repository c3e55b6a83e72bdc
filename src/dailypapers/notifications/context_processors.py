"""The header's unread badge: `unread_notifications`, counted lazily (only a page that shows it,
for a signed-in user, asks; one query) and once per request. Anonymous pages, the cached ones,
never ask."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .selectors import unread_count


def unread(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_notifications": 0}
    count = getattr(request, "_unread_notifications", None)
    if count is None:
        count = SimpleLazyObject(lambda: unread_count(user=user))
        request._unread_notifications = count  # type: ignore[attr-defined]  # every template of the request shares it
    return {"unread_notifications": count}
