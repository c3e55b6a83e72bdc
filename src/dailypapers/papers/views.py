"""Pages of the papers app. Thin: parse the URL, call a selector, render."""

from datetime import date

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse

from dailypapers.community import selectors as community_selectors
from dailypapers.community.services import is_org_admin
from dailypapers.pagecache import cached_response
from dailypapers.search.selectors import similar_papers
from dailypapers.search.views import search

from . import selectors
from .models import Author, Organization
from .periods import Period


def _cached(request: HttpRequest, render_page) -> HttpResponse:
    return cached_response(request, render_page)


_URL_NAMES = {"day": "papers:date", "week": "papers:week", "month": "papers:month"}


def _period_links(period: str, start: date, end: date) -> dict:
    """Previous/next links to the nearest periods that have lists, and the tab links."""
    before = selectors.day_before(day=start)
    after = selectors.day_after(day=end)

    def link(day: date | None) -> dict | None:
        if day is None:
            return None
        near = Period.containing(period, day)
        return {"url": reverse(_URL_NAMES[period], args=[near.value]), "label": near.short_label}

    return {
        "previous": link(before),
        "next": link(after),
        "tabs": [
            {"name": name, "active": period == kind,
             "url": reverse(_URL_NAMES[kind], args=[Period.containing(kind, start).value])}
            for name, kind in (("Daily", "day"), ("Weekly", "week"), ("Monthly", "month"))
        ],
    }


def _list_page(request: HttpRequest, *, period: str, start: date, end: date, cards: list, heading: str) -> HttpResponse:
    context = {"period": period, "day": start, "cards": cards, "heading": heading, **_period_links(period, start, end)}
    return render(request, "papers/list.html", context)


def daily(request: HttpRequest) -> HttpResponse:
    """The latest list, or search results when there is a query (`/papers?q=…`, as on Hugging Face)."""
    if request.GET.get("q", "").strip():
        return search(request)

    def page():
        day = selectors.latest_day()
        if day is None:
            return render(request, "papers/list.html", {"period": "day", "cards": [], "empty_site": True})
        return _day_page(request, day)

    return _cached(request, page)


def _period_page(request: HttpRequest, period: Period) -> HttpResponse:
    return _list_page(
        request, period=period.kind, start=period.start, end=period.end,
        cards=selectors.papers_of_period(period=period), heading=period.heading,
    )


def _day_page(request: HttpRequest, day: date) -> HttpResponse:
    return _period_page(request, Period("day", day))


# A bad value raises Refused: the 400 page (dailypapers.views.RefusedMiddleware), never cached.
def by_date(request: HttpRequest, value: str) -> HttpResponse:
    period = Period.parse("day", value)
    return _cached(request, lambda: _period_page(request, period))


def by_week(request: HttpRequest, value: str) -> HttpResponse:
    period = Period.parse("week", value)
    return _cached(request, lambda: _period_page(request, period))


def by_month(request: HttpRequest, value: str) -> HttpResponse:
    period = Period.parse("month", value)
    return _cached(request, lambda: _period_page(request, period))


def trending(request: HttpRequest) -> HttpResponse:
    return _cached(
        request,
        lambda: render(
            request, "papers/list.html",
            {"period": "trending", "cards": selectors.trending(), "formula": selectors.TRENDING_FORMULA},
        ),
    )


def _paper_or_redirect(raw_id: str, suffix: str = ""):
    arxiv_id, version = selectors.arxiv_id_of(raw_id)
    if version is not None or arxiv_id != raw_id:
        return None, redirect(f"/papers/{arxiv_id}{suffix}", permanent=True)
    return selectors.paper_by_raw_id(arxiv_id), None


def paper(request: HttpRequest, raw_id: str) -> HttpResponse:
    paper, redirect_response = _paper_or_redirect(raw_id)
    if redirect_response:
        return redirect_response
    return _cached(
        request,
        lambda: render(
            request,
            "papers/paper.html",
            {
                "paper": paper,
                "authors": [a.author for a in paper.authorships.all()],
                "listings": selectors.paper_listings(paper=paper),
                "similar": similar_papers(paper=paper),
            },
        ),
    )


def paper_markdown(request: HttpRequest, raw_id: str) -> HttpResponse:
    paper, redirect_response = _paper_or_redirect(raw_id, suffix=".md")
    if redirect_response:
        return redirect_response
    body = render_to_string(
        "papers/paper.md", {"paper": paper, "authors": [a.author for a in paper.authorships.all()]}
    )
    return HttpResponse(body, content_type="text/markdown; charset=utf-8")


def author(request: HttpRequest, pk: int) -> HttpResponse:
    author = get_object_or_404(Author, pk=pk)
    cards = [selectors.Card(paper=p) for p in selectors.author_papers(author=author)]
    return render(request, "papers/author.html", {"author": author, "cards": cards})


def organization(request: HttpRequest, slug: str) -> HttpResponse:
    org = get_object_or_404(Organization, slug=slug)
    return render(
        request, "papers/organization.html",
        {
            "organization": org,
            "cards": [selectors.Card(paper=p) for p in selectors.organization_papers(organization=org)],
            "members": community_selectors.members(organization=org),
            "can_manage": request.user.is_staff or is_org_admin(user=request.user, organization=org),
        },
    )
