"""The JSON API paths that Hugging Face's client calls. Errors are {"error": "..."}."""

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from dailypapers.community import selectors as community_selectors
from dailypapers.errors import Refused
from dailypapers.limits import MAX_USERNAME_LENGTH
from dailypapers.paging import Page
from dailypapers.papers import selectors
from dailypapers.papers.models import DailyEntry, Paper
from dailypapers.papers.periods import Period
from dailypapers.papers.selectors import Card, paper_by_raw_id
from dailypapers.search.keyword import Filters
from dailypapers.search.selectors import MAX_QUERY_LENGTH, search_papers, similar_papers

from .errors import json_refusals
from .ratelimit import anon_rate_limit
from .serializers import Lookups, list_item, paper_info_json, search_item

SEARCH_LIMIT_MAX = 120
SIMILAR_LIMIT_MAX = 50
DAILY_LIMIT_DEFAULT = 50
DAILY_LIMIT_MAX = 100
DAILY_SORTS = ("publishedAt", "trending")
# Far beyond any real list; larger offsets answer [] without asking the database.
MAX_OFFSET = 10_000_000


def lookups(papers: list[Paper], *, entries: dict[int, DailyEntry | None] | None = None) -> Lookups:
    """Everything the serializers read besides the papers, in a fixed number of queries. `entries`:
    the listing each paper is shown with (a daily list's own); by default each paper's first listing."""
    ids = [p.pk for p in papers]
    shown = selectors.first_listings(paper_ids=ids) if entries is None else {
        pk: e for pk, e in entries.items() if e is not None
    }
    return Lookups(
        authors=selectors.paper_authors(papers),
        entries=shown,
        hub_users=selectors.hub_users(names={e.submitter_name for e in shown.values() if e.submitted_by_id is None}),
        claims={(c.paper_id, c.position): c for c in community_selectors.claimed_authorships(paper_ids=ids).values()},
        author_commented=community_selectors.papers_with_author_comments(paper_ids=ids),
    )


def _items(papers: list[Paper]) -> list[dict]:
    found = lookups(papers)
    return [list_item(p, found) for p in papers]


def _card_items(cards: list[Card]) -> list[dict]:
    papers = [c.paper for c in cards]
    found = lookups(papers, entries={c.paper.pk: c.entry for c in cards})
    return [list_item(p, found) for p in papers]


def _whole_number(params, name: str, *, default: int, low: int, high: int | None = None) -> int:
    text = params.get(name, str(default)).strip()
    if not text.isdigit() or int(text) < low or (high is not None and int(text) > high):
        bounds = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise Refused(f"{name} must be a whole number {bounds}; got {text!r}")
    return int(text)


@anon_rate_limit
@require_GET
@json_refusals
def papers_search(request: HttpRequest) -> JsonResponse:
    """Hugging Face's GET /api/papers/search. No query (huggingface_hub's list_papers() sends none)
    matches nothing: an empty list."""
    query = request.GET.get("q", "").strip()
    limit = _whole_number(request.GET, "limit", default=50, low=1, high=SEARCH_LIMIT_MAX)
    if len(query) > MAX_QUERY_LENGTH:
        raise Refused(f"q is too long: at most {MAX_QUERY_LENGTH} characters")
    if not query:
        return JsonResponse([], safe=False)
    papers = [c.paper for c in search_papers(query=query, filters=Filters(), per_page=limit).cards]
    found = lookups(papers)
    return JsonResponse([search_item(p, found, query=query) for p in papers], safe=False)


@anon_rate_limit
@require_GET
@json_refusals
def paper_similar(request: HttpRequest, raw_id: str) -> JsonResponse:
    paper = paper_by_raw_id(raw_id)
    limit = _whole_number(request.GET, "limit", default=8, low=1, high=SIMILAR_LIMIT_MAX)
    return JsonResponse(_items(similar_papers(paper=paper, limit=limit)), safe=False)


# --- /api/daily_papers ------------------------------------------------------

_PERIOD_PARAMETERS = {"date": "day", "week": "week", "month": "month"}


def _submitter_matches(entry: DailyEntry | None, submitter: str) -> bool:
    return entry is not None and entry.submitter_display.lower() == submitter.lower()


def _rescored(cards: list[Card]) -> list[Card]:
    """Cards of a period in trending order, scored as of the period's newest listing (or now)."""
    if not cards:
        return cards
    as_of = min(timezone.now(), max(c.listing.submitted_at for c in cards))
    scored = [
        Card(
            paper=c.paper, entry=c.entry,
            score=selectors.trending_score(
                upvotes=c.paper.upvotes, hours=max((as_of - c.listing.submitted_at).total_seconds() / 3600, 0.0)
            ),
        )
        for c in cards
    ]
    scored.sort(key=lambda c: (-(c.score or 0.0), c.listing.submitted_at))
    return scored


def _latest_entries(*, offset: int, count: int, submitter: str) -> list[Card]:
    """Listings across all days, newest day first and each day in its list order (upvotes, then
    submission time), paged in the database."""
    entries = DailyEntry.objects.select_related("paper__organization", "submitted_by").order_by(
        "-day", "-paper__upvotes", "submitted_at", "pk"
    )
    if submitter:
        username = f"submitted_by__{get_user_model().USERNAME_FIELD}__iexact"
        entries = entries.filter(
            Q(**{username: submitter}) | Q(submitted_by__isnull=True, submitter_name__iexact=submitter)
        )
    return [Card(paper=e.paper, entry=e) for e in entries[offset:offset + count]]


def daily_cards(params, *, offset: int, count: int) -> list[Card]:
    """Up to `count` listings from `offset` for the query parameters (already checked by the caller)."""
    submitter = params.get("submitter", "").strip()
    sort = params.get("sort", "publishedAt")
    named = [name for name in _PERIOD_PARAMETERS if name in params]
    if named:
        name = named[0]
        cards = selectors.papers_of_period(period=Period.parse(_PERIOD_PARAMETERS[name], params[name], field=name))
    elif sort == "trending":
        cards = selectors.trending(limit=MAX_OFFSET)
    else:
        return _latest_entries(offset=offset, count=count, submitter=submitter)
    if submitter:
        cards = [c for c in cards if _submitter_matches(c.entry, submitter)]
    if sort == "trending" and cards and cards[0].score is None:
        cards = _rescored(cards)
    return cards[offset:offset + count]


@anon_rate_limit
@require_GET
@json_refusals
def daily_papers(request: HttpRequest) -> JsonResponse:
    """Hugging Face's GET /api/daily_papers: a day, week or month (default: the newest listings
    across days), optionally one submitter's, by list order or trending; `p` is 0-based."""
    params = request.GET
    limit = _whole_number(params, "limit", default=DAILY_LIMIT_DEFAULT, low=1, high=DAILY_LIMIT_MAX)
    # Hugging Face's `p` counts from 0; the page arithmetic is the site's (dailypapers.paging).
    page = Page(number=_whole_number(params, "p", default=0, low=0) + 1, per_page=limit)
    sort = params.get("sort", "publishedAt")
    if sort not in DAILY_SORTS:
        raise Refused(f"sort must be one of {', '.join(DAILY_SORTS)}; got {sort!r}")
    named = [name for name in _PERIOD_PARAMETERS if name in params]
    if len(named) > 1:
        raise Refused(f"give only one of date, week and month; got {', '.join(named)}")
    if len(params.get("submitter", "")) > MAX_USERNAME_LENGTH:
        raise Refused(f"submitter is too long: at most {MAX_USERNAME_LENGTH} characters")
    # One more than a page, to know whether there is a next page.
    cards = [] if page.offset > MAX_OFFSET else daily_cards(params, offset=page.offset, count=limit + 1)
    response = JsonResponse(_card_items(cards[:limit]), safe=False)
    if len(cards) > limit:
        following = params.copy()
        following["p"] = str(page.number)  # the next page, counted from 0
        response["Link"] = f'<{request.build_absolute_uri(request.path)}?{following.urlencode()}>; rel="next"'
    return response


# --- /api/papers/<id> -------------------------------------------------------


@anon_rate_limit
@require_GET
@json_refusals
def paper_info(request: HttpRequest, raw_id: str) -> JsonResponse:
    """Hugging Face's GET /api/papers/<id>: the `paper` object; a versioned id names the same paper."""
    paper = paper_by_raw_id(raw_id)
    return JsonResponse(paper_info_json(paper, lookups([paper])))
