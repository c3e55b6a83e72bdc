"""How the JSON APIs answer a refusal: {"error": "sentence"} (the native API adds "detail" when it
has one), with the refusal's status and headers. The Hugging Face-compatible views use the
decorator; the native API's one handler (api.native.errors) builds its body here too."""

import functools

from django.http import JsonResponse

from dailypapers.errors import Refused


def error_body(message: str, detail=None) -> dict:
    body = {"error": message}
    if detail is not None:
        body["detail"] = detail
    return body


def json_error(refused: Refused) -> JsonResponse:
    """Hugging Face's shape: the "error" key only."""
    response = JsonResponse({"error": refused.message}, status=refused.status)
    for name, value in refused.headers.items():
        response[name] = value
    return response


def json_refusals(view):
    """A plain Django JSON view that raises Refused answers it as JSON (not the HTML error page)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except Refused as refused:
            return json_error(refused)

    return wrapper
