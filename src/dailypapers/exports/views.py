"""BibTeX exports: one paper (`/papers/<id>.bib`), a day's, week's or month's list, trending, and
search results (`/papers.bib?q=…`, the same parameters as the search page). Errors are plain text,
like the files themselves, with the reason."""

from collections.abc import Sequence

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from dailypapers import pagecache
from dailypapers.errors import answered_by
from dailypapers.pagecache import cached_response
from dailypapers.papers import bibtex, selectors
from dailypapers.papers.models import Paper
from dailypapers.papers.periods import Period
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


# A refusal (dailypapers.errors.Refused) answered as plain text, like the files, not as the HTML error page.
_text_refusals = answered_by(lambda refused: _refuse(refused.message, status=refused.status))


@_text_refusals
def paper_bib(request: HttpRequest, raw_id: str) -> HttpResponse:
    arxiv_id, version = selectors.arxiv_id_of(raw_id)
    if version is not None or arxiv_id != raw_id:
        return redirect(f"/papers/{arxiv_id}.bib", permanent=True)
    paper = selectors.paper_by_raw_id(arxiv_id)
    return cached_response(
        request, lambda: _bib([paper], filename=arxiv_id.replace("/", "_")), scopes={pagecache.paper_scope(paper.pk)}
    )


def _list_bib(request: HttpRequest, *, cards, filename: str, scope: str) -> HttpResponse:
    # Refreshed with the list's page (pagecache.py): a change to one of its papers replaces the scope.
    return cached_response(request, lambda: _bib([c.paper for c in cards()], filename=filename), scopes={scope})


def _period_bib(request: HttpRequest, kind: str, value: str) -> HttpResponse:
    period = Period.parse(kind, value)
    return _list_bib(request, cards=lambda: selectors.papers_of_period(period=period), filename=f"daily-papers-{value}",
                     scope=pagecache.period_scope(period.kind, period.start))


@_text_refusals
def day_bib(request: HttpRequest, value: str) -> HttpResponse:
    return _period_bib(request, "day", value)


@_text_refusals
def week_bib(request: HttpRequest, value: str) -> HttpResponse:
    return _period_bib(request, "week", value)


@_text_refusals
def month_bib(request: HttpRequest, value: str) -> HttpResponse:
    return _period_bib(request, "month", value)


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
