"""The anonymous API rate limit: API_ANON_RATE ("count/period", default 500 requests per
5 minutes, as Hugging Face does) per client address, over the native API and the
Hugging Face-compatible JSON views. Clients with a valid personal API token are not limited
by it. Counted with django-ratelimit's core (a fixed window in the cache)."""

import functools

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django_ratelimit.core import get_usage

from dailypapers.security import client_ip

DEFAULT_RATE = "500/5m"
GROUP = "api-anon"


def anon_rate() -> str:
    return getattr(settings, "API_ANON_RATE", DEFAULT_RATE) or DEFAULT_RATE


def bearer_token(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _has_valid_token(request: HttpRequest) -> bool:
    from .services import user_for_token

    if getattr(request, "_api_token_user", None) is not None:
        return True
    raw = bearer_token(request)
    user = user_for_token(raw) if raw else None
    if user is not None:
        request._api_token_user = user  # type: ignore[attr-defined]  # a memo for the API's token auth
    return user is not None


def _client_key(request: HttpRequest):
    """django-ratelimit's "ip" key, which asks dailypapers.security.client_ip (RATELIMIT_IP_META_KEY:
    the site's one rule for the client's address behind proxies) and groups IPv6 addresses by /64;
    one shared bucket for the odd WSGI caller that gives no address at all."""
    if client_ip(request):
        return "ip"
    return lambda group, request: "unknown-address"


def seconds_to_wait(request: HttpRequest) -> int | None:
    """None when the request may go on; otherwise the seconds until the client's window resets.
    Counts the request."""
    if _has_valid_token(request):
        return None
    usage = get_usage(request, group=GROUP, key=_client_key(request), rate=anon_rate(), increment=True)
    if usage is None or not usage["should_limit"]:
        return None
    return max(int(usage["time_left"]), 1)


def limited_response(wait: int) -> JsonResponse:
    response = JsonResponse(
        {"error": f"Too many requests from your address: at most {anon_rate()} without an API token. "
                  f"Try again in {wait} seconds."},
        status=429,
    )
    response["Retry-After"] = str(wait)
    return response


def anon_rate_limit(view):
    """For the plain Django JSON views: answer 429 with Retry-After once the address is over the limit."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        wait = seconds_to_wait(request)
        if wait is not None:
            return limited_response(wait)
        return view(request, *args, **kwargs)

    return wrapper
