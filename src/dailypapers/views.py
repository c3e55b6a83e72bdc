"""Error pages for the whole site (the status, a title and the reason in words), the one mapping of a
refusal (dailypapers.errors.Refused) to a page, its rate limits and its media."""

import sys
from functools import wraps

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import Resolver404
from django.views.static import serve
from django_ratelimit.decorators import ratelimit

from dailypapers.errors import Refused
from dailypapers.limits import window_seconds

_TITLES = {400: "Bad request", 401: "Log in first", 403: "Not allowed", 404: "Not found", 409: "Conflict",
           422: "Bad request", 429: "Too many requests"}


def error_page(request: HttpRequest, *, status: int, reason: str) -> HttpResponse:
    context = {"status": status, "title": _TITLES.get(status, "Refused"), "reason": reason}
    return render(request, "papers/error.html", context, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None, *, reason: str = "") -> HttpResponse:
    reason = reason or (str(exception) if exception else "") or "The request was not understood."
    return error_page(request, status=400, reason=reason)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # Only the app's own 404s say why (e.g. "No paper 2401.00001 here yet."): the resolver's
    # carries the URL patterns tried and the files they live in.
    own = isinstance(exception, Http404) and not isinstance(exception, Resolver404)
    reason = str(exception) if own and exception is not None and exception.args else ""
    return error_page(request, status=404, reason=reason or "There is no page at this address.")


class RefusedMiddleware:
    """A page's view (or anything it calls) that raises Refused answers the error page with the
    refusal's status and headers: views need no try/except of their own. The JSON APIs answer
    refusals themselves (dailypapers.api.errors) before this sees them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, Refused):
            return None
        response = error_page(request, status=exception.status, reason=exception.message)
        for name, value in exception.headers.items():
            response[name] = value
        return response


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: the site's own 403 page in words a visitor can act on (Django's reason,
    e.g. "CSRF cookie not set.", is for developers and stays out of the page)."""
    return error_page(
        request, status=403,
        reason="This form has expired or was sent from another site, so it was not accepted. "
        "Go back, reload the page and send it again (cookies must be allowed for this site).",
    )


def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers and feed readers ask for without reading the page: our own icon
    (a static file, under its hashed name once collected)."""
    response = HttpResponseRedirect(static("dailypapers/favicon.ico"))
    response["Cache-Control"] = "public, max-age=86400"
    return response



def limit_posts(setting: str):
    """Rate-limit a view's POSTs per user (or client address) by the named setting ("count/period");
    the 429 page says the window."""
    def decorator(view):
        limited = ratelimit(
            key="user_or_ip", rate=lambda group, request: getattr(settings, setting), method="POST", block=True
        )(view)

        @wraps(view)
        def wrapper(request, *args, **kwargs):
            request.limit_rate = getattr(settings, setting)
            return limited(request, *args, **kwargs)

        return wrapper

    return decorator


def rate_limited(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """django-ratelimit's answer: 429, with when to try again (the rule's whole window, at most)."""
    seconds = window_seconds(getattr(request, "limit_rate", "") or "1/m")
    response = error_page(request, status=429, reason=f"You are doing that too often. Try again in {seconds} seconds.")
    response["Retry-After"] = str(seconds)
    return response


RETRY_AFTER_SECONDS = 5  # a database restart takes a few seconds; a proxy's health check sees /healthz


def _service_down(exception: BaseException | None) -> str | None:
    """What is unreachable, when the exception says a service the site needs is down (not a bug)."""
    if isinstance(exception, (OperationalError, InterfaceError)) or (
        isinstance(exception, DatabaseError) and "connection" in str(exception).lower()
    ):
        return "The database is not reachable right now."
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError
    except ImportError:  # pragma: no cover - redis is a dependency
        return None
    if isinstance(exception, (RedisConnectionError, RedisTimeoutError)):
        return "The cache is not reachable right now."
    return None


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500. A database (or Redis) that is down or restarting answers 503 with Retry-After, at
    once (connect_timeout bounds the wait), on a page that reads nothing from the database; anything
    else is the plain 500 page."""
    reason = _service_down(sys.exc_info()[1])
    if reason is None:
        context = {"status": 500, "title": "Server error", "reason": "Something went wrong on our side."}
        return HttpResponse(render_to_string("papers/server_error.html", context), status=500)
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"error": f"{reason} Try again in {RETRY_AFTER_SECONDS} seconds."},
                                              status=503)
    else:
        context = {"status": 503, "title": "Temporarily unavailable", "reason": reason,
                   "retry_after": RETRY_AFTER_SECONDS}
        response = HttpResponse(render_to_string("papers/server_error.html", context), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def media(request: HttpRequest, path: str) -> HttpResponseBase:
    """Uploaded avatars: small and few, so the app serves them itself. A missing file is a plain
    404 (Django's static view names the file's absolute path on disk). No upload may act as a
    page even if its bytes were crafted to: no content sniffing, and a sandbox that runs no
    script and loads nothing."""
    try:
        response = serve(request, path, document_root=str(settings.MEDIA_ROOT))
    except Http404:
        raise Http404("There is no such file.") from None
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    return response
