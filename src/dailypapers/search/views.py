import re

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from dailypapers.papers.records import parse_arxiv_id
from dailypapers.views import bad_request

from .forms import SearchForm
from .selectors import MAX_QUERY_LENGTH, SearchResults, search_papers


def search(request: HttpRequest) -> HttpResponse:
    """`/papers?q=…`: hybrid search with filters, sorting and pages; the same page with or without JavaScript.

    The address carries only the parameters in use: a plain form submit (which sends every field, empty or not)
    is redirected to it, and an htmx request (search as you type) is told to replace the address with it, so
    typing doesn't add a history entry per keystroke and Back leaves the search.
    """
    form = SearchForm(request.GET)
    if not form.is_valid():
        return bad_request(request, reason=form.error_text())
    address = f"{request.path}?{form.query_string()}"
    is_htmx = request.headers.get("HX-Request") == "true"
    if not is_htmx and [(k, v) for k, values in request.GET.lists() for v in values] != form.params_in_use():
        return redirect(address)
    data = form.cleaned_data
    results = search_papers(
        query=data["q"], filters=form.filters(), sort=data["sort"] or "relevance", page=data["page"] or 1
    )
    no_such_page = results.total > 0 and results.page > results.pages
    response = render(
        request,
        "search/results.html",
        {
            "form": form,
            "results": results,
            "cards": [(card, results.matched.get(card.paper.pk, [])) for card in results.cards],
            "trimmed_note": f"Your query was longer than {MAX_QUERY_LENGTH} characters: only its first "
                            f"{len(data['q'])}, up to the last whole word, were searched." if form.trimmed else "",
            "no_such_page": no_such_page,
            "arxiv_id_to_fetch": _arxiv_id_to_fetch(query=data["q"], results=results),
            "links": {
                "any_page": form.query_string(page=None),
                "last_page": form.query_string(page=results.pages),
                "suggestion": form.query_string(q=results.suggestion, page=None) if results.suggestion else "",
                "corrected": form.query_string(q=results.corrected, page=None) if results.corrected else "",
                "no_filters": form.query_string(**{name: None for name in form.fields if name not in ("q", "sort")}),
            },
            "highlight": re.compile(r"\b(?:" + "|".join(map(re.escape, results.terms)) + r")\w*", re.I)
            if results.terms else None,
        },
        status=404 if no_such_page else 200,
    )
    if is_htmx:
        response["HX-Replace-Url"] = address
    return response


def _arxiv_id_to_fetch(*, query: str, results: SearchResults) -> str:
    """The arXiv id the query is, when we don't hold that paper (one we hold is the exact match)."""
    if results.exact:
        return ""
    try:
        arxiv_id, _ = parse_arxiv_id(query)
    except ValueError:
        return ""
    return arxiv_id
