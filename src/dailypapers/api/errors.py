"""How the JSON APIs answer a refusal: {"error": "sentence"} (the native API adds "detail" when it
has one), with the refusal's status and headers. The Hugging Face-compatible views use the
decorator; the native API's one handler (api.native.errors) builds its body here too."""

from django.http import JsonResponse

from dailypapers.errors import Refused, answered_by


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


# A plain Django JSON view that raises Refused answers it as JSON (not the HTML error page).
json_refusals = answered_by(json_error)
