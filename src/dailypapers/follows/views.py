"""/follows and the Follow buttons. Writes are POST-only, CSRF-checked and rate-limited; a Refused
becomes the error page with its status (dailypapers.views.RefusedMiddleware)."""

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from dailypapers.papers.models import Author, Organization
from dailypapers.views import limit_posts

from . import selectors, services
from .templatetags.follows_tags import button_context


def _signed_in(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path() if request.method == "GET" else reverse("follows:index"))
        return view(request, *args, **kwargs)

    return wrapper


def _posted(view: Callable) -> Callable:
    return require_POST(_signed_in(limit_posts("RATE_COLLECTION")(view)))


def _back(request: HttpRequest, default: str) -> str:
    back = request.POST.get("next", "")
    return back if back.startswith("/") and not back.startswith("//") else default


@_signed_in
def index(request: HttpRequest) -> HttpResponse:
    token = services.feed_token(user=request.user)
    response = render(request, "follows/index.html", {
        "sections": selectors.sections(user=request.user), "token": token,
        "max_follows": services.MAX_FOLLOWS,
    })
    response["Cache-Control"] = "private, no-store"  # the feed addresses carry the private token
    return response


def _toggled(request: HttpRequest, target, *, follow, page: str) -> HttpResponse:
    """Follow the target, or unfollow it when followed; then the button's new state (htmx) or the page."""
    found = selectors.following(user=request.user, **_lookup(target))
    if found is not None:
        services.unfollow(user=request.user, follow=found)
    else:
        follow()
    if request.headers.get("HX-Request"):
        return render(request, "follows/_button.html", button_context(request, target))
    messages.success(request, f"Unfollowed {found.label}." if found else "Followed: see it on your Follows page.")
    return redirect(_back(request, page))


def _lookup(target) -> dict:
    if isinstance(target, Author):
        return {"author": target}
    if isinstance(target, Organization):
        return {"organization": target}
    return {"search_key": target.key}


@_posted
def toggle_author(request: HttpRequest, pk: int) -> HttpResponse:
    author = get_object_or_404(Author, pk=pk)
    return _toggled(request, author, follow=lambda: services.follow_author(user=request.user, author=author),
                    page=author.get_absolute_url())


@_posted
def toggle_organization(request: HttpRequest, slug: str) -> HttpResponse:
    org = get_object_or_404(Organization, slug=slug)
    return _toggled(request, org, follow=lambda: services.follow_organization(user=request.user, organization=org),
                    page=org.get_absolute_url())


@_posted
def toggle_search(request: HttpRequest) -> HttpResponse:
    filters = {name: request.POST[name] for name in selectors.SEARCH_FILTERS if request.POST.get(name)}
    search = selectors.saved_search(query=request.POST.get("q", ""), filters=filters)
    return _toggled(request, search, page=search.url,
                    follow=lambda: services.follow_search(user=request.user, query=search.query, filters=search.params))


@_posted
def unfollow(request: HttpRequest, pk: int) -> HttpResponse:
    follow = selectors.follow_of(user=request.user, pk=pk)
    services.unfollow(user=request.user, follow=follow)
    messages.success(request, f"Unfollowed {follow.label}.")
    return redirect("follows:index")


@_posted
def digest(request: HttpRequest, pk: int) -> HttpResponse:
    follow = selectors.follow_of(user=request.user, pk=pk)
    on = request.POST.get("digest") == "on"
    services.set_digest(user=request.user, follow=follow, digest=on)
    messages.success(request, f"{follow.label}: {'in' if on else 'no longer in'} your email digest.")
    return redirect(f"{reverse('follows:index')}#follow-{follow.pk}")


@_posted
def rotate_token(request: HttpRequest) -> HttpResponse:
    services.rotate_feed_token(user=request.user)
    messages.success(request, "New feed addresses: the old ones no longer work.")
    return redirect("follows:index")
