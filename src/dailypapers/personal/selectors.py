"""Reads for For you: one ranking for the page, the API and the personal digest.

Only ids, upvotes, listing times and vectors of the window's papers are read to rank them; the
full cards (organization, author count, entry) are fetched for the page's papers only, so the cost
grows with the window's size in cheap rows, not in cards.
"""

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
from django.conf import settings
from django.core.cache import caches
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.module_loading import import_string

from dailypapers.collections.models import CollectionItem
from dailypapers.community.models import Vote
from dailypapers.follows.selectors import followed_author_paper_ids, followed_authors_of, follows_authors
from dailypapers.papers import selectors as paper_selectors
from dailypapers.papers.models import DailyEntry, Paper
from dailypapers.papers.selectors import card_papers
from dailypapers.search.models import PaperVector

from . import ranking
from .models import FeedFilters, Impression, NotInterested

PERIODS = ("day", "week", "month")
DEFAULT_PERIOD = "week"
# How far back each tab reaches, counted in calendar days up to the newest list.
PERIOD_DAYS = {"day": 1, "week": 7, "month": 30}
# 30 cards: rendering a card costs about 1 ms of CPU, so a longer page would miss the 50 ms target at 75k papers.
PAGE_SIZE = 30
# A paper shown on this many separate visits without an upvote, save or Not interested fades:
# it is drawn dimmed and sinks below every paper that has not faded.
FADE_AFTER_IMPRESSIONS = 3
FADE_PENALTY = 10.0
# Profile papers: the most recent upvotes and saves, so one old burst of votes does not pin the feed.
MAX_PROFILE = 500
CANDIDATE_CACHE_SECONDS = 60


@dataclass(frozen=True)
class Reason:
    """Why a card is here: by an author the user follows (`author`, source "followed"), or the
    profile paper it is nearest to and how it got into the profile."""

    arxiv_id: str = ""
    title: str = ""
    source: str = ""  # "upvoted", "saved" or "followed"
    author: str = ""  # the followed author's name (source "followed")


@dataclass(frozen=True)
class ForYouCard:
    paper: Paper
    entry: DailyEntry | None
    score: float | None = None  # shown as the trending score by the shared card template: left None
    rank_score: float = 0.0
    reason: Reason | None = None
    faded: bool = False
    impressions: int = 0


@dataclass
class ForYou:
    period: str
    start: date | None
    end: date | None
    cards: list[ForYouCard] = field(default_factory=list)
    cold_start: bool = False  # no profile yet: trending, with an invitation to pick papers
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    total: int = 0  # candidates after filters, before the page cut


def model_id() -> str:
    # The class attribute, so rendering a page never loads the embedding model.
    return import_string(settings.DAILYPAPERS_EMBEDDER).model_id


def parse_keywords(text: str) -> list[str]:
    """'RL, speech ,  diffusion models' -> ['rl', 'speech', 'diffusion models'] (lowercased, deduplicated)."""
    return list(dict.fromkeys(w.strip().lower() for w in re.split(r"[,\n]", text or "") if w.strip()))


def _keyword_pattern(words: list[str]) -> re.Pattern | None:
    # Whole words (or phrases), so "RL" does not match "world".
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE) if words else None


def filters_of(*, user) -> tuple[list[str], list[str]]:
    row = FeedFilters.objects.filter(user=user).first()
    return (parse_keywords(row.include), parse_keywords(row.exclude)) if row else ([], [])


def _vectors(rows) -> tuple[dict[int, int], np.ndarray]:
    """(paper id -> row, matrix of unit rows) from PaperVector rows (paper id, blob): one
    frombuffer over the joined blobs rather than one array per paper."""
    rows = list(rows)
    if not rows:
        return {}, np.zeros((0, 1), np.float32)
    matrix = np.frombuffer(b"".join(blob for _, blob in rows), dtype=np.float32).reshape(len(rows), -1)
    return {pk: i for i, (pk, _) in enumerate(rows)}, ranking.normalise(matrix)


def _vector_rows(**condition):
    return PaperVector.objects.filter(model_id=model_id(), **condition).values_list("paper_id", "vector")


def profile_of(*, user) -> dict[int, str]:
    """paper id -> "upvoted" or "saved", the most recent first (an upvote names the reason when both)."""
    saved = CollectionItem.objects.filter(collection__owner=user, collection__is_default=True)
    sources: dict[int, tuple] = {}
    for pk, at in saved.order_by("-added_at").values_list("paper_id", "added_at")[:MAX_PROFILE]:
        sources[pk] = (at, "saved")
    votes = Vote.objects.filter(user=user).order_by("-created_at")
    for pk, at in votes.values_list("paper_id", "created_at")[:MAX_PROFILE]:
        sources[pk] = (at, "upvoted")
    ordered = sorted(sources.items(), key=lambda item: item[1][0], reverse=True)[:MAX_PROFILE]
    return {pk: source for pk, (_, source) in ordered}


def window(*, period: str, now: datetime | None = None) -> tuple[date, date] | None:
    """The days a tab covers, ending at the newest list (a site that paused still has a feed)."""
    newest = DailyEntry.objects.aggregate(day=Max("day"))["day"]
    if newest is None:
        return None
    end = min((now or timezone.now()).date(), newest)
    if period == "day":
        end = DailyEntry.objects.filter(day__lte=end).aggregate(day=Max("day"))["day"] or end
    return end - timedelta(days=PERIOD_DAYS[period] - 1), end


@dataclass(frozen=True)
class Candidates:
    """A window's papers in first-listing order: ids, upvotes and their unit vectors."""

    ids: np.ndarray
    upvotes: np.ndarray
    rows: dict[int, int]  # paper id -> row of matrix
    matrix: np.ndarray
    where: np.ndarray | None = None  # for each id, its row of matrix or -1 (no vector yet)
    by_listing: bool = True  # ids in listing order, oldest first: the recency prior applies


def candidates_listed(*, start: date, end: date) -> Candidates:
    """The papers listed start..end, each once, oldest listing first, with their vectors.

    The same for every user, so kept per process (the local cache) under a key that changes when
    a paper joins or leaves the window (entry count and highest entry id); upvotes, which only
    feed the popularity prior, may be up to CANDIDATE_CACHE_SECONDS old."""
    stamp = DailyEntry.objects.filter(day__gte=start, day__lte=end).aggregate(n=Count("pk"), top=Max("pk"))
    key = f"for-you:candidates:{model_id()}:{start}:{end}:{stamp['n']}:{stamp['top']}"
    found = caches["local"].get(key)
    if found is None:
        found = _candidates_listed(start=start, end=end)
        caches["local"].set(key, found, CANDIDATE_CACHE_SECONDS)
    return found


def _candidates_listed(*, start: date, end: date) -> Candidates:
    # Two queries, both joined on the window (no id lists sent back to the database).
    first: dict[int, int] = {}
    for pk, upvotes in (DailyEntry.objects.filter(day__gte=start, day__lte=end).order_by("submitted_at")
                        .values_list("paper_id", "paper__upvotes")):
        first.setdefault(pk, upvotes)
    rows, matrix = _vectors(_vector_rows(paper__daily_entries__day__gte=start, paper__daily_entries__day__lte=end))
    return Candidates(ids=np.fromiter(first.keys(), dtype=np.int64, count=len(first)),
                      upvotes=np.fromiter(first.values(), dtype=np.float64, count=len(first)), rows=rows, matrix=matrix,
                      where=np.array([rows.get(pk, -1) for pk in first], dtype=np.int64))


def candidates_of(papers: list[Paper]) -> Candidates:
    rows, matrix = _vectors(_vector_rows(paper_id__in=[p.pk for p in papers]))
    return Candidates(ids=np.array([p.pk for p in papers], dtype=np.int64),
                      upvotes=np.array([p.upvotes for p in papers], dtype=np.float64), rows=rows, matrix=matrix,
                      by_listing=False)


def rank(*, user, candidates: Candidates, profile: dict[int, str], negatives: list[int],
         impressions: dict[int, int] | None = None, keep: set[int] | None = None,
         followed: Collection[int] = (), limit: int | None = None,
         profile_vectors: tuple[dict[int, int], np.ndarray] | None = None,
         ) -> tuple[list[tuple[int, float, int | None, bool]], int]:
    """((paper id, score, nearest profile paper id, faded) best first, at most `limit`; how many
    were ranked). Papers in the profile or marked Not interested are left out; `keep`, when given,
    is the set of papers the keyword filters let through; `followed`, the papers by authors the user
    follows; `profile_vectors`, the profile's vectors when the caller has read them already."""
    mask = ~np.isin(candidates.ids, np.array([*profile, *negatives], dtype=np.int64))
    if keep is not None:
        mask &= np.isin(candidates.ids, np.array(list(keep), dtype=np.int64))
    ids, upvotes = candidates.ids[mask], candidates.upvotes[mask]
    if not len(ids):
        return [], 0
    profile_rows, profile_matrix = profile_vectors or _vectors(_vector_rows(paper_id__in=list(profile)))
    profile_ids = list(profile_rows)
    negative_rows, negative_matrix = _vectors(_vector_rows(paper_id__in=negatives)) if negatives else ({}, None)
    dim = candidates.matrix.shape[1] if candidates.rows else profile_matrix.shape[1]
    # A paper without a vector has a zero row: interest 0, still ordered by popularity.
    where = (candidates.where if candidates.where is not None
             else np.array([candidates.rows.get(pk, -1) for pk in candidates.ids.tolist()], dtype=np.int64))[mask]
    matrix = np.zeros((len(ids), dim), np.float32)
    if candidates.rows:
        matrix[where >= 0] = candidates.matrix[where[where >= 0]]
    recency = np.arange(len(ids), dtype=np.float64) / max(len(ids) - 1, 1) if candidates.by_listing else None
    scores, nearest = ranking.scores(
        candidates=matrix, profile=profile_matrix if profile_ids else np.zeros((0, dim), np.float32),
        upvotes=upvotes, recency=recency, negatives=negative_matrix if negative_rows else None,
        followed=np.isin(ids, np.array(list(followed), dtype=np.int64)) if followed else None,
    )
    tired = [pk for pk, count in (impressions or {}).items() if count >= FADE_AFTER_IMPRESSIONS]
    faded = np.isin(ids, np.array(tired, dtype=np.int64))
    scores = scores - FADE_PENALTY * faded
    order = np.argsort(-scores, kind="stable")[:limit]
    out = [(int(ids[i]), float(scores[i]), profile_ids[nearest[i]] if nearest[i] >= 0 and where[i] >= 0 else None,
            bool(faded[i])) for i in order]
    return out, len(ids)


def _passing(ids, include: list[str], exclude: list[str]) -> set[int] | None:
    """The papers among these whose title or abstract passes the keyword filters (None: no filters)."""
    if not include and not exclude:
        return None
    wanted, unwanted = _keyword_pattern(include), _keyword_pattern(exclude)
    texts = Paper.objects.filter(pk__in=[int(pk) for pk in ids]).values_list("pk", "title", "abstract")
    return {pk for pk, title, abstract in texts
            if (wanted is None or wanted.search(f"{title}\n{abstract}"))
            and not (unwanted and unwanted.search(f"{title}\n{abstract}"))}


def _cards(ranked: list[tuple[int, float, int | None, bool]], *, start: date, end: date, profile: dict[int, str],
           impressions: dict[int, int], followed: dict[int, str]) -> list[ForYouCard]:
    ids = [row[0] for row in ranked]
    papers = card_papers().in_bulk(ids)
    entries: dict[int, DailyEntry] = {}
    listed = DailyEntry.objects.filter(paper_id__in=ids, day__gte=start, day__lte=end)
    for entry in listed.select_related("submitted_by").order_by("submitted_at"):
        entries.setdefault(entry.paper_id, entry)
    near_ids = {row[2] for row in ranked if row[2] is not None}
    near = {pk: (arxiv_id, title) for pk, arxiv_id, title in
            Paper.objects.filter(pk__in=near_ids).values_list("pk", "arxiv_id", "title")}
    cards = []
    for pk, score, nearest, faded in ranked:
        if pk not in papers:
            continue
        reason = (Reason(source="followed", author=followed[pk]) if pk in followed
                  else Reason(arxiv_id=near[nearest][0], title=near[nearest][1], source=profile[nearest])
                  if nearest in near else None)
        cards.append(ForYouCard(paper=papers[pk], entry=entries.get(pk), rank_score=score, reason=reason, faded=faded,
                                impressions=impressions.get(pk, 0)))
    return cards


def for_you(*, user, period: str = DEFAULT_PERIOD, now: datetime | None = None, limit: int = PAGE_SIZE) -> ForYou:
    """The user's For you list for a tab: the window's papers by interest, or trending for a new user."""
    include, exclude = filters_of(user=user)
    span = window(period=period, now=now)
    if span is None:
        return ForYou(period=period, start=None, end=None, include=include, exclude=exclude, cold_start=True)
    start, end = span
    profile = profile_of(user=user)
    negatives = list(NotInterested.objects.filter(user=user).values_list("paper_id", flat=True))
    profile_vectors = _vectors(_vector_rows(paper_id__in=list(profile)) if profile else [])
    if not profile_vectors[0]:  # no profile paper has a vector yet: nothing to rank by
        return _cold_start(period=period, start=start, end=end, now=now, limit=limit, negatives=negatives,
                           include=include, exclude=exclude)
    candidates = candidates_listed(start=start, end=end)
    keep = _passing(candidates.ids.tolist(), include, exclude)
    impressions = dict(Impression.objects.filter(user=user, paper__daily_entries__day__gte=start,
                                                 paper__daily_entries__day__lte=end).values_list("paper_id", "count"))
    # The candidates by followed authors: one more query, made only for a user who follows an author.
    followed = followed_authors_of(user=user, paper_ids=candidates.ids.tolist()) if follows_authors(user=user) else {}
    ranked, total = rank(user=user, candidates=candidates, profile=profile, negatives=negatives,
                         impressions=impressions, keep=keep, followed=followed.keys(), limit=limit,
                         profile_vectors=profile_vectors)
    return ForYou(period=period, start=start, end=end, include=include, exclude=exclude, total=total,
                  cards=_cards(ranked, start=start, end=end, profile=profile, impressions=impressions,
                               followed=followed))


def _cold_start(*, period, start, end, now, limit, negatives, include, exclude) -> ForYou:
    hidden = set(negatives)
    trending = [c for c in paper_selectors.trending(now=now, limit=limit + len(hidden)) if c.paper.pk not in hidden]
    keep = _passing([c.paper.pk for c in trending], include, exclude)
    cards = [ForYouCard(paper=c.paper, entry=c.entry, rank_score=c.score or 0.0) for c in trending
             if keep is None or c.paper.pk in keep]
    return ForYou(period=period, start=start, end=end, include=include, exclude=exclude, cold_start=True,
                  cards=cards[:limit], total=len(cards))


def rank_papers(*, user, papers: list[Paper]) -> list[Paper]:
    """These papers in the user's For you order (the personal digest): profile papers and papers
    marked Not interested left out, papers by followed authors lifted; with no profile yet, as given."""
    profile = profile_of(user=user)
    if not profile:
        return papers
    negatives = list(NotInterested.objects.filter(user=user).values_list("paper_id", flat=True))
    followed = followed_author_paper_ids(user=user, paper_ids=[p.pk for p in papers]) if follows_authors(user=user) \
        else set()
    ranked, _ = rank(user=user, candidates=candidates_of(papers), profile=profile, negatives=negatives,
                     followed=followed)
    by_pk = {p.pk: p for p in papers}
    return [by_pk[pk] for pk, *_ in ranked]
