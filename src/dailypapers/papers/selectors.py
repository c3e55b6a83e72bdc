"""Reads of papers and daily lists. Views call these; nothing here writes."""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Max, Min, Prefetch, Q, QuerySet
from django.utils import timezone

from dailypapers.errors import Refused

from .bibtex import BibPaper
from .models import Author, Authorship, DailyEntry, HubUser, Organization, Paper
from .periods import Period
from .records import parse_arxiv_id

# Trending: score = upvotes / (hours since listed + 2) ** 1.5, over papers listed
# in the 7 days up to the newest listing (so a site that has paused, like the demo,
# still has a meaningful trending page).
TRENDING_WINDOW = timedelta(days=7)
TRENDING_GRAVITY = 1.5
TRENDING_FORMULA = "upvotes ÷ (hours since listed + 2)^1.5, over papers listed in the last 7 days"


def card_papers() -> QuerySet[Paper]:
    """Papers with what a card shows, in a fixed number of queries."""
    return Paper.objects.select_related("organization").annotate(author_count=Count("authorships"))


@dataclass(frozen=True)
class Card:
    """A paper as listed: the paper and its daily entry (when listed on a day)."""

    paper: Paper
    entry: DailyEntry | None = None
    score: float | None = None

    @property
    def listing(self) -> DailyEntry:
        """The entry of a card from a daily list, which always has one."""
        if self.entry is None:
            raise ValueError(f"{self.paper.arxiv_id} is not listed here")
        return self.entry


def _entries(*, start: date, end: date) -> list[Card]:
    """Papers listed on days start..end inclusive, by upvotes then submission time, each paper once."""
    return [Card(paper=e.paper, entry=e) for e in _first_entries(start=start, end=end)]


def _first_entries(*, start: date, end: date) -> list[DailyEntry]:
    """Each paper's first entry on days start..end inclusive, by upvotes then submission time."""
    entries = (
        DailyEntry.objects.filter(day__gte=start, day__lte=end)
        .select_related("submitted_by")
        .prefetch_related(Prefetch("paper", queryset=card_papers()))
        .order_by("submitted_at")
    )
    first_entry: dict[int, DailyEntry] = {}
    for entry in entries:
        first_entry.setdefault(entry.paper_id, entry)
    return sorted(first_entry.values(), key=lambda e: (-e.paper.upvotes, e.submitted_at))


def papers_of_period(*, period: Period) -> list[Card]:
    return _entries(start=period.start, end=period.end)


def papers_of_day(*, day: date) -> list[Card]:
    return papers_of_period(period=Period("day", day))


def papers_of_week(*, monday: date) -> list[Card]:
    return papers_of_period(period=Period("week", monday))


def papers_of_month(*, first: date) -> list[Card]:
    return papers_of_period(period=Period("month", first))


def latest_day() -> date | None:
    return DailyEntry.objects.aggregate(day=Max("day"))["day"]


def list_day_range() -> tuple[date, date] | None:
    """The first and the last day that have a list (the date picker's bounds), or None."""
    span = DailyEntry.objects.aggregate(first=Min("day"), last=Max("day"))
    return None if span["first"] is None else (span["first"], span["last"])


def has_list(*, day: date) -> bool:
    return DailyEntry.objects.filter(day=day).exists()


def day_before(*, day: date) -> date | None:
    """The nearest earlier day that has a list (weekends and gaps skipped)."""
    return DailyEntry.objects.filter(day__lt=day).aggregate(day=Max("day"))["day"]


def day_after(*, day: date) -> date | None:
    return DailyEntry.objects.filter(day__gt=day).aggregate(day=Min("day"))["day"]


def trending(*, now: datetime | None = None, limit: int = 50) -> list[Card]:
    newest = DailyEntry.objects.aggregate(at=Max("submitted_at"))["at"]
    if newest is None:
        return []
    as_of = min(now or timezone.now(), newest)
    scored: list[tuple[float, DailyEntry]] = []
    for entry in _first_entries(start=(as_of - TRENDING_WINDOW).date(), end=as_of.date()):
        hours = max((as_of - entry.submitted_at).total_seconds() / 3600, 0.0)
        scored.append((trending_score(upvotes=entry.paper.upvotes, hours=hours), entry))
    scored.sort(key=lambda s: (-s[0], s[1].submitted_at))
    return [Card(paper=entry.paper, entry=entry, score=score) for score, entry in scored[:limit]]


def trending_score(*, upvotes: int, hours: float) -> float:
    return upvotes / math.pow(hours + 2, TRENDING_GRAVITY)


def paper_detail(*, arxiv_id: str) -> Paper | None:
    return (
        Paper.objects.select_related("organization")
        .prefetch_related("authorships__author")
        .filter(arxiv_id=arxiv_id)
        .first()
    )


def arxiv_id_of(raw_id: str) -> tuple[str, int | None]:
    """(versionless id, version) of an arXiv id or URL as a visitor wrote it; refused with 404
    otherwise (the address names nothing)."""
    try:
        return parse_arxiv_id(raw_id)
    except ValueError:
        raise Refused.not_found(
            f"“{raw_id[:100]}” is not an arXiv id (e.g. 2401.12345 or hep-th/9901001).", code="not_an_arxiv_id"
        ) from None


def paper_by_raw_id(raw_id: str) -> Paper:
    """The paper an arXiv id or URL names, any version up to its latest known one, with its authors
    (paper_detail); refused with 404 when it is not an id, the paper is not here or the version is
    beyond the latest we know. Every page and API that takes an id from the
    address looks the paper up here."""
    arxiv_id, version = arxiv_id_of(raw_id)
    paper = paper_detail(arxiv_id=arxiv_id)
    if paper is None:
        raise Refused.not_found(f"No paper {arxiv_id} here yet.", code="no_such_paper")
    if version is not None and paper.version is not None and version > paper.version:
        raise Refused.not_found(
            f"{arxiv_id} has no version {version}: the latest arXiv version known here is v{paper.version}.",
            code="no_such_version",
        )
    return paper


def author_names(papers: list[Paper]) -> dict[int, list[str]]:
    """Ordered author names of many papers in one query: list serializers (the native API, feeds,
    digests) read them here; the HF-compatible API reads paper_authors (ids too, for claims)."""
    names: dict[int, list[str]] = {p.pk: [] for p in papers}
    rows = Authorship.objects.filter(paper__in=[p.pk for p in papers]).order_by("paper_id", "position")
    for paper_id, name in rows.values_list("paper_id", "author__name"):
        names[paper_id].append(name)
    return names


def paper_authors(papers: list[Paper]) -> dict[int, list[tuple[int, str]]]:
    """Ordered (author id, name) of many papers in one query, for serializers that link authors to claims."""
    authors: dict[int, list[tuple[int, str]]] = {p.pk: [] for p in papers}
    rows = Authorship.objects.filter(paper__in=[p.pk for p in papers]).order_by("paper_id", "position")
    for paper_id, author_id, name in rows.values_list("paper_id", "author_id", "author__name"):
        authors[paper_id].append((author_id, name))
    return authors


def hub_users(*, names: set[str]) -> dict[str, HubUser]:
    """The Hugging Face profiles of imported submitters, by name (one query)."""
    return HubUser.objects.in_bulk([n for n in names if n], field_name="name") if any(names) else {}


def first_listings(*, paper_ids: list[int]) -> dict[int, DailyEntry]:
    """Each paper's first daily listing (with its submitter), for the ones that have one: one query."""
    first: dict[int, DailyEntry] = {}
    entries = DailyEntry.objects.filter(paper_id__in=paper_ids).select_related("submitted_by")
    for entry in entries.order_by("paper_id", "day", "submitted_at"):
        first.setdefault(entry.paper_id, entry)
    return first


def detail_author_names(paper: Paper) -> list[str]:
    """Author names of a paper from paper_detail (its authorships are prefetched: no query)."""
    return [a.author.name for a in paper.authorships.all()]


@dataclass(frozen=True)
class Listing:
    """One day a paper was on the list, and its rank that day."""

    entry: DailyEntry
    rank: int


def paper_listings(*, paper: Paper) -> list[Listing]:
    """Each day the paper was listed, with its rank that day (the day's list order), in one query."""
    entries = list(paper.daily_entries.select_related("submitted_by").order_by("day"))
    ahead = _papers_ahead(paper=paper, entries=entries)
    return [Listing(entry=e, rank=ahead.get(e.day, 0) + 1) for e in entries]


def _papers_ahead(*, paper: Paper, entries: list[DailyEntry]) -> dict:
    """For each day: how many papers of that day's list come before this one."""
    if not entries:
        return {}
    condition = Q()
    for entry in entries:
        # Same order as the day's list: more upvotes, or as many and submitted earlier.
        condition |= Q(day=entry.day) & (
            Q(paper__upvotes__gt=paper.upvotes) | Q(paper__upvotes=paper.upvotes, submitted_at__lt=entry.submitted_at)
        )
    return dict(DailyEntry.objects.filter(condition).values("day").annotate(n=Count("pk")).values_list("day", "n"))


def author_papers(*, author: Author) -> QuerySet[Paper]:
    return card_papers().filter(authorships__author=author).order_by("-published_at")


def organization_papers(*, organization: Organization) -> QuerySet[Paper]:
    return card_papers().filter(organization=organization).order_by("-published_at")


def bib_papers(*, papers: Sequence[Paper]) -> list[BibPaper]:
    """What BibTeX entries need of these papers, in their order, with their authors in one query."""
    names = author_names(list(papers))
    return [
        BibPaper(
            arxiv_id=p.arxiv_id, title=p.title, authors=names[p.pk],
            year=p.published_at.year if p.published_at else None,
            primary_category=p.primary_category or (p.categories[0] if p.categories else ""), doi=p.doi,
            published=p.published_at.date() if p.published_at else None,
        )
        for p in papers
    ]
