"""Whole-response cache for anonymous GETs (list pages, paper pages, feeds).

Keys carry the content version, which every write bumps (papers.services), so a
cached page never outlives a change. Two levels: this process's memory first
(no I/O: the file cache cost a quarter of a cached request), then the cache
shared by all workers (a file cache by default, Redis with CACHE_URL).

Only pages that are the same for every anonymous visitor are shared: a request with flash
messages waiting is rendered fresh, and a response that set a cookie, put a CSRF token in the
page (the token belongs to one visitor's cookie), wrote to or read data from the session, or
says private / Vary: Cookie is never stored (the same rules as Django's UpdateCacheMiddleware,
checked here because this runs inside the view, before the middleware add their headers).
"""

import hashlib
from collections.abc import Callable

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache, caches
from django.http import HttpRequest, HttpResponse
from django.utils.cache import has_vary_header

from dailypapers.papers.services import CONTENT_VERSION_KEY

_KEPT_HEADERS = ("Content-Type", "Last-Modified")


def _is_personal(request: HttpRequest) -> bool:
    """Whether this anonymous request's page may differ from everyone else's (messages waiting,
    or a session holding data)."""
    session = getattr(request, "session", None)
    return bool(len(get_messages(request))) or (session is not None and bool(session.keys()))


def _is_shareable(request: HttpRequest, response: HttpResponse) -> bool:
    session = getattr(request, "session", None)
    return (
        response.status_code in (200, 404)
        and not response.streaming
        and not response.cookies
        and not has_vary_header(response, "Cookie")
        and "private" not in response.get("Cache-Control", "")
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")  # get_token() ran: the page holds a token
        and not (session is not None and session.modified)
        and not _is_personal(request)  # the page itself added a message
    )


def cached_response(request: HttpRequest, render: Callable[[], HttpResponse], *, vary: str = "") -> HttpResponse:
    """`render()`'s response, from the cache when possible. `vary`: the query parameters the
    page reads (the rest of the query string, e.g. a cache-busting ?x=1, is not part of the key)."""
    if request.method != "GET" or request.user.is_authenticated or _is_personal(request):
        return render()
    version = cache.get(CONTENT_VERSION_KEY, 0)
    digest = hashlib.sha1(f"{request.path}?{vary}".encode()).hexdigest()
    key = f"response:{version}:{digest}"
    local = caches["local"]
    stored = local.get(key)
    if stored is None:
        stored = cache.get(key)
        if stored is not None:
            local.set(key, stored, settings.PAGE_CACHE_SECONDS)
    if stored is not None:
        status, body, headers = stored
        response = HttpResponse(body, status=status)
        for name, value in headers:
            response[name] = value
        return response
    response = render()
    if _is_shareable(request, response):
        stored = (response.status_code, response.content, [(h, response[h]) for h in _KEPT_HEADERS if h in response])
        local.set(key, stored, settings.PAGE_CACHE_SECONDS)
        cache.set(key, stored, settings.PAGE_CACHE_SECONDS)
    return response
