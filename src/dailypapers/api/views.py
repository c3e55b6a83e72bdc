"""The JSON API paths that Hugging Face's client calls. Errors are {"error": "..."}."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from dailypapers.papers.records import parse_arxiv_id
from dailypapers.papers.selectors import paper_detail
from dailypapers.search.keyword import Filters
from dailypapers.search.selectors import MAX_QUERY_LENGTH, search_papers, similar_papers

from .serializers import author_names, list_item

SEARCH_LIMIT_MAX = 120


def error(message: str, *, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _items(papers) -> list[dict]:
    names = author_names(papers)
    return [list_item(p, authors=names[p.pk]) for p in papers]


@require_GET
def papers_search(request: HttpRequest) -> JsonResponse:
    query = request.GET.get("q", "").strip()
    limit_text = request.GET.get("limit", "50")
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= SEARCH_LIMIT_MAX:
        return error(f"limit must be a whole number from 1 to {SEARCH_LIMIT_MAX}", status=400)
    if not query:
        return error("q is required: the search query", status=400)
    if len(query) > MAX_QUERY_LENGTH:
        return error(f"q is too long: at most {MAX_QUERY_LENGTH} characters", status=400)
    results = search_papers(query=query, filters=Filters(), per_page=int(limit_text))
    return JsonResponse(_items([c.paper for c in results.cards]), safe=False)


@require_GET
def paper_similar(request: HttpRequest, raw_id: str) -> JsonResponse:
    try:
        arxiv_id, _ = parse_arxiv_id(raw_id)
    except ValueError as exc:
        return error(str(exc), status=404)
    paper = paper_detail(arxiv_id=arxiv_id)
    if paper is None:
        return error(f"paper {arxiv_id} not found", status=404)
    limit_text = request.GET.get("limit", "8")
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= 50:
        return error("limit must be a whole number from 1 to 50", status=400)
    return JsonResponse(_items(similar_papers(paper=paper, limit=int(limit_text))), safe=False)
