"""The JSON API paths that Hugging Face's client calls. Errors are {"error": "..."}."""

from datetime import date

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from dailypapers.papers import periods, selectors
from dailypapers.papers.models import DailyEntry
from dailypapers.papers.periods import BadPeriod
from dailypapers.papers.records import parse_arxiv_id
from dailypapers.papers.selectors import Card, paper_detail
from dailypapers.search.keyword import Filters
from dailypapers.search.selectors import MAX_QUERY_LENGTH, search_papers, similar_papers

from .ratelimit import anon_rate_limit
from .serializers import author_names, list_item, paper_json

SEARCH_LIMIT_MAX = 120
DAILY_LIMIT_DEFAULT = 50
DAILY_LIMIT_MAX = 100
DAILY_SORTS = ("publishedAt", "trending")
# Far beyond any real list; larger offsets answer [] without asking the database.
MAX_OFFSET = 10_000_000


def error(message: str, *, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _items(papers) -> list[dict]:
    names = author_names(papers)
    return [list_item(p, authors=names[p.pk]) for p in papers]


def _card_items(cards: list[Card]) -> list[dict]:
    names = author_names([c.paper for c in cards])
    return [list_item(c.paper, authors=names[c.paper.pk], entry=c.entry) for c in cards]


@anon_rate_limit
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


@anon_rate_limit
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


# --- /api/daily_papers ------------------------------------------------------


class BadParameter(ValueError):
    """A query parameter that is not understood; the message says what to send instead."""


def _period(parse, name: str, value: str) -> date:
    try:
        return parse(value)
    except BadPeriod as exc:
        raise BadParameter(f"{name}: {exc}") from None


def parse_day(value: str) -> date:
    return _period(periods.parse_day, "date", value)


def parse_week(value: str) -> date:
    return _period(periods.parse_week, "week", value)


def parse_month(value: str) -> date:
    return _period(periods.parse_month, "month", value)


def _whole_number(params, name: str, *, default: int, low: int, high: int | None = None) -> int:
    text = params.get(name, str(default)).strip()
    if not text.isdigit() or int(text) < low or (high is not None and int(text) > high):
        bounds = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise BadParameter(f"{name} must be a whole number {bounds}; got {text!r}")
    return int(text)


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
    if "date" in params:
        cards = selectors.papers_of_day(day=parse_day(params["date"]))
    elif "week" in params:
        cards = selectors.papers_of_week(monday=parse_week(params["week"]))
    elif "month" in params:
        cards = selectors.papers_of_month(first=parse_month(params["month"]))
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
def daily_papers(request: HttpRequest) -> JsonResponse:
    """Hugging Face's GET /api/daily_papers: a day, week or month (default: the newest listings
    across days), optionally one submitter's, by list order or trending; `p` is 0-based."""
    params = request.GET
    try:
        limit = _whole_number(params, "limit", default=DAILY_LIMIT_DEFAULT, low=1, high=DAILY_LIMIT_MAX)
        page = _whole_number(params, "p", default=0, low=0)
        sort = params.get("sort", "publishedAt")
        if sort not in DAILY_SORTS:
            raise BadParameter(f"sort must be one of {', '.join(DAILY_SORTS)}; got {sort!r}")
        periods = [name for name in ("date", "week", "month") if name in params]
        if len(periods) > 1:
            raise BadParameter(f"give only one of date, week and month; got {', '.join(periods)}")
        if len(params.get("submitter", "")) > 150:
            raise BadParameter("submitter is too long: at most 150 characters")
        offset = page * limit
        # One more than a page, to know whether there is a next page.
        cards = [] if offset > MAX_OFFSET else daily_cards(params, offset=offset, count=limit + 1)
    except BadParameter as exc:
        return error(str(exc), status=400)
    response = JsonResponse(_card_items(cards[:limit]), safe=False)
    if len(cards) > limit:
        following = params.copy()
        following["p"] = str(page + 1)
        response["Link"] = f'<{request.build_absolute_uri(request.path)}?{following.urlencode()}>; rel="next"'
    return response


# --- /api/papers/<id> -------------------------------------------------------


@anon_rate_limit
@require_GET
def paper_info(request: HttpRequest, raw_id: str) -> JsonResponse:
    """Hugging Face's GET /api/papers/<id>: the `paper` object; a versioned id names the same paper."""
    try:
        arxiv_id, _ = parse_arxiv_id(raw_id)
    except ValueError:
        return error(f"{raw_id!r} is not an arXiv id (e.g. 2401.12345 or hep-th/9901001)", status=404)
    paper = paper_detail(arxiv_id=arxiv_id)
    if paper is None:
        return error(f"paper {arxiv_id} not found", status=404)
    first_listing = paper.daily_entries.select_related("submitted_by").order_by("day", "submitted_at").first()
    authors = [a.author.name for a in paper.authorships.all()]
    return JsonResponse(paper_json(paper, authors=authors, entry=first_listing))
