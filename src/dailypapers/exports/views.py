"""BibTeX exports: one paper (`/papers/<id>.bib`), a day's, week's or month's list, trending, and
search results (`/papers.bib?q=…`, the same parameters as the search page). Errors are plain text,
like the files themselves, with the reason."""

from collections.abc import Sequence

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from dailypapers import pagecache
from dailypapers.pagecache import cached_response
from dailypapers.papers import bibtex, periods, selectors
from dailypapers.papers.models import Paper
from dailypapers.papers.records import parse_arxiv_id
from dailypapers.search.forms import SearchForm
from dailypapers.search.selectors import search_papers

CONTENT_TYPE = "application/x-bibtex; charset=utf-8"
# Search results exported at most: a bibliography of the best matches, not the whole index.
MAX_SEARCH_ENTRIES = 100


def _bib(papers: Sequence[Paper], *, filename: str) -> HttpResponse:
    response = HttpResponse(bibtex.bibliography(selectors.bib_papers(papers=papers)), content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'inline; filename="{filename}.bib"'
    return response


def _refuse(reason: str, *, status: int = 400) -> HttpResponse:
    return HttpResponse(reason + "\n", status=status, content_type="text/plain; charset=utf-8")


def paper_bib(request: HttpRequest, raw_id: str) -> HttpResponse:
    try:
        arxiv_id, version = parse_arxiv_id(raw_id)
    except ValueError:
        return _refuse(f"“{raw_id}” is not an arXiv id (e.g. 2401.12345 or hep-th/9901001).", status=404)
    if version is not None or arxiv_id != raw_id:
        return redirect(f"/papers/{arxiv_id}.bib", permanent=True)
    paper = selectors.paper_detail(arxiv_id=arxiv_id)
    if paper is None:
        return _refuse(f"No paper {arxiv_id} here yet.", status=404)
    return cached_response(
        request, lambda: _bib([paper], filename=arxiv_id.replace("/", "_")), scopes={pagecache.paper_scope(paper.pk)}
    )


def _list_bib(request: HttpRequest, *, cards, filename: str, scope: str) -> HttpResponse:
    # Refreshed with the list's page (pagecache.py): a change to one of its papers replaces the scope.
    return cached_response(request, lambda: _bib([c.paper for c in cards()], filename=filename), scopes={scope})


def day_bib(request: HttpRequest, value: str) -> HttpResponse:
    try:
        day = periods.parse_day(value)
    except periods.BadPeriod as exc:
        return _refuse(str(exc))
    return _list_bib(request, cards=lambda: selectors.papers_of_day(day=day), filename=f"daily-papers-{value}",
                     scope=pagecache.day_scope(day))


def week_bib(request: HttpRequest, value: str) -> HttpResponse:
    try:
        monday = periods.parse_week(value)
    except periods.BadPeriod as exc:
        return _refuse(str(exc))
    return _list_bib(request, cards=lambda: selectors.papers_of_week(monday=monday), filename=f"daily-papers-{value}",
                     scope=pagecache.week_scope(monday))


def month_bib(request: HttpRequest, value: str) -> HttpResponse:
    try:
        first = periods.parse_month(value)
    except periods.BadPeriod as exc:
        return _refuse(str(exc))
    return _list_bib(request, cards=lambda: selectors.papers_of_month(first=first), filename=f"daily-papers-{value}",
                     scope=pagecache.month_scope(first))


def trending_bib(request: HttpRequest) -> HttpResponse:
    return _list_bib(request, cards=selectors.trending, filename="trending-papers", scope=pagecache.TRENDING)


def search_bib(request: HttpRequest) -> HttpResponse:
    """The best matches of a search, in rank order (or the sort asked for), up to MAX_SEARCH_ENTRIES."""
    form = SearchForm(request.GET)
    if not form.is_valid():
        return _refuse(form.error_text())
    data = form.cleaned_data
    if not data["q"]:
        return _refuse("Say what to search for: /papers.bib?q=…")
    results = search_papers(
        query=data["q"], filters=form.filters(), sort=data["sort"] or "relevance", per_page=MAX_SEARCH_ENTRIES
    )
    return _bib([c.paper for c in results.cards], filename="search-results")
