"""Request-level safety rules for the whole site: who the client is behind our proxies, and
input no handler should ever see (control characters)."""

import ipaddress
import json
import re
from collections.abc import Callable, Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from dailypapers.views import bad_request


def client_ip(request: HttpRequest) -> str:
    """The client's address: with TRUSTED_PROXY_COUNT proxies of ours in front, the X-Forwarded-For
    entry they appended for it (that many from the right; entries further left are whatever the
    client sent, so a spoofed one changes nothing), else REMOTE_ADDR. django-ratelimit calls this
    (RATELIMIT_IP_META_KEY), and so does the API's anonymous limiter."""
    remote = request.META.get("REMOTE_ADDR", "")
    hops = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if hops <= 0 or len(forwarded) < hops:
        return remote
    candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        # Not an address: our proxy did not write it, so trust only the hop we can see.
        return remote


# C0 control characters other than tab, LF and CR: no text a person types contains them, and
# PostgreSQL cannot store NUL at all (a DataError, i.e. a 500, wherever one reached a query).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_JSON_TYPES = ("application/json",)


def _json_strings(value) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _json_strings(item)


def _where_control_characters(request: HttpRequest) -> str:
    """Which part of the request holds a control character ("" when none does)."""
    if _CONTROL.search(request.path):
        return "address"
    if any(_CONTROL.search(key) or any(_CONTROL.search(v) for v in values) for key, values in request.GET.lists()):
        return "query string"
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if request.content_type in _JSON_TYPES:
            try:
                body = json.loads(request.body)
            except ValueError:
                return ""  # not JSON at all: the view answers that
            if any(_CONTROL.search(text) for text in _json_strings(body)):
                return "JSON body"
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data") and any(
            # Form fields only: uploaded files are bytes and are checked where they are read.
            _CONTROL.search(key) or any(_CONTROL.search(v) for v in values) for key, values in request.POST.lists()
        ):
            return "form"
    return ""


class RejectControlCharactersMiddleware:
    """Answer 400 to a request whose address, query string, form fields or JSON body contain a
    control character (NUL included), before any view, session or query sees it: an HTML error
    page, or {"error": ...} under /api/."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if where := _where_control_characters(request):
            reason = f"The {where} contains a control character (such as NUL), which is not allowed."
            if request.path.startswith("/api/"):
                return JsonResponse({"error": reason}, status=400)
            return bad_request(request, reason=reason)
        return self.get_response(request)


class CollapseLeadingSlashesMiddleware:
    """`HfApi(endpoint="http://host/")` asks for `//api/daily_papers`: the leading slashes are
    collapsed to one in the request itself, never by a redirect, since `Location: //host/...` is a
    link to another site. Only the start of the path changes; the rest is routed as it came."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith("//"):
            request.path_info = "/" + request.path_info.lstrip("/")
            request.path = request.META.get("SCRIPT_NAME", "").rstrip("/") + request.path_info
        return self.get_response(request)
