"""Whole-response cache for anonymous GETs (list pages, paper pages, feeds).

Keys carry the content version, which every write bumps (papers.services), so a
cached page never outlives a change. Two levels: this process's memory first
(no I/O: the file cache cost a quarter of a cached request), then the cache
shared by all workers (a file cache by default, Redis with CACHE_URL).
"""

import hashlib
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache, caches
from django.http import HttpRequest, HttpResponse

from dailypapers.papers.services import CONTENT_VERSION_KEY

_KEPT_HEADERS = ("Content-Type", "Last-Modified")


def cached_response(request: HttpRequest, render: Callable[[], HttpResponse], *, vary: str = "") -> HttpResponse:
    """`render()`'s response, from the cache when possible. `vary`: the query parameters the
    page reads (the rest of the query string, e.g. a cache-busting ?x=1, is not part of the key)."""
    if request.method != "GET" or request.user.is_authenticated:
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
    if response.status_code in (200, 404) and not response.streaming:
        stored = (response.status_code, response.content, [(h, response[h]) for h in _KEPT_HEADERS if h in response])
        local.set(key, stored, settings.PAGE_CACHE_SECONDS)
        cache.set(key, stored, settings.PAGE_CACHE_SECONDS)
    return response
