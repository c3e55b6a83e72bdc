"""The site's pages that compose apps (papers, search, community). Thin: parse the URL, call selectors, render."""

from datetime import date

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_vary_headers

from dailypapers import pagecache, paging
from dailypapers.community import selectors as community_selectors
from dailypapers.errors import Refused
from dailypapers.pagecache import cached_response
from dailypapers.papers import selectors
from dailypapers.papers.models import Author, Organization
from dailypapers.papers.periods import Period
from dailypapers.papers.records import is_possible_arxiv_id
from dailypapers.search.selectors import similar_papers
from dailypapers.search.views import search


def _cached(request: HttpRequest, render_page, *, scope: str) -> HttpResponse:
    # A list also links to its neighbours: a change to the set of days that have a list is site-wide.
    # ?page= is the only parameter the list pages read (week and month lists come in pages).
    return cached_response(request, render_page, scopes=(scope,), vary=f"page={request.GET.get('page', '')}")


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
    if period == "day":
        context["day_range"] = selectors.list_day_range()
    if period in ("week", "month"):
        try:
            listing = paging.page_of(cards, raw=request.GET.get("page"), size=settings.LIST_PAGE_SIZE)
        except paging.BadPage as exc:
            raise Refused(str(exc)) from None
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


def _period_page(request: HttpRequest, period: Period) -> HttpResponse:
    return _list_page(
        request, period=period.kind, start=period.start, end=period.end,
        cards=selectors.papers_of_period(period=period), heading=period.heading,
    )


def _day_page(request: HttpRequest, day: date) -> HttpResponse:
    return _period_page(request, Period("day", day))


# A bad value raises Refused: the 400 page (dailypapers.views.RefusedMiddleware), never cached.
def _period_view(kind: str):
    def view(request: HttpRequest, value: str) -> HttpResponse:
        period = Period.parse(kind, value)
        return _cached(request, lambda: _period_page(request, period), scope=pagecache.period_scope(kind, period.start))

    view.__name__ = view.__qualname__ = {"day": "by_date", "week": "by_week", "month": "by_month"}[kind]
    return view


by_date, by_week, by_month = _period_view("day"), _period_view("week"), _period_view("month")


def pick_date(request: HttpRequest) -> HttpResponse:
    """The date picker's answer (`?day=YYYY-MM-DD`): that day's list; for a day without one, the
    nearest earlier day's, with a note saying so (before the first list: the day's own page, which
    says there is none and links to the next)."""
    day = Period.parse("day", request.GET.get("day", ""), field="day").start
    if not selectors.has_list(day=day) and (earlier := selectors.day_before(day=day)) is not None:
        messages.info(request, f"No list on {day:%b} {day.day}, {day.year}: this is the nearest earlier one.")
        day = earlier
    return redirect("papers:date", day.isoformat())


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
    arxiv_id, version = selectors.arxiv_id_of(raw_id)
    if not is_possible_arxiv_id(arxiv_id):
        raise Http404(f"“{arxiv_id}” cannot be an arXiv id: no paper was ever numbered so.")
    if version is not None or arxiv_id != raw_id:
        selectors.paper_by_raw_id(raw_id)  # a version beyond the latest known is a 404, not a redirect
        return None, redirect(f"/papers/{arxiv_id}{suffix}", permanent=True)
    return selectors.paper_by_raw_id(arxiv_id), None


def _markdown(paper) -> HttpResponse:
    body = render_to_string(
        "papers/paper.md", {"paper": paper, "authors": [a.author for a in paper.authorships.all()]}
    )
    return HttpResponse(body, content_type="text/markdown; charset=utf-8")


def _wants_markdown(request: HttpRequest) -> bool:
    """Hugging Face answers /papers/<id> with the markdown to `Accept: text/markdown`; a browser's
    Accept (text/html first, */* last) gets the page."""
    return request.get_preferred_type(["text/html", "text/markdown"]) == "text/markdown"


def paper(request: HttpRequest, raw_id: str) -> HttpResponse:
    paper, redirect_response = _paper_or_redirect(raw_id)
    if redirect_response:
        return redirect_response
    markdown = _wants_markdown(request)
    response = cached_response(
        request,
        (lambda: _markdown(paper)) if markdown else lambda: render(
            request,
            "papers/paper.html",
            {
                "paper": paper,
                "authorships": paper.authorships.all(),
                "listings": selectors.paper_listings(paper=paper),
                "similar": similar_papers(paper=paper),
            },
        ),
        # The similar papers' vote counts may lag a vote on one of them by PAGE_CACHE_SECONDS at most:
        # which pages list a paper as similar is not known when it changes.
        scopes=(pagecache.paper_scope(paper.pk),),
        # The two answers to one address are cached apart, and shared caches are told so (Vary).
        vary=f"page={request.GET.get('page', '')}&as={'markdown' if markdown else 'html'}",
    )
    patch_vary_headers(response, ["Accept"])
    return response


def paper_markdown(request: HttpRequest, raw_id: str) -> HttpResponse:
    """The paper as markdown; what is refused (not an id, no such paper or version) is said in plain
    text too, since a program asked."""
    try:
        paper, redirect_response = _paper_or_redirect(raw_id, suffix=".md")
    except (Refused, Http404) as exc:
        status = exc.status if isinstance(exc, Refused) else 404
        return HttpResponse(f"{exc}\n", status=status, content_type="text/plain; charset=utf-8")
    return redirect_response or _markdown(paper)


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
            "can_manage": community_selectors.can_manage_members(user=request.user, organization=org),
        },
    )
