"""Who may call: a personal API token for writes, the anonymous limit for everyone without one,
and the community's per-user write limits for API writes."""

import threading

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited
from ninja.security import HttpBearer
from ninja.throttling import BaseThrottle

from dailypapers.errors import Refused
from dailypapers.limits import window_seconds

from ..ratelimit import seconds_to_wait
from ..services import user_for_token


class TokenAuth(HttpBearer):
    """A personal API token. Unknown or revoked tokens are refused (401)."""

    def authenticate(self, request: HttpRequest, token: str):
        user = getattr(request, "_api_token_user", None) or user_for_token(token.strip())
        if user is None:
            return None
        request._api_token_user = user  # type: ignore[attr-defined]  # a memo shared with the rate limiter
        request.user = user
        return user


token_auth = TokenAuth()


class AnonymousLimit(BaseThrottle):
    """API_ANON_RATE per client address for requests without a valid token (django-ratelimit's counter)."""

    _local = threading.local()

    def allow_request(self, request: HttpRequest) -> bool:
        self._local.wait = seconds_to_wait(request)
        return self._local.wait is None

    def wait(self):
        return getattr(self._local, "wait", None)


def _token_user(group: str, request) -> str:
    """django-ratelimit's key for API writes: the token's user."""
    return str(request.auth.pk)


def limit_writes(request, setting: str) -> None:
    """The community's per-user write limits (RATE_VOTE, RATE_COMMENT, RATE_SUBMIT) apply to API writes too."""
    rate = getattr(settings, setting)
    if is_ratelimited(request, group=f"api-{setting}", key=_token_user, rate=rate, increment=True):
        seconds = window_seconds(rate)
        raise Refused.too_many(f"Too many requests: at most {rate}. Try again in {seconds} seconds.",
                               retry_after=seconds)
