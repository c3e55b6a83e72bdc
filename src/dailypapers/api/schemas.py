"""Typed shapes of the native API (/api/v1/...), in (query parameters and bodies) and out."""

from datetime import date, datetime
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import AfterValidator

from dailypapers import limits
from dailypapers.paging import Page
from dailypapers.search.keyword import Filters
from dailypapers.search.selectors import MAX_QUERY_LENGTH

MAX_PER_PAGE = 100
MAX_PAGE = 10_000
SEARCH_MAX_PAGE = 100
SEARCH_MAX_PER_PAGE = 50


def _printable(value: str) -> str:
    if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in value):
        raise ValueError("must not contain control characters")
    return value


PRINTABLE = AfterValidator(_printable)

# Request strings: no control characters (PostgreSQL refuses NUL bytes), a bounded length. Spelled out as
# Annotated aliases rather than made by a function, so that type checkers read them as types.
# The lengths are the site's (dailypapers.limits), the same as its forms'.
Category = Annotated[str, Field(max_length=limits.MAX_CATEGORY_LENGTH, pattern=r"^[A-Za-z0-9.\-]*$"), PRINTABLE]
Slug = Annotated[str, Field(max_length=limits.MAX_SLUG_LENGTH, pattern=r"^[-a-zA-Z0-9_]*$"), PRINTABLE]
AuthorName = Annotated[str, Field(max_length=limits.MAX_AUTHOR_NAME_LENGTH), PRINTABLE]
CommentBody = Annotated[str, Field(max_length=limits.MAX_COMMENT_LENGTH, min_length=1), PRINTABLE]
CommentText = Annotated[str, Field(max_length=limits.MAX_COMMENT_LENGTH), PRINTABLE]
ArxivIdInput = Annotated[str, Field(max_length=limits.MAX_ARXIV_ID_INPUT_LENGTH, min_length=1,
                                    description="An arXiv id or URL, e.g. 2401.12345"), PRINTABLE]
SearchQuery = Annotated[str, Field(max_length=MAX_QUERY_LENGTH, min_length=1), PRINTABLE]


# --- in: query parameters ------------------------------------------------------------------------

class PageParams(Schema):
    page: int = Field(1, ge=1, le=MAX_PAGE, description="From 1")
    per_page: int = Field(20, ge=1, le=MAX_PER_PAGE)

    def paging(self) -> Page:
        return Page(number=self.page, per_page=self.per_page)


class PaperFilters(Schema):
    category: Category = Field("", description="An arXiv category, e.g. cs.CL (any of the paper's categories)")
    organization: Slug = Field("", description="An organization's slug")
    author: AuthorName = Field("", description="An author's full name (case-insensitive)")
    published_from: date | None = Field(None, description="Published on or after (YYYY-MM-DD)")
    published_to: date | None = Field(None, description="Published on or before (YYYY-MM-DD)")
    listed: bool | None = Field(None, description="Only papers on some daily list (true) or on none (false)")
    listed_on: date | None = Field(None, description="Only papers on the daily list of this day")
    sort: str = Field("published", pattern="^(published|upvotes)$", description="published (newest first) or upvotes")

    def filters(self) -> Filters:
        return Filters(published_from=self.published_from, published_to=self.published_to, category=self.category,
                       organization=self.organization, author=self.author.strip(), listed_only=self.listed is True)


class SearchParams(Schema):
    q: SearchQuery = Field(..., description="Words, an arXiv id or URL, a DOI or a title")
    category: Category = ""
    organization: Slug = ""
    author: AuthorName = ""
    published_from: date | None = None
    published_to: date | None = None
    listed: bool = Field(False, description="Only papers on some daily list")
    sort: str = Field("relevance", pattern="^(relevance|date|upvotes)$")
    page: int = Field(1, ge=1, le=SEARCH_MAX_PAGE)
    per_page: int = Field(20, ge=1, le=SEARCH_MAX_PER_PAGE)

    def filters(self) -> Filters:
        return Filters(published_from=self.published_from, published_to=self.published_to, category=self.category,
                       organization=self.organization, author=self.author.strip(), listed_only=self.listed)


# --- errors -----------------------------------------------------------------------------------------

class ErrorOut(Schema):
    """Every error, everywhere in the API: a sentence for people, and sometimes details for programs."""

    error: str
    detail: list[dict] | dict | str | None = None


# --- papers ------------------------------------------------------------------------------------------

class OrganizationRef(Schema):
    slug: str
    name: str
    avatar_url: str | None
    url: str


class PaperOut(Schema):
    id: str = Field(description="Versionless arXiv id, e.g. 2401.12345 or hep-th/9901001")
    title: str
    abstract: str
    authors: list[str]
    categories: list[str]
    published_at: datetime | None
    updated_at: datetime | None
    upvotes: int
    num_comments: int
    organization: OrganizationRef | None
    github_repo: str | None
    github_stars: int | None
    project_page: str | None
    ai_summary: str | None = Field(description="Hugging Face's AI summary, as imported")
    ai_keywords: list[str] = Field(description="Hugging Face's keywords, as imported")
    keywords: list[str] = Field(description="The keywords shown: Hugging Face's, else extracted here")
    keywords_from: Literal["huggingface", "extracted"] | None = Field(
        description="huggingface, or extracted from the title and abstract with the site's embedder")
    keywords_model: str | None = Field(description="The embedder that extracted them (keywords_from: extracted)")
    summary: str | None = Field(description="The one-line summary shown: Hugging Face's, else a language model's")
    summary_from: Literal["huggingface", "llm"] | None
    summary_model: str | None = Field(description="The language model that wrote it (summary_from: llm)")
    url: str = Field(description="The paper's page on this site")
    arxiv_url: str
    pdf_url: str


class ListingOut(Schema):
    day: date
    rank: int = Field(description="Position on that day's list, from 1")
    submitted_at: datetime
    submitted_by: str | None


class PaperDetailOut(PaperOut):
    version: int | None
    doi: str | None
    journal_ref: str | None
    comments_locked: bool
    listings: list[ListingOut] = Field(description="Each daily list the paper was on")


class PaperPage(Schema):
    count: int = Field(description="Items in all pages")
    page: int
    per_page: int
    pages: int
    items: list[PaperOut]


class ListedPaperOut(Schema):
    rank: int = Field(description="Position in this list, from 1")
    day: date = Field(description="The daily list the paper is on")
    submitted_at: datetime
    submitted_by: str | None
    trending_score: float | None = Field(description="For trending: upvotes ÷ (hours since listed + 2)^1.5")
    paper: PaperOut


class DailyListOut(Schema):
    period: Literal["day", "week", "month"]
    label: str = Field(description="2026-03-16, 2026-W12 or 2026-03")
    start: date
    end: date
    previous: str | None = Field(
        description="The previous period with papers (days) or the previous period (weeks, months)"
    )
    next: str | None
    count: int
    page: int
    per_page: int
    pages: int
    items: list[ListedPaperOut]


class TrendingOut(Schema):
    formula: str
    count: int
    page: int
    per_page: int
    pages: int
    items: list[ListedPaperOut]


class SearchOut(Schema):
    query: str
    count: int
    page: int
    per_page: int
    pages: int
    exact: bool = Field(description="The query named one paper (arXiv id, URL or DOI)")
    note: str = Field(description="Set when semantic search was unavailable (keyword matches only)")
    items: list[PaperOut]


class SimilarOut(Schema):
    id: str
    items: list[PaperOut]


# --- organizations -----------------------------------------------------------------------------------

class OrganizationOut(Schema):
    slug: str
    name: str
    avatar_url: str | None
    url: str
    paper_count: int


class OrganizationPage(Schema):
    count: int
    page: int
    per_page: int
    pages: int
    items: list[OrganizationOut]


class OrganizationDetailOut(Schema):
    organization: OrganizationOut
    papers: PaperPage


# --- community ---------------------------------------------------------------------------------------

class CommentOut(Schema):
    id: int
    parent_id: int | None
    author: str | None = Field(description="Username; null when the comment was removed")
    body: str = Field(description="Markdown as written; empty when removed")
    body_html: str = Field(description="Rendered and sanitised; empty when removed")
    created_at: datetime
    edited_at: datetime | None
    removed: bool


class CommentPage(Schema):
    count: int
    page: int
    per_page: int
    pages: int
    items: list[CommentOut]


class CommentIn(Schema):
    body: CommentBody
    parent_id: int | None = Field(None, ge=1, le=2**53, description="Reply to this comment")


class VoteOut(Schema):
    id: str
    voted: bool
    upvotes: int


class SubmissionIn(Schema):
    arxiv_id: ArxivIdInput
    comment: CommentText = Field("", description="Posted as the first comment")


class SubmissionOut(Schema):
    day: date
    submitted_at: datetime
    paper: PaperOut


class PendingSubmissionOut(Schema):
    """An unknown paper's submission: the queue fetches it from arXiv; poll status_url."""
    id: int
    arxiv_id: str
    status: str = Field(description="fetching, done or failed")
    error: str = Field(description="Why it failed (empty otherwise)")
    paper_id: str | None = Field(description="The paper, once fetched")
    status_url: str


class MeOut(Schema):
    username: str
    date_joined: datetime
    banned: bool
