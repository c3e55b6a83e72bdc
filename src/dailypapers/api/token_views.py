"""/settings/tokens: a signed-in user creates and revokes personal API tokens."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from . import services
from .models import ApiToken


def _page(
    request: HttpRequest, *, new_token: str = "", new_name: str = "", error: str = "", status: int = 200
) -> HttpResponse:
    user = request.user if request.user.is_authenticated else None  # the views are for signed-in users only
    tokens = ApiToken.objects.filter(user=user).order_by("revoked_at", "-created_at")
    response = render(
        request, "api/tokens.html",
        {"tokens": tokens, "new_token": new_token, "new_name": new_name, "error": error,
         "max_name_length": services.MAX_NAME_LENGTH},
        status=status,
    )
    if new_token:
        response["Cache-Control"] = "no-store"  # the token is shown once; keep it out of caches
    return response


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            token, raw = services.create_token(user=request.user, name=request.POST.get("name", ""))
        except services.TokenRefused as exc:
            return _page(request, error=str(exc), status=400)
        return _page(request, new_token=raw, new_name=token.name)
    return _page(request)


@login_required
@require_POST
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.revoke_token(user=request.user, token_id=pk)
    except services.TokenRefused as exc:
        return _page(request, error=str(exc), status=404)
    return redirect("tokens:tokens")
