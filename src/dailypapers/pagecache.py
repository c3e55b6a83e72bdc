"""Whole-response cache for anonymous GETs (list pages, paper pages, feeds), and its invalidation.

A cached page names its scopes, what it shows: `paper:<pk>` for a paper's page, `day:<date>`,
`week:<monday>`, `month:<YYYY-MM>`, `latest` (the newest list, /papers) and `trending`. A page
that names none depends on `any` change. Each scope has a version token in the shared cache; the
page's key folds in the tokens of its scopes and the site-wide one, so a write replaces the tokens
of exactly the scopes it changed (papers.services says which) and every web node's next request
misses on those pages only, with no message between nodes. A token is a fresh random value, never
a count, so a token the cache evicted and re-creates can never match a page stored under an older
one. Bulk ingests and admin edits, and a day gaining its first entry or losing its last (every
list's previous/next links), replace the site-wide token (`invalidate_all`). This module imports
nothing of the site's apps: it is the lowest layer, under papers.

Two levels: this process's memory first (no I/O: the file cache cost a quarter of a cached
request), then the cache shared by all workers (a file cache by default, Redis with CACHE_URL).

Only pages that are the same for every anonymous visitor are shared: a request with flash
messages waiting is rendered fresh, and a response that set a cookie, put a CSRF token in the
page (the token belongs to one visitor's cookie), wrote to or read data from the session, or
says private / Vary: Cookie is never stored (the same rules as Django's UpdateCacheMiddleware,
checked here because this runs inside the view, before the middleware add their headers).
"""

import hashlib
import secrets
from collections.abc import Callable, Collection, Iterable
from datetime import date, timedelta

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache, caches
from django.http import HttpRequest, HttpResponse
from django.utils.cache import has_vary_header

_KEPT_HEADERS = ("Content-Type", "Last-Modified")

SITE = "site"  # folded into every key: invalidate_all()
ANY = "any"  # the scope of pages that name none: replaced by every invalidate()
LATEST = "latest"
TRENDING = "trending"


def paper_scope(pk: int) -> str:
    return f"paper:{pk}"


def day_scope(day: date) -> str:
    return f"day:{day.isoformat()}"


def week_scope(monday: date) -> str:
    return f"week:{monday.isoformat()}"


def month_scope(first: date) -> str:
    return f"month:{first:%Y-%m}"


def list_scopes(day: date) -> set[str]:
    """The day's list and the week and month lists that contain it."""
    return {day_scope(day), week_scope(day - timedelta(days=day.weekday())), month_scope(day.replace(day=1))}


def _key(scope: str) -> str:
    return f"dailypapers:scope:{scope}"


def invalidate(scopes: Iterable[str]) -> None:
    """Every cached page showing one of these scopes is rendered afresh on its next request, on every node."""
    token = secrets.token_hex(8)
    cache.set_many({_key(scope): token for scope in {*scopes, ANY}}, timeout=None)


def invalidate_all() -> None:
    """Every cached page: bulk ingests, admin edits (what they touch is too broad to name)."""
    cache.set(_key(SITE), secrets.token_hex(8), timeout=None)


def _versions(scopes: Collection[str]) -> str:
    keys = [_key(SITE), *(_key(s) for s in sorted(scopes))]
    found = cache.get_many(keys)
    if missing := [k for k in keys if k not in found]:
        # Never set, or evicted: a new token (add: the first node to get here wins, the others read it).
        for k in missing:
            cache.add(k, secrets.token_hex(8), timeout=None)
        found |= cache.get_many(missing)
    return ".".join(str(found.get(k, "")) for k in keys)


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


def cached_response(
    request: HttpRequest, render: Callable[[], HttpResponse], *, vary: str = "", scopes: Collection[str] = (ANY,)
) -> HttpResponse:
    """`render()`'s response, from the cache when possible. `vary`: the query parameters the
    page reads (the rest of the query string, e.g. a cache-busting ?x=1, is not part of the key);
    `scopes`: what the page shows (see the module's docstring)."""
    if request.method != "GET" or request.user.is_authenticated or _is_personal(request):
        return render()
    versions = _versions(scopes)
    key = "response:" + hashlib.sha1(f"{versions}|{request.path}?{vary}".encode()).hexdigest()
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
