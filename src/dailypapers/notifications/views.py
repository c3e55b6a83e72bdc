"""The notifications page, its actions (POST, CSRF-checked) and the unsubscribe landing page of
the mails. Thin: parse, call a selector or service, render."""

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from dailypapers import paging
from dailypapers.errors import Refused

from . import selectors, services
from .emails import unsubscribe_request
from .models import Kind

PAGE_SIZE = 30


def _signed_in(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            back = request.get_full_path() if request.method == "GET" else reverse("notifications:page")
            return redirect_to_login(back)
        return view(request, *args, **kwargs)

    return wrapper


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "private, no-store"
    return response


@_signed_in
def page(request: HttpRequest) -> HttpResponse:
    try:
        listing = paging.page_of(selectors.page_items(selectors.visible(user=request.user)),
                                 raw=request.GET.get("page"), size=PAGE_SIZE, noun="notifications")
    except paging.BadPage as exc:
        raise Refused(str(exc)) from None
    except paging.NoSuchPage as exc:
        raise Http404(str(exc)) from None
    items = [{"notification": n, "shown": selectors.shown(n)} for n in listing.items]
    return _private(render(request, "notifications/page.html", {
        "listing": listing, "items": items, "preferences": selectors.preferences(user=request.user),
    }))


@require_POST
@_signed_in
def read_one(request: HttpRequest, pk: int) -> HttpResponse:
    # Someone else's notification is not found: marking it does nothing, and says so as for a missing one.
    if not services.mark_read(user=request.user, notification_ids=[pk]) and not selectors.visible(
            user=request.user).filter(pk=pk).exists():
        raise Http404("You have no such notification.")
    return redirect(_back(request))


@require_POST
@_signed_in
def read_all(request: HttpRequest) -> HttpResponse:
    services.mark_read(user=request.user)
    return redirect(_back(request))


def _back(request: HttpRequest) -> str:
    page_number = request.POST.get("page", "")
    url = reverse("notifications:page")
    return f"{url}?page={page_number}" if page_number.isdigit() and page_number != "1" else url


@require_POST
@_signed_in
def preferences(request: HttpRequest) -> HttpResponse:
    services.set_preferences(user=request.user, choices={
        kind.value: (f"on_site:{kind.value}" in request.POST, f"by_email:{kind.value}" in request.POST)
        for kind in Kind
    })
    messages.success(request, "Notification preferences saved.")
    return redirect("notifications:page")


@csrf_exempt  # RFC 8058 one-click: mail clients POST here with no session and no CSRF token
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """The link in every notification mail (and its List-Unsubscribe header): no sign-in needed,
    the signed link is the proof. A GET only asks (mail scanners follow links); a POST stops them."""
    asked = unsubscribe_request(token=token)
    user = asked and get_user_model().objects.filter(pk=asked[0]).first()
    if not asked or user is None:
        raise Refused("This unsubscribe link is invalid.")
    kinds = [Kind(k) for k in asked[1]]
    done = request.method == "POST"
    if done:
        services.stop_email(user=user, kinds=[k.value for k in kinds])
    # The page holds the signed link: kept out of caches.
    return _private(render(request, "notifications/unsubscribe.html",
                           {"kinds": kinds, "done": done, "token": token}))
