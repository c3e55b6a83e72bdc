"""Error pages for the whole site: the status, a title and the reason in words."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render


def bad_request(request: HttpRequest, exception: Exception | None = None, *, reason: str = "") -> HttpResponse:
    reason = reason or (str(exception) if exception else "") or "The request was not understood."
    return render(request, "papers/error.html", {"status": 400, "title": "Bad request", "reason": reason}, status=400)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    reason = str(exception) if isinstance(exception, Http404) and exception.args else ""
    return render(
        request, "papers/error.html",
        {"status": 404, "title": "Not found", "reason": reason or "There is no page at this address."},
        status=404,
    )
