"""The site's pages that compose apps (papers, search, community). Thin: parse the URL, call selectors, render."""

from datetime import date, timedelta

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse

from dailypapers import pagecache
from dailypapers.community import selectors as community_selectors
from dailypapers.community.services import is_org_admin
from dailypapers.pagecache import cached_response
from dailypapers.papers import paging, periods, selectors
from dailypapers.papers.models import Author, Organization
from dailypapers.papers.records import is_possible_arxiv_id, parse_arxiv_id
from dailypapers.search.selectors import similar_papers
from dailypapers.search.views import search
from dailypapers.views import bad_request


def _cached(request: HttpRequest, render_page, *, scope: str) -> HttpResponse:
    # A list also links to its neighbours: a change to the set of days that have a list is site-wide.
    # ?page= is the only parameter the list pages read (week and month lists come in pages).
    return cached_response(request, render_page, scopes=(scope,), vary=f"page={request.GET.get('page', '')}")


def _week_label(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _period_links(period: str, start: date, end: date) -> dict:
    """Previous/next links to the nearest periods that have lists, and the tab links."""
    before = selectors.day_before(day=start)
    after = selectors.day_after(day=end)
    url_name, to_value, label = {
        "day": ("papers:date", lambda d: d.isoformat(), lambda d: d.strftime("%b %-d")),
        "week": ("papers:week", _week_label, lambda d: "Week " + _week_label(d).split("-W")[1]),
        "month": ("papers:month", lambda d: d.strftime("%Y-%m"), lambda d: d.strftime("%b %Y")),
    }[period]
    return {
        "previous": before and {"url": reverse(url_name, args=[to_value(before)]), "label": label(before)},
        "next": after and {"url": reverse(url_name, args=[to_value(after)]), "label": label(after)},
        "tabs": [
            {"name": "Daily", "active": period == "day", "url": reverse("papers:date", args=[start.isoformat()])},
            {"name": "Weekly", "active": period == "week", "url": reverse("papers:week", args=[_week_label(start)])},
            {"name": "Monthly", "active": period == "month",
             "url": reverse("papers:month", args=[start.strftime("%Y-%m")])},
        ],
    }


def _list_page(request: HttpRequest, *, period: str, start: date, end: date, cards: list, heading: str) -> HttpResponse:
    context = {"period": period, "day": start, "cards": cards, "heading": heading, **_period_links(period, start, end)}
    if period in ("week", "month"):
        try:
            listing = paging.page_of(cards, raw=request.GET.get("page"), size=settings.LIST_PAGE_SIZE)
        except paging.BadPage as exc:
            return bad_request(request, reason=str(exc))
        except paging.NoSuchPage as exc:
            raise Http404(str(exc)) from None
        context.update(cards=listing.items, listing=listing)
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

    return _cached(request, page, scope=pagecache.LATEST)


def by_date(request: HttpRequest, value: str) -> HttpResponse:
    try:
        day = periods.parse_day(value)
    except periods.BadPeriod as exc:
        return bad_request(request, reason=str(exc))
    return _cached(request, lambda: _day_page(request, day), scope=pagecache.day_scope(day))


def _day_page(request: HttpRequest, day: date) -> HttpResponse:
    return _list_page(
        request, period="day", start=day, end=day,
        cards=selectors.papers_of_day(day=day), heading=day.strftime("%b %-d, %Y"),
    )


def by_week(request: HttpRequest, value: str) -> HttpResponse:
    try:
        monday = periods.parse_week(value)
    except periods.BadPeriod as exc:
        return bad_request(request, reason=str(exc))
    _, week, _ = monday.isocalendar()
    sunday = monday + timedelta(days=6)
    heading = f"Week {week:02d}, {monday.isocalendar()[0]} · {monday:%b %-d} – {sunday:%b %-d}"
    return _cached(
        request,
        lambda: _list_page(
            request, period="week", start=monday, end=sunday,
            cards=selectors.papers_of_week(monday=monday), heading=heading,
        ),
        scope=pagecache.week_scope(monday),
    )


def by_month(request: HttpRequest, value: str) -> HttpResponse:
    try:
        first = periods.parse_month(value)
    except periods.BadPeriod as exc:
        return bad_request(request, reason=str(exc))
    last = periods.month_end(first)
    return _cached(
        request,
        lambda: _list_page(
            request, period="month", start=first, end=last,
            cards=selectors.papers_of_month(first=first), heading=first.strftime("%B %Y"),
        ),
        scope=pagecache.month_scope(first),
    )


def trending(request: HttpRequest) -> HttpResponse:
    return _cached(
        request,
        lambda: render(
            request, "papers/list.html",
            {"period": "trending", "cards": selectors.trending(), "formula": selectors.TRENDING_FORMULA},
        ),
        scope=pagecache.TRENDING,
    )


def _paper_or_redirect(raw_id: str, suffix: str = ""):
    try:
        arxiv_id, version = parse_arxiv_id(raw_id)
    except ValueError:
        raise Http404(f"“{raw_id}” is not an arXiv id (e.g. 2401.12345 or hep-th/9901001).") from None
    if not is_possible_arxiv_id(arxiv_id):
        raise Http404(f"“{arxiv_id}” cannot be an arXiv id: no paper was ever numbered so.")
    if version is not None or arxiv_id != raw_id:
        return None, redirect(f"/papers/{arxiv_id}{suffix}", permanent=True)
    paper = selectors.paper_detail(arxiv_id=arxiv_id)
    if paper is None:
        raise Http404(f"No paper {arxiv_id} here yet.")
    return paper, None


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
        # The similar papers' vote counts may lag a vote on one of them by PAGE_CACHE_SECONDS at most:
        # which pages list a paper as similar is not known when it changes.
        scope=pagecache.paper_scope(paper.pk),
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
