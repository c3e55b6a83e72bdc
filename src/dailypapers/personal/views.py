"""The For you page and its actions. Thin: parse, call a selector or service, render."""

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from dailypapers.papers.models import Paper
from dailypapers.papers.records import parse_arxiv_id
from dailypapers.views import bad_request, limit_posts

from . import selectors, services


def _signed_in(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            back = request.get_full_path() if request.method == "GET" else reverse("personal:for_you")
            return redirect_to_login(back)
        return view(request, *args, **kwargs)

    return wrapper


def _paper(raw_id: str) -> Paper:
    try:
        arxiv_id, _ = parse_arxiv_id(raw_id)
    except ValueError:
        raise Http404(f"“{raw_id}” is not an arXiv id.") from None
    return get_object_or_404(Paper, arxiv_id=arxiv_id)


def _period(request: HttpRequest) -> str | None:
    period = request.GET.get("period", selectors.DEFAULT_PERIOD)
    return period if period in selectors.PERIODS else None


@_signed_in
def for_you(request: HttpRequest) -> HttpResponse:
    period = _period(request)
    if period is None:
        return bad_request(request, reason="period must be day, week or month.")
    feed = selectors.for_you(user=request.user, period=period)
    if not feed.cold_start:
        services.record_impressions(user=request.user, paper_ids=[c.paper.pk for c in feed.cards], known=feed.shown)
    tabs = [{"name": label, "active": period == name, "url": f"{reverse('personal:for_you')}?period={name}"}
            for name, label in (("day", "Daily"), ("week", "Weekly"), ("month", "Monthly"))]
    response = render(request, "personal/for_you.html", {
        "feed": feed, "cards": feed.cards, "tabs": tabs, "period": period,
        "fade_after": selectors.FADE_AFTER_IMPRESSIONS, "card_extra_template": "personal/_card_extra.html",
    })
    response["Cache-Control"] = "private, no-store"
    return response


def _back(request: HttpRequest) -> str:
    back = request.POST.get("next", "")
    return back if back.startswith("/") and not back.startswith("//") else reverse("personal:for_you")


def _mark(request: HttpRequest, raw_id: str, *, write, fragment: str, message: str) -> HttpResponse:
    """Not interested and its undo: the write, then the card's new state (htmx) or the page again."""
    paper = _paper(raw_id)
    write(user=request.user, paper=paper)
    if request.headers.get("HX-Request"):
        return render(request, fragment, {"paper": paper})
    messages.success(request, message.format(title=paper.title))
    return redirect(_back(request))


@require_POST
@_signed_in
@limit_posts("RATE_VOTE")
def not_interested(request: HttpRequest, raw_id: str) -> HttpResponse:
    return _mark(request, raw_id, write=services.not_interested, fragment="personal/_hidden.html",
                 message="Hidden “{title}”: similar papers now rank lower.")


@require_POST
@_signed_in
@limit_posts("RATE_VOTE")
def undo_not_interested(request: HttpRequest, raw_id: str) -> HttpResponse:
    return _mark(request, raw_id, write=services.undo_not_interested, fragment="personal/_undone.html",
                 message="“{title}” is back in For you.")


@require_POST
@_signed_in
@limit_posts("RATE_VOTE")
def filters(request: HttpRequest) -> HttpResponse:
    try:
        services.save_filters(user=request.user, include=request.POST.get("include", ""),
                              exclude=request.POST.get("exclude", ""))
    except services.BadFilters as exc:
        return bad_request(request, reason=str(exc))
    messages.success(request, "Filters saved.")
    return redirect(_back(request))
