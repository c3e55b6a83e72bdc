"""The site's one "refused" error: a request that was understood and is not accepted — bad input
(400, 422), who you are is unknown (401), not allowed (403), not there (404), in conflict (409), too
many (429).

It lives at the bottom of the layers (it imports nothing of the project), so any layer may raise it
with a sentence for the user. It is turned into a response once per format: for pages by
dailypapers.views.RefusedMiddleware (the error page with the status); for the JSON APIs by
dailypapers.api.errors (``{"error": message}``: the Hugging Face views' decorator, and the native API's
one exception handler in api.native.errors); for BibTeX files as plain text (exports.views)."""

import functools

_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found", 409: "conflict",
          422: "invalid", 429: "too_many_requests"}


class Refused(Exception):
    """`message` is a sentence for the user; `status` the HTTP status it is answered with; `code` a
    stable word for programs; `headers` extra response headers (Retry-After for 429)."""

    def __init__(self, message: str, *, status: int = 400, code: str = "", detail=None,
                 headers: dict[str, str] | None = None):
        if not 400 <= status <= 499:
            raise ValueError(f"a refusal is a 4xx answer, not {status}")
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code or _CODES.get(status, "refused")
        self.detail = detail
        self.headers = dict(headers or {})

    def __str__(self) -> str:
        return self.message

    @classmethod
    def forbidden(cls, message: str, *, code: str = "") -> "Refused":
        return cls(message, status=403, code=code)

    @classmethod
    def not_found(cls, message: str, *, code: str = "") -> "Refused":
        return cls(message, status=404, code=code)

    @classmethod
    def too_many(cls, message: str, *, retry_after: int) -> "Refused":
        return cls(message, status=429, headers={"Retry-After": str(retry_after)})


def answered_by(respond):
    """A view decorator: when the view raises Refused, the answer is respond(refused) — for the
    surfaces that are not pages (JSON, plain-text files), which answer refusals in their own format."""

    def decorator(view):
        def wrapper(request, *args, **kwargs):
            try:
                return view(request, *args, **kwargs)
            except Refused as refused:
                return respond(refused)

        return functools.wraps(view)(wrapper)

    return decorator
