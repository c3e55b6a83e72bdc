"""Reads for For you: one ranking for the page, the API and the personal digest.

Only ids, upvotes, listing times and vectors of the window's papers are read to rank them; the
full cards (organization, author count, entry) are fetched for the page's papers only, so the cost
grows with the window's size in cheap rows, not in cards.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
from django.conf import settings
from django.db.models import Max, Prefetch
from django.utils import timezone
from django.utils.module_loading import import_string

from dailypapers.collections.models import CollectionItem
from dailypapers.community.models import Vote
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
PAGE_SIZE = 50
# A paper shown on this many separate visits without an upvote, save or Not interested fades:
# it is drawn dimmed and sinks below every paper that has not faded.
FADE_AFTER_IMPRESSIONS = 3
FADE_PENALTY = 10.0
# Profile papers: the most recent upvotes and saves, so one old burst of votes does not pin the feed.
MAX_PROFILE = 500


@dataclass(frozen=True)
class Reason:
    """Why a card is here: the profile paper it is nearest to and how it got into the profile."""

    arxiv_id: str
    title: str
    source: str  # "upvoted" or "saved"


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


def _vectors(ids) -> dict[int, np.ndarray]:
    rows = PaperVector.objects.filter(paper_id__in=ids, model_id=model_id()).values_list("paper_id", "vector")
    return {pk: np.frombuffer(blob, dtype=np.float32) for pk, blob in rows}


def _matrix(ids: list[int], vectors: dict[int, np.ndarray]) -> tuple[list[int], np.ndarray]:
    kept = [pk for pk in ids if pk in vectors]
    if not kept:
        return [], np.zeros((0, 1), np.float32)
    return kept, ranking.normalise(np.vstack([vectors[pk] for pk in kept]))


def profile_of(*, user) -> dict[int, str]:
    """paper id -> "upvoted" or "saved", the most recent first (an upvote names the reason when both)."""
    saved = CollectionItem.objects.filter(collection__owner=user, collection__is_default=True)
    sources: dict[int, tuple] = {}
    for pk, at in saved.order_by("-added_at").values_list("paper_id", "added_at")[:MAX_PROFILE]:
        sources[pk] = (at, "saved")
    for pk, at in Vote.objects.filter(user=user).order_by("-created_at").values_list("paper_id", "created_at")[:MAX_PROFILE]:
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


def rank(*, user, candidates: list[tuple[int, int, datetime]], profile: dict[int, str],
         negatives: list[int], impressions: dict[int, int] | None = None) -> list[tuple[int, float, int | None, bool]]:
    """(paper id, score, nearest profile paper id, faded) for candidates given as (paper id, upvotes,
    listed at), best first. Papers in the profile or marked Not interested are left out."""
    skip = set(profile) | set(negatives)
    candidates = [c for c in candidates if c[0] not in skip]
    if not candidates:
        return []
    ids = [c[0] for c in candidates]
    vectors = _vectors([*ids, *profile, *negatives])
    profile_ids, profile_matrix = _matrix(list(profile), vectors)
    _, negative_matrix = _matrix(list(negatives), vectors)
    dim = next(iter(vectors.values())).shape[0] if vectors else 1
    zero = np.zeros(dim, np.float32)  # a paper without a vector: interest 0, still ordered by popularity
    matrix = np.vstack([vectors.get(pk, zero) for pk in ids])
    matrix = ranking.normalise(matrix)
    times = np.array([c[2].timestamp() for c in candidates])
    span = times.max() - times.min()
    recency = (times - times.min()) / span if span > 0 else np.zeros(len(ids))
    scores, nearest = ranking.scores(
        candidates=matrix, profile=profile_matrix if profile_ids else np.zeros((0, dim), np.float32),
        upvotes=np.array([c[1] for c in candidates]), recency=recency,
        negatives=negative_matrix if len(negatives) and negative_matrix.shape[0] else None,
    )
    impressions = impressions or {}
    out = []
    for i, pk in enumerate(ids):
        faded = impressions.get(pk, 0) >= FADE_AFTER_IMPRESSIONS
        score = float(scores[i]) - (FADE_PENALTY if faded else 0.0)
        near = profile_ids[nearest[i]] if nearest[i] >= 0 and pk in vectors else None
        out.append((pk, score, near, faded))
    out.sort(key=lambda row: -row[1])
    return out


def _candidates(*, start: date, end: date) -> list[tuple[int, int, datetime]]:
    """(paper id, upvotes, first listing time) of the papers listed start..end, each paper once."""
    first: dict[int, tuple[int, int, datetime]] = {}
    rows = (DailyEntry.objects.filter(day__gte=start, day__lte=end).order_by("submitted_at")
            .values_list("paper_id", "paper__upvotes", "submitted_at"))
    for pk, upvotes, at in rows:
        first.setdefault(pk, (pk, upvotes, at))
    return list(first.values())


def _filtered(candidates: list, include: list[str], exclude: list[str]) -> list:
    if not include and not exclude:
        return candidates
    wanted, unwanted = _keyword_pattern(include), _keyword_pattern(exclude)
    texts = dict((pk, f"{t}\n{a}") for pk, t, a in
                 Paper.objects.filter(pk__in=[c[0] for c in candidates]).values_list("pk", "title", "abstract"))
    return [c for c in candidates
            if (wanted is None or wanted.search(texts.get(c[0], ""))) and not (unwanted and unwanted.search(texts.get(c[0], "")))]


def _cards(ranked: list[tuple[int, float, int | None, bool]], *, start: date, end: date, profile: dict[int, str],
           impressions: dict[int, int]) -> list[ForYouCard]:
    ids = [row[0] for row in ranked]
    papers = card_papers().in_bulk(ids)
    entries: dict[int, DailyEntry] = {}
    for entry in DailyEntry.objects.filter(paper_id__in=ids, day__gte=start, day__lte=end).select_related("submitted_by").order_by("submitted_at"):
        entries.setdefault(entry.paper_id, entry)
    near_ids = {row[2] for row in ranked if row[2] is not None}
    titles = dict(Paper.objects.filter(pk__in=near_ids).values_list("pk", "title"))
    arxiv = dict(Paper.objects.filter(pk__in=near_ids).values_list("pk", "arxiv_id"))
    cards = []
    for pk, score, near, faded in ranked:
        if pk not in papers:
            continue
        reason = Reason(arxiv_id=arxiv[near], title=titles[near], source=profile[near]) if near in titles else None
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
    has_signal = bool(profile) and PaperVector.objects.filter(paper_id__in=list(profile), model_id=model_id()).exists()
    if not has_signal:
        return _cold_start(period=period, start=start, end=end, now=now, limit=limit, negatives=negatives,
                           include=include, exclude=exclude)
    candidates = _filtered(_candidates(start=start, end=end), include, exclude)
    impressions = dict(Impression.objects.filter(user=user, paper__daily_entries__day__gte=start,
                                                 paper__daily_entries__day__lte=end).values_list("paper_id", "count"))
    ranked = rank(user=user, candidates=candidates, profile=profile, negatives=negatives, impressions=impressions)
    return ForYou(period=period, start=start, end=end, include=include, exclude=exclude, total=len(ranked),
                  cards=_cards(ranked[:limit], start=start, end=end, profile=profile, impressions=impressions))


def _cold_start(*, period, start, end, now, limit, negatives, include, exclude) -> ForYou:
    hidden = set(negatives)
    trending = [c for c in paper_selectors.trending(now=now, limit=limit + len(hidden)) if c.paper.pk not in hidden]
    keep = {c[0] for c in _filtered([(c.paper.pk, 0, None) for c in trending], include, exclude)}
    cards = [ForYouCard(paper=c.paper, entry=c.entry, rank_score=c.score or 0.0) for c in trending if c.paper.pk in keep]
    return ForYou(period=period, start=start, end=end, include=include, exclude=exclude, cold_start=True,
                  cards=cards[:limit], total=len(cards))


def rank_papers(*, user, papers: list[Paper]) -> list[Paper]:
    """These papers in the user's For you order (the personal digest): profile papers and papers
    marked Not interested left out; with no profile yet, as given."""
    profile = profile_of(user=user)
    if not profile:
        return papers
    negatives = list(NotInterested.objects.filter(user=user).values_list("paper_id", flat=True))
    now = timezone.now()
    ranked = rank(user=user, candidates=[(p.pk, p.upvotes, now) for p in papers], profile=profile, negatives=negatives)
    by_pk = {p.pk: p for p in papers}
    return [by_pk[pk] for pk, *_ in ranked]
