"""How the native API answers every error: {"error": "sentence", "detail": optional}, documented
on every operation. One mapping: a Refused from anywhere below (services, selectors, periods) is
answered with its own status; django-ninja's own errors (validation, authentication, throttling,
HTTP errors) are first turned into the Refused they mean."""

from collections.abc import Iterable

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from dailypapers.errors import Refused

from .. import schemas as s
from ..errors import error_body
from ..ratelimit import anon_refusal

# Every operation may answer these, documented so clients (and schemathesis) expect them.
COMMON_ERRORS = {400, 422, 429}
AUTH_ERRORS = {401, 403}

UNAUTHENTICATED = (
    "A valid API token is needed: send `Authorization: Bearer <token>` (create one on /settings/tokens). "
    "Unknown and revoked tokens are refused."
)


def responses(ok, *, ok_status: int = 200, errors: Iterable[int] = ()) -> dict:
    return {ok_status: ok, frozenset(COMMON_ERRORS | set(errors)): s.ErrorOut}


def _loc(loc) -> str:
    parts = [str(p) for p in loc if p not in ("query", "path", "body", "filters", "data")]
    return ".".join(parts) or "request"


def _invalid(exc: ValidationError) -> Refused:
    detail = [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in exc.errors
    ]
    summary = "; ".join(f"{_loc(d['loc'])}: {d['msg']}" for d in detail[:5]) or "the request was not understood"
    return Refused(f"Invalid request: {summary}", status=422, detail=detail)


def as_refusal(exc: Exception) -> Refused:
    """The Refused a framework error means."""
    if isinstance(exc, Refused):
        return exc
    if isinstance(exc, ValidationError):
        return _invalid(exc)
    if isinstance(exc, AuthenticationError):
        return Refused(UNAUTHENTICATED, status=401, headers={"WWW-Authenticate": 'Bearer realm="dailypapers"'})
    if isinstance(exc, Throttled):
        return anon_refusal(max(int(exc.wait or 1), 1))
    if isinstance(exc, Http404):
        return Refused.not_found(str(exc) or "Not found.")
    assert isinstance(exc, HttpError)
    return Refused(str(exc), status=exc.status_code)


def install(api: NinjaAPI) -> None:
    """Register the one handler for Refused and the framework errors it stands for."""

    def answer(request: HttpRequest, exc: Exception) -> HttpResponse:
        refused = as_refusal(exc)
        response = api.create_response(request, error_body(refused.message, refused.detail), status=refused.status)
        for name, value in refused.headers.items():
            response[name] = value
        return response

    for kind in (Refused, ValidationError, AuthenticationError, Throttled, Http404, HttpError):
        api.add_exception_handler(kind, answer)  # type: ignore[arg-type]  # ninja types the class, not its instances
