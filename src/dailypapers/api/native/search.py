"""/api/v1/search: the site's hybrid search, as on the search page."""

from ninja import Query, Router

from dailypapers.errors import Refused
from dailypapers.search.selectors import search_papers

from .. import schemas as s
from . import serializers as out
from .errors import responses

router = Router(tags=["search"])


@router.get("/search", response=responses(s.SearchOut), summary="Hybrid (keyword + semantic) search")
def search_view(request, params: Query[s.SearchParams]):
    query = params.q.strip()
    if not query:
        raise Refused("q is required: the search query")
    results = search_papers(query=query, filters=params.filters(), sort=params.sort, page=params.page,
                            per_page=params.per_page)
    return {
        "query": query, "count": results.total, "page": results.page, "per_page": results.per_page,
        "pages": results.pages, "exact": results.exact, "note": results.note,
        "items": out.papers([c.paper for c in results.cards]),
    }
