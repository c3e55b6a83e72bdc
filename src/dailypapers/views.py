"""Error pages for the whole site (the status, a title and the reason in words), its rate limits and its media."""

from functools import wraps

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import Resolver404
from django.views.static import serve
from django_ratelimit.decorators import ratelimit


def bad_request(request: HttpRequest, exception: Exception | None = None, *, reason: str = "") -> HttpResponse:
    reason = reason or (str(exception) if exception else "") or "The request was not understood."
    return render(request, "papers/error.html", {"status": 400, "title": "Bad request", "reason": reason}, status=400)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # Only the app's own 404s say why (e.g. "No paper 2401.00001 here yet."): the resolver's
    # carries the URL patterns tried and the files they live in.
    own = isinstance(exception, Http404) and not isinstance(exception, Resolver404)
    reason = str(exception) if own and exception is not None and exception.args else ""
    return render(
        request, "papers/error.html",
        {"status": 404, "title": "Not found", "reason": reason or "There is no page at this address."},
        status=404,
    )


def forbidden(request: HttpRequest, *, reason: str) -> HttpResponse:
    return render(request, "papers/error.html", {"status": 403, "title": "Not allowed", "reason": reason}, status=403)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: the site's own 403 page in words a visitor can act on (Django's reason,
    e.g. "CSRF cookie not set.", is for developers and stays out of the page)."""
    return forbidden(
        request,
        reason="This form has expired or was sent from another site, so it was not accepted. "
        "Go back, reload the page and send it again (cookies must be allowed for this site).",
    )


def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers and feed readers ask for without reading the page: our own icon
    (a static file, under its hashed name once collected)."""
    response = HttpResponseRedirect(static("dailypapers/favicon.ico"))
    response["Cache-Control"] = "public, max-age=86400"
    return response


_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


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
    rate = getattr(request, "limit_rate", "") or "1/m"
    period = rate.split("/")[-1]
    seconds = int(period[:-1] or 1) * _PERIODS.get(period[-1], 60)
    response = render(
        request, "papers/error.html",
        {"status": 429, "title": "Too many requests",
         "reason": f"You are doing that too often. Try again in {seconds} seconds."},
        status=429,
    )
    response["Retry-After"] = str(seconds)
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
