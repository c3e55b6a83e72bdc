import re

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dailypapers.views import bad_request

from .forms import SearchForm
from .selectors import search_papers


def search(request: HttpRequest) -> HttpResponse:
    """`/papers?q=…`: hybrid search with filters, sorting and pages; the same page with or without JavaScript."""
    form = SearchForm(request.GET)
    if not form.is_valid():
        return bad_request(request, reason=form.error_text())
    data = form.cleaned_data
    results = search_papers(
        query=data["q"], filters=form.filters(), sort=data["sort"] or "relevance", page=data["page"] or 1
    )
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "search/results.html",
        {
            "form": form,
            "results": results,
            "highlight": re.compile(r"\b(?:" + "|".join(map(re.escape, results.terms)) + r")\w*", re.I)
            if results.terms else None,
            "base_query": params.urlencode(),
        },
    )
