"""The native JSON API (django-ninja): /api/v1/..., OpenAPI at /api/openapi.json, docs at /api/docs.

Reads are open to everyone (anonymous clients within API_ANON_RATE per address); votes,
submissions and comments need a personal API token (`Authorization: Bearer <token>`, made on
/settings/tokens). Lists are paged with `page` (from 1) and `per_page`, and answer `count`
and `pages`. Every error is {"error": "sentence", "detail": optional}.
"""

import re
import threading
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone
from typing import Annotated

from django.conf import settings as django_settings
from django.db.models import Count, Exists, OuterRef
from django.http import Http404, HttpRequest
from django.urls import register_converter
from django_ratelimit.core import is_ratelimited
from ninja import NinjaAPI, Query, Router, Status
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError
from ninja.security import HttpBearer
from ninja.throttling import BaseThrottle

from dailypapers.community import services as community
from dailypapers.community.models import Ban, Comment, PendingSubmission, Vote
from dailypapers.papers import selectors
from dailypapers.papers.models import Authorship, DailyEntry, Organization, Paper
from dailypapers.papers.records import parse_arxiv_id
from dailypapers.search.keyword import Filters
from dailypapers.search.selectors import MAX_QUERY_LENGTH, search_papers, similar_papers

from . import schemas as s
from .ratelimit import anon_rate, seconds_to_wait
from .serializers import author_names
from .services import user_for_token
from .views import BadParameter, parse_day, parse_month, parse_week


class AnyText:
    """A path parameter that takes the rest of the path, newlines and slashes included (old-style arXiv
    ids contain a slash), so every value reaches the view and gets a JSON answer."""

    regex = r"[\s\S]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(AnyText, "anytext")

# --- errors --------------------------------------------------------------------------------------


class ApiError(Exception):
    def __init__(self, status: int, message: str, detail=None, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.detail, self.headers = status, message, detail, headers


def not_found(message: str) -> ApiError:
    return ApiError(404, message)


# --- auth and the anonymous limit ---------------------------------------------------------------


class TokenAuth(HttpBearer):
    """A personal API token. Unknown or revoked tokens are refused (401)."""

    def authenticate(self, request: HttpRequest, token: str):
        user = getattr(request, "_api_token_user", None) or user_for_token(token.strip())
        if user is None:
            return None
        request._api_token_user = user  # type: ignore[attr-defined]  # a memo shared with the rate limiter
        request.user = user
        return user


token_auth = TokenAuth()


class AnonymousLimit(BaseThrottle):
    """API_ANON_RATE per client address for requests without a valid token (django-ratelimit's counter)."""

    _local = threading.local()

    def allow_request(self, request: HttpRequest) -> bool:
        self._local.wait = seconds_to_wait(request)
        return self._local.wait is None

    def wait(self):
        return getattr(self._local, "wait", None)


api = NinjaAPI(
    title="dailypapers API",
    version="1",
    description=(
        "The native API of this Daily Papers site. Reads are public (anonymous clients: at most "
        "API_ANON_RATE requests per address, default 500 per 5 minutes); votes, submissions and comments "
        "need a personal API token sent as `Authorization: Bearer <token>` (create one on /settings/tokens). "
        "Errors are always `{\"error\": \"…\"}`, sometimes with `detail`. The Hugging Face-compatible "
        "paths (/api/daily_papers, /api/papers/search, /api/papers/{id}) are separate and not listed here."
    ),
    urls_namespace="api:native",  # "native", inside api/urls.py's app namespace "api"
    openapi_url="openapi.json",
    docs_url="docs",
    throttle=[AnonymousLimit()],
)


def _error(request, status: int, message: str, detail=None, headers: dict | None = None):
    body = {"error": message}
    if detail is not None:
        body["detail"] = detail
    response = api.create_response(request, body, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _loc(loc) -> str:
    parts = [str(p) for p in loc if p not in ("query", "path", "body", "filters", "data")]
    return ".".join(parts) or "request"


@api.exception_handler(ValidationError)
def _on_validation_error(request, exc: ValidationError):
    detail = [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in exc.errors
    ]
    summary = "; ".join(f"{_loc(d['loc'])}: {d['msg']}" for d in detail[:5]) or "the request was not understood"
    return _error(request, 422, f"Invalid request: {summary}", detail)


@api.exception_handler(ApiError)
def _on_api_error(request, exc: ApiError):
    return _error(request, exc.status, exc.message, exc.detail, headers=exc.headers)


@api.exception_handler(BadParameter)
def _on_bad_parameter(request, exc: BadParameter):
    return _error(request, 400, str(exc))


@api.exception_handler(Http404)
def _on_404(request, exc: Http404):
    return _error(request, 404, str(exc) or "Not found.")


@api.exception_handler(community.Refused)
def _on_refused(request, exc: community.Refused):
    return _error(request, 403, str(exc))


@api.exception_handler(AuthenticationError)
def _on_unauthenticated(request, exc: AuthenticationError):
    return _error(
        request, 401,
        "A valid API token is needed: send `Authorization: Bearer <token>` (create one on /settings/tokens). "
        "Unknown and revoked tokens are refused.",
        headers={"WWW-Authenticate": 'Bearer realm="dailypapers"'},
    )


@api.exception_handler(Throttled)
def _on_throttled(request, exc: Throttled):
    wait = max(int(exc.wait or 1), 1)
    return _error(
        request,
        429,
        f"Too many requests from your address: at most {anon_rate()} without an API token. "
        f"Try again in {wait} seconds.",
        headers={"Retry-After": str(wait)},
    )


@api.exception_handler(HttpError)
def _on_http_error(request, exc: HttpError):
    return _error(request, exc.status_code, str(exc))


# Every operation may answer these, documented so clients (and schemathesis) expect them.
COMMON_ERRORS = {400, 422, 429}
AUTH_ERRORS = {401, 403}


def responses(ok, *, ok_status: int = 200, errors: Iterable[int] = ()) -> dict:
    return {ok_status: ok, frozenset(COMMON_ERRORS | set(errors)): s.ErrorOut}


# --- shaping -------------------------------------------------------------------------------------


def _organization_ref(org: Organization | None) -> dict | None:
    if org is None:
        return None
    return {"slug": org.slug, "name": org.name, "avatar_url": org.avatar_src or None, "url": org.get_absolute_url()}


def _paper(paper: Paper, authors: list[str]) -> dict:
    return {
        "id": paper.arxiv_id,
        "title": paper.title,
        "abstract": paper.abstract,
        "authors": authors,
        "categories": [str(c) for c in (paper.categories or [])],
        "published_at": paper.published_at,
        "updated_at": paper.updated_at,
        "upvotes": paper.upvotes,
        "num_comments": paper.num_comments,
        "organization": _organization_ref(paper.organization),
        "github_repo": paper.github_repo or None,
        "github_stars": paper.github_stars,
        "project_page": paper.project_page or None,
        "ai_summary": paper.ai_summary or None,
        "ai_keywords": [str(k) for k in (paper.ai_keywords or [])],
        "url": paper.get_absolute_url(),
        "arxiv_url": paper.abs_url,
        "pdf_url": paper.pdf_url,
    }


def _papers(papers: list[Paper]) -> list[dict]:
    names = author_names(papers)
    return [_paper(p, names[p.pk]) for p in papers]


def _listed(cards: list[selectors.Card], *, first_rank: int) -> list[dict]:
    names = author_names([c.paper for c in cards])
    return [
        {
            "rank": first_rank + i,
            "day": c.listing.day,
            "submitted_at": c.listing.submitted_at,
            "submitted_by": c.listing.submitter_display or None,
            "trending_score": c.score,
            "paper": _paper(c.paper, names[c.paper.pk]),
        }
        for i, c in enumerate(cards)
    ]


class PageParams(s.Schema):
    page: int = s.Field(1, ge=1, le=s.MAX_PAGE, description="From 1")
    per_page: int = s.Field(20, ge=1, le=s.MAX_PER_PAGE)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def _paging(count: int, params: PageParams) -> dict:
    return {"count": count, "page": params.page, "per_page": params.per_page,
            "pages": max(1, -(-count // params.per_page))}


def _paper_or_404(raw_id: str) -> Paper:
    try:
        arxiv_id, _ = parse_arxiv_id(raw_id)
    except ValueError:
        raise not_found(f"{raw_id[:100]!r} is not an arXiv id (e.g. 2401.12345 or hep-th/9901001).") from None
    paper = selectors.paper_detail(arxiv_id=arxiv_id)
    if paper is None:
        raise not_found(f"Paper {arxiv_id} is not on this site.")
    return paper


# --- papers --------------------------------------------------------------------------------------

SearchQuery = Annotated[str, s.Field(max_length=MAX_QUERY_LENGTH, min_length=1), s.PRINTABLE]


class PaperFilters(s.Schema):
    category: s.Category = s.Field("", description="An arXiv category, e.g. cs.CL (any of the paper's categories)")
    organization: s.Slug = s.Field("", description="An organization's slug")
    author: s.AuthorName = s.Field("", description="An author's full name (case-insensitive)")
    published_from: date | None = s.Field(None, description="Published on or after (YYYY-MM-DD)")
    published_to: date | None = s.Field(None, description="Published on or before (YYYY-MM-DD)")
    listed: bool | None = s.Field(None, description="Only papers on some daily list (true) or on none (false)")
    listed_on: date | None = s.Field(None, description="Only papers on the daily list of this day")
    sort: str = s.Field("published", pattern="^(published|upvotes)$", description="published (newest first) or upvotes")


router = Router(tags=["papers"])


@router.get("/papers", response=responses(s.PaperPage), summary="Papers, filtered and paged")
def list_papers(request, filters: Query[PaperFilters], paging: Query[PageParams]):
    papers = Paper.objects.all()
    if filters.category:
        papers = papers.filter(categories__icontains=f'"{filters.category}"')
    if filters.organization:
        papers = papers.filter(organization__slug=filters.organization)
    if author := filters.author.strip():
        papers = papers.filter(Exists(Authorship.objects.filter(paper=OuterRef("pk"), author__name__iexact=author)))
    if filters.published_from:
        papers = papers.filter(
            published_at__gte=datetime.combine(filters.published_from, time.min, tzinfo=dt_timezone.utc)
        )
    if filters.published_to:
        papers = papers.filter(published_at__date__lte=filters.published_to)
    if filters.listed is not None:
        on_a_list = Exists(DailyEntry.objects.filter(paper=OuterRef("pk")))
        papers = papers.filter(on_a_list if filters.listed else ~on_a_list)
    if filters.listed_on:
        papers = papers.filter(Exists(DailyEntry.objects.filter(paper=OuterRef("pk"), day=filters.listed_on)))
    order = ("-published_at", "-pk") if filters.sort == "published" else ("-upvotes", "-published_at", "-pk")
    count = papers.count()
    page = list(
        selectors.card_papers()
        .filter(pk__in=papers.values("pk"))
        .order_by(*order)[paging.offset : paging.offset + paging.per_page]
    )
    return {**_paging(count, paging), "items": _papers(page)}


# Paths below take the rest of the URL as the id (old-style ids contain a slash), so the ones
# with a suffix come before the plain one.

@router.get("/papers/{anytext:arxiv_id}/similar", response=responses(s.SimilarOut, errors={404}),
            summary="The nearest papers by meaning")
def paper_similar(request, arxiv_id: str, limit: int = Query(8, ge=1, le=50)):
    paper = _paper_or_404(arxiv_id)
    return {"id": paper.arxiv_id, "items": _papers(similar_papers(paper=paper, limit=limit))}


@router.get("/papers/{anytext:arxiv_id}/comments", response=responses(s.CommentPage, errors={404}),
            tags=["community"], summary="A paper's comments, oldest first (replies name their parent)")
def list_comments(request, arxiv_id: str, paging: Query[PageParams]):
    paper = _paper_or_404(arxiv_id)
    comments = Comment.objects.filter(paper=paper).select_related("author").order_by("created_at", "pk")
    count = comments.count()
    return {
        **_paging(count, paging),
        "items": [_comment(c) for c in comments[paging.offset : paging.offset + paging.per_page]],
    }


def _comment(comment: Comment) -> dict:
    visible = comment.visible
    return {
        "id": comment.pk,
        "parent_id": comment.parent_id,
        "author": comment.author.get_username() if visible else None,
        "body": comment.body if visible else "",
        "body_html": comment.body_html if visible else "",
        "created_at": comment.created_at,
        "edited_at": comment.edited_at,
        "removed": not visible,
    }


@router.post("/papers/{anytext:arxiv_id}/comments", auth=token_auth, tags=["community"],
             response=responses(s.CommentOut, ok_status=201, errors={404} | AUTH_ERRORS),
             summary="Comment on a paper, or reply to a comment (token needed)")
def post_comment(request, arxiv_id: str, data: s.CommentIn):
    _limit_writes(request, "RATE_COMMENT")
    paper = _paper_or_404(arxiv_id)
    parent = None
    if data.parent_id is not None:
        parent = Comment.objects.filter(pk=data.parent_id).first()
        if parent is None:
            raise not_found(f"There is no comment {data.parent_id}.")
    comment = community.post_comment(user=request.auth, paper=paper, body=data.body, parent=parent)
    comment.author = request.auth
    return Status(201, _comment(comment))


_PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _limit_writes(request, setting: str) -> None:
    """The community's per-user write limits (RATE_VOTE, RATE_COMMENT, RATE_SUBMIT) apply to API writes too."""
    rate = getattr(django_settings, setting)
    if is_ratelimited(
        request, group=f"api-{setting}", key=lambda group, req: str(req.auth.pk), rate=rate, increment=True
    ):
        period = rate.split("/")[-1]
        seconds = int(period[:-1] or 1) * _PERIOD_SECONDS.get(period[-1], 60)
        raise ApiError(429, f"Too many requests: at most {rate}. Try again in {seconds} seconds.",
                       headers={"Retry-After": str(seconds)})


def _vote(request, arxiv_id: str, *, want: bool) -> dict:
    _limit_writes(request, "RATE_VOTE")
    paper = _paper_or_404(arxiv_id)
    community.ensure_can_post(request.auth)
    voted = Vote.objects.filter(user=request.auth, paper=paper).exists()
    upvotes = Paper.objects.values_list("upvotes", flat=True).get(pk=paper.pk)
    if voted != want:
        voted, upvotes = community.toggle_vote(user=request.auth, paper=paper)
    return {"id": paper.arxiv_id, "voted": voted, "upvotes": upvotes}


@router.post("/papers/{anytext:arxiv_id}/vote", auth=token_auth, tags=["community"],
             response=responses(s.VoteOut, errors={404} | AUTH_ERRORS),
             summary="Upvote a paper (token needed; idempotent)")
def vote(request, arxiv_id: str):
    return _vote(request, arxiv_id, want=True)


@router.delete("/papers/{anytext:arxiv_id}/vote", auth=token_auth, tags=["community"],
               response=responses(s.VoteOut, errors={404} | AUTH_ERRORS),
               summary="Take an upvote back (token needed; idempotent)")
def unvote(request, arxiv_id: str):
    return _vote(request, arxiv_id, want=False)


@router.get("/papers/{anytext:arxiv_id}", response=responses(s.PaperDetailOut, errors={404}), summary="One paper")
def paper_detail(request, arxiv_id: str):
    paper = _paper_or_404(arxiv_id)
    data = _paper(paper, [a.author.name for a in paper.authorships.all()])
    data.update(
        version=paper.version, doi=paper.doi or None, journal_ref=paper.journal_ref or None,
        comments_locked=paper.comments_locked,
        listings=[
            {"day": li.entry.day, "rank": li.rank, "submitted_at": li.entry.submitted_at,
             "submitted_by": li.entry.submitter_display or None}
            for li in selectors.paper_listings(paper=paper)
        ],
    )
    return data


# --- daily lists and trending --------------------------------------------------------------------

lists = Router(tags=["daily lists"])
_EARLIEST, _LATEST = date(1900, 1, 1), date(2999, 12, 31)


def _in_range(start: date, label: str) -> date:
    if not _EARLIEST <= start <= _LATEST:
        raise BadParameter(f"{label} is out of range: years 1900 to 2999")
    return start


def _daily_list(
    period: str, label: str, start: date, end: date, cards, previous, following, paging: PageParams
) -> dict:
    page = cards[paging.offset:paging.offset + paging.per_page]
    return {
        "period": period, "label": label, "start": start, "end": end, "previous": previous, "next": following,
        **_paging(len(cards), paging), "items": _listed(page, first_rank=paging.offset + 1),
    }


@lists.get("/daily/latest", response=responses(s.DailyListOut, errors={404}), summary="The newest daily list")
def daily_latest(request, paging: Query[PageParams]):
    day = selectors.latest_day()
    if day is None:
        raise not_found("There are no daily lists yet.")
    return daily(request, day.isoformat(), paging)


@lists.get("/daily/{anytext:day}", response=responses(s.DailyListOut), summary="The list of one day (YYYY-MM-DD)")
def daily(request, day: str, paging: Query[PageParams]):
    start = _in_range(parse_day(day), "date")
    before, after = selectors.day_before(day=start), selectors.day_after(day=start)
    return _daily_list(
        "day", start.isoformat(), start, start, selectors.papers_of_day(day=start),
        before.isoformat() if before else None, after.isoformat() if after else None, paging,
    )


def _week_label(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


@lists.get("/weekly/{anytext:week}", response=responses(s.DailyListOut), summary="The papers of an ISO week (YYYY-Www)")
def weekly(request, week: str, paging: Query[PageParams]):
    monday = _in_range(parse_week(week), "week")
    return _daily_list(
        "week", _week_label(monday), monday, monday + timedelta(days=6), selectors.papers_of_week(monday=monday),
        _week_label(monday - timedelta(days=7)), _week_label(monday + timedelta(days=7)), paging,
    )


@lists.get("/monthly/{anytext:month}", response=responses(s.DailyListOut), summary="The papers of a month (YYYY-MM)")
def monthly(request, month: str, paging: Query[PageParams]):
    first = _in_range(parse_month(month), "month")
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    previous = (first - timedelta(days=1)).replace(day=1)
    return _daily_list(
        "month", f"{first:%Y-%m}", first, following - timedelta(days=1), selectors.papers_of_month(first=first),
        f"{previous:%Y-%m}", f"{following:%Y-%m}", paging,
    )


@lists.get("/trending", response=responses(s.TrendingOut), summary="Trending papers")
def trending(request, paging: Query[PageParams]):
    cards = selectors.trending(limit=10_000_000)
    page = cards[paging.offset:paging.offset + paging.per_page]
    return {"formula": selectors.TRENDING_FORMULA, **_paging(len(cards), paging),
            "items": _listed(page, first_rank=paging.offset + 1)}


# --- search --------------------------------------------------------------------------------------

search = Router(tags=["search"])


class SearchParams(s.Schema):
    q: SearchQuery = s.Field(..., description="Words, an arXiv id or URL, a DOI or a title")
    category: s.Category = ""
    organization: s.Slug = ""
    author: s.AuthorName = ""
    published_from: date | None = None
    published_to: date | None = None
    listed: bool = s.Field(False, description="Only papers on some daily list")
    sort: str = s.Field("relevance", pattern="^(relevance|date|upvotes)$")
    page: int = s.Field(1, ge=1, le=100)
    per_page: int = s.Field(20, ge=1, le=50)


@search.get("/search", response=responses(s.SearchOut), summary="Hybrid (keyword + semantic) search")
def search_view(request, params: Query[SearchParams]):
    query = params.q.strip()
    if not query:
        raise BadParameter("q is required: the search query")
    filters = Filters(
        published_from=params.published_from, published_to=params.published_to, category=params.category,
        organization=params.organization, author=params.author.strip(), listed_only=params.listed,
    )
    results = search_papers(query=query, filters=filters, sort=params.sort, page=params.page, per_page=params.per_page)
    return {
        "query": query, "count": results.total, "page": results.page, "per_page": results.per_page,
        "pages": results.pages, "exact": results.exact, "note": results.note,
        "items": _papers([c.paper for c in results.cards]),
    }


# --- organizations -------------------------------------------------------------------------------

orgs = Router(tags=["organizations"])


def _organization(org: Organization, paper_count: int) -> dict:
    return {**(_organization_ref(org) or {}), "paper_count": paper_count}


@orgs.get("/organizations", response=responses(s.OrganizationPage), summary="Organizations, by name")
def list_organizations(request, paging: Query[PageParams]):
    organizations = Organization.objects.annotate(paper_count=Count("papers")).order_by("name", "pk")
    count = organizations.count()
    page = organizations[paging.offset:paging.offset + paging.per_page]
    return {**_paging(count, paging), "items": [_organization(o, o.paper_count) for o in page]}


@orgs.get("/organizations/{anytext:slug}", response=responses(s.OrganizationDetailOut, errors={404}),
          summary="An organization and its papers, newest first")
def organization_detail(request, slug: str, paging: Query[PageParams]):
    org = Organization.objects.filter(slug=slug).first() if re.fullmatch(r"[-a-zA-Z0-9_]{1,100}", slug) else None
    if org is None:
        raise not_found(f"There is no organization {slug[:100]!r}.")
    papers = selectors.organization_papers(organization=org).order_by("-published_at", "-pk")
    count = papers.count()
    page = list(papers[paging.offset:paging.offset + paging.per_page])
    return {"organization": _organization(org, count), "papers": {**_paging(count, paging), "items": _papers(page)}}


# --- submissions and the token's user ------------------------------------------------------------

me = Router(tags=["community"])


@me.post("/submissions", auth=token_auth,
         response={**responses(s.SubmissionOut, ok_status=201, errors=AUTH_ERRORS), 202: s.PendingSubmissionOut},
         summary="Submit an arXiv paper to today's list (token needed); 202 while an unknown paper is fetched")
def submit(request, data: s.SubmissionIn):
    _limit_writes(request, "RATE_SUBMIT")
    entry = community.request_submission(user=request.auth, raw_id=data.arxiv_id, comment=data.comment)
    if isinstance(entry, PendingSubmission):
        return Status(202, _pending(entry))
    paper = selectors.paper_detail(arxiv_id=entry.paper.arxiv_id) or entry.paper  # just submitted: it is there
    return Status(201, {"day": entry.day, "submitted_at": entry.submitted_at,
                        "paper": _paper(paper, [a.author.name for a in paper.authorships.all()])})


@me.get("/submissions/{submission_id}", auth=token_auth,
        response=responses(s.PendingSubmissionOut, errors=AUTH_ERRORS | {404}),
        summary="Where a submission of an unknown paper stands (its submitter's token)")
def submission_status(request, submission_id: int):
    pending = PendingSubmission.objects.filter(pk=submission_id, user=request.auth).select_related("paper").first()
    if pending is None:
        raise not_found(f"You have no submission {submission_id}.")
    return _pending(pending)


def _pending(pending: PendingSubmission) -> dict:
    return {"id": pending.pk, "arxiv_id": pending.arxiv_id, "status": pending.status, "error": pending.error,
            "paper_id": pending.paper.arxiv_id if pending.paper else None,
            "status_url": f"/api/v1/submissions/{pending.pk}"}


@me.get("/me", auth=token_auth, response=responses(s.MeOut, errors=AUTH_ERRORS), summary="The token's user")
def whoami(request):
    user = request.auth
    return {"username": user.get_username(), "date_joined": user.date_joined,
            "banned": Ban.objects.filter(user=user).exists()}


for each in (router, lists, search, orgs, me):
    api.add_router("/v1/", each)
