"""Reads for For you: one ranking for the page, the API and the personal digest.

A user's profile (their upvotes and saves, and the newest papers of what they follow) is built once
per change of it and kept in the shared cache with its interest clusters (ranking.cluster_profile);
a window's ranked order is kept there too, under a key made of every input it depends on (the
window's entries, the profile, Not interested, the keyword filters, the follows), so a second view
is a cache lookup plus the page's cards. Fading is applied to the kept order at each view, from the
impressions. Only ids, upvotes, listing times and vectors of the window's papers are read to rank
them; the full cards are fetched for the page's papers only.
"""

import hashlib
import re
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.module_loading import import_string

from dailypapers.collections.models import Collection as PaperCollection
from dailypapers.collections.models import CollectionItem
from dailypapers.community.models import Vote
from dailypapers.errors import Refused
from dailypapers.follows.models import Follow
from dailypapers.follows.selectors import author_paper_ids, followed_authors_of, saved_search
from dailypapers.papers import selectors as paper_selectors
from dailypapers.papers.models import DailyEntry, Paper
from dailypapers.papers.selectors import card_papers
from dailypapers.search.backends import get_backend
from dailypapers.search.models import PaperVector
from dailypapers.search.selectors import embed_query_or_none

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
# Each follow adds its newest papers (a saved search: its query's vector) to the profile, so a user
# who only follows gets the neighbours of what they follow too; at most MAX_FOLLOW_PROFILE in all.
# Together a follow's rows weigh as much as one upvote, so following a prolific author does not
# outweigh what the user chose paper by paper.
FOLLOW_PROFILE_PAPERS = 10
MAX_FOLLOW_PROFILE = 500
CANDIDATE_CACHE_SECONDS = 60
# The profile and a window's ranked order are keyed by everything they are made of, so these only
# bound what the keys cannot see: a profile paper embedded later, a followed author's newer papers,
# claims approved since.
PROFILE_CACHE_SECONDS = 600
INCOMPLETE_PROFILE_CACHE_SECONDS = 60  # some profile paper has no vector yet: look again soon (the order too)
RANKED_CACHE_SECONDS = 600
# The ranked order keeps the reasons of its first this many papers (the page's and a few pages of
# fading beyond); a card further down gets its reason computed when shown.
KEPT_REASONS = 120


@dataclass(frozen=True)
class Reason:
    """Why a card is here. Direct: by an author the user follows (source "followed", `author`), from a
    followed organization ("organization", `via` its name), matched by a followed search's words
    ("search", `via` the query). Or near a profile paper (`arxiv_id`, `title`) the user upvoted or
    saved ("upvoted", "saved"), or that is a followed author's or organization's ("near-follow",
    `via` its name); or near a followed search's meaning ("near-search", `via` the query)."""

    arxiv_id: str = ""
    title: str = ""
    source: str = ""
    author: str = ""
    via: str = ""


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
    cold_start: bool = False  # no profile and no follows yet: trending, with an invitation to pick papers
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    total: int = 0  # candidates after filters, before the page cut
    # paper id -> (impressions, last shown) of the window's papers: the page records impressions from it.
    shown: dict[int, tuple[int, datetime]] = field(default_factory=dict)


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


# --- what a user's feed depends on --------------------------------------------------------------------

@dataclass(frozen=True)
class Stamp:
    """A user's keyword filters and the versions of what their feed is made of, read in one query."""

    include: list[str]
    exclude: list[str]
    profile: str  # upvotes, saves, follows: the profile's cache key
    feed: str  # the profile, Not interested and the filters: the ranked order's cache key


def _column(model, name: str) -> str:
    return f'"{model._meta.db_table}"."{model._meta.get_field(name).column}"'


def _stamp_sql() -> str:
    """One statement of scalar subqueries (the ORM spends ~4 ms of CPU building the same from
    Subquery expressions, more than the query takes): for votes, saves, follows and Not interested
    a count and the newest time, then the filters."""
    def count_and_newest(model, at: str, owner: str, joined: str = "") -> str:
        table = f'"{model._meta.db_table}"{joined}'
        return f"(SELECT COUNT(*) FROM {table} WHERE {owner} = %(user)s), " \
               f"(SELECT MAX({_column(model, at)}) FROM {table} WHERE {owner} = %(user)s)"

    reading_list = (f' JOIN "{PaperCollection._meta.db_table}" ON {_column(CollectionItem, "collection")} = '
                    f'{_column(PaperCollection, "id")} AND {_column(PaperCollection, "is_default")} = %(true)s')
    filters = f'"{FeedFilters._meta.db_table}" WHERE {_column(FeedFilters, "user")} = %(user)s'
    return "SELECT " + ", ".join([
        count_and_newest(Vote, "created_at", _column(Vote, "user")),
        count_and_newest(CollectionItem, "added_at", _column(PaperCollection, "owner"), reading_list),
        count_and_newest(Follow, "created_at", _column(Follow, "user")),
        count_and_newest(NotInterested, "created_at", _column(NotInterested, "user")),
        *(f"(SELECT {_column(FeedFilters, name)} FROM {filters})" for name in ("include", "exclude", "updated_at")),
    ])


def stamp_of(*, user) -> Stamp:
    """Counts and newest times of the user's upvotes, saves, follows and Not interested, and the
    filters: a change to any changes a count or a newest time (a removal lowers the count, an
    addition is the newest), so they version the cached profile and order."""
    with connection.cursor() as cursor:
        cursor.execute(_stamp_sql(), {"user": user.pk, "true": True})
        *versions, include, exclude, filtered_at = cursor.fetchone()
    profile = ":".join(map(str, versions[:6]))
    feed = f"{profile}:{versions[6]}:{versions[7]}:{filtered_at}"
    return Stamp(include=parse_keywords(include or ""), exclude=parse_keywords(exclude or ""),
                 profile=_digest(profile), feed=_digest(feed))


def _digest(text: str) -> str:
    # Cache keys of printable characters without spaces (memcached's rule, kept by every backend).
    return hashlib.sha1(text.encode()).hexdigest()


# --- the profile ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ProfileRow:
    """One row of the profile's matrix: a paper (paper_id, arxiv_id, title) or a saved search's query
    (paper_id 0, title the query), how it got there (`source`: "upvoted", "saved", "near-follow",
    "near-search", as its neighbours' Reason says) and the follow's name (`via`)."""

    paper_id: int
    arxiv_id: str
    title: str
    source: str
    via: str = ""

    def reason(self) -> Reason:
        return Reason(arxiv_id=self.arxiv_id, title=self.title, source=self.source, via=self.via)


@dataclass(frozen=True)
class Profile:
    rows: tuple[ProfileRow, ...]
    matrix: np.ndarray  # unit rows, float32, one per row
    weights: np.ndarray  # float32, one per row, summing to 1 (ranking.interest)
    clusters: ranking.Clusters
    seen: frozenset[int]  # upvoted and saved papers, with a vector or not: never candidates
    follows_authors: bool
    organizations: dict[int, str]  # followed organization id -> name
    searches: tuple[tuple[str, dict], ...]  # followed searches: (query, filters)
    complete: bool  # every upvoted, saved and followed paper had a vector when it was built

    @property
    def empty(self) -> bool:
        """Nothing to rank by: no profile paper with a vector and no follow."""
        return not self.rows and not self.follows_authors and not self.organizations and not self.searches


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


def _seen_of(*, user) -> dict[int, str]:
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


def _follow_papers(*, follows: list[Follow]) -> dict[int, tuple[str, int]]:
    """The newest FOLLOW_PROFILE_PAPERS papers of each followed author and organization -> (its name,
    the follow's id)."""
    out: dict[int, tuple[str, int]] = {}
    for follow in follows:
        if follow.author_id is not None:
            papers = Paper.objects.filter(pk__in=author_paper_ids(author_id=follow.author_id))
        elif follow.organization_id is not None:
            papers = Paper.objects.filter(organization=follow.organization_id)
        else:
            continue
        for pk in papers.order_by("-published_at", "-pk").values_list("pk", flat=True)[:FOLLOW_PROFILE_PAPERS]:
            out.setdefault(pk, (follow.label, follow.pk))
        if len(out) >= MAX_FOLLOW_PROFILE:
            break
    return out


def profile_of(*, user, stamp: Stamp | None = None) -> Profile:
    """The user's profile, from the shared cache while `stamp` says it has not changed."""
    stamp = stamp or stamp_of(user=user)
    key = f"for-you:profile:v2:{user.pk}:{model_id()}:{stamp.profile}"
    found = caches["default"].get(key)
    if found is None:
        found = _build_profile(user=user)
        caches["default"].set(key, found, PROFILE_CACHE_SECONDS if found.complete else INCOMPLETE_PROFILE_CACHE_SECONDS)
    return found


def _build_profile(*, user) -> Profile:
    seen = _seen_of(user=user)
    follows = list(Follow.objects.filter(user=user).select_related("author", "organization"))
    followed = {pk: name for pk, name in _follow_papers(follows=follows).items() if pk not in seen}
    wanted = [*seen, *followed]
    rows_of, matrix = _vectors(_vector_rows(paper_id__in=wanted)) if wanted else ({}, np.zeros((0, 1), np.float32))
    named = {pk: (arxiv_id, title) for pk, arxiv_id, title in
             Paper.objects.filter(pk__in=list(rows_of)).values_list("pk", "arxiv_id", "title")} if rows_of else {}
    rows = [ProfileRow(paper_id=pk, arxiv_id=named[pk][0], title=named[pk][1],
                       source=seen.get(pk) or "near-follow", via="" if pk in seen else followed[pk][0])
            for pk in rows_of]
    # A seen paper weighs 1; a follow's rows share 1 among them (a saved search has one row).
    per_follow = Counter(followed[pk][1] for pk in rows_of if pk not in seen)
    weights = [1.0 if pk in seen else 1 / per_follow[followed[pk][1]] for pk in rows_of]
    searches = []
    vectors = [matrix] if rows_of else []
    for follow in follows:
        if follow.kind != Follow.Kind.SEARCH:
            continue
        searches.append((follow.query, dict(follow.filters)))
        query_vector = embed_query_or_none(follow.query)  # None while the embedder is down: words only
        if query_vector is not None:
            vectors.append(ranking.normalise(np.asarray(query_vector, np.float32).reshape(1, -1)))
            weights.append(1.0)
            rows.append(ProfileRow(paper_id=0, arxiv_id="", title=follow.query, source="near-search",
                                   via=follow.query))
    matrix = np.vstack(vectors).astype(np.float32) if vectors else np.zeros((0, 1), np.float32)
    shares = np.array(weights, np.float32) / max(sum(weights), 1e-12)
    profile = Profile(
        rows=tuple(rows), matrix=matrix, weights=shares, clusters=ranking.cluster_profile(matrix, weights=shares),
        seen=frozenset(seen),
        follows_authors=any(f.kind == Follow.Kind.AUTHOR for f in follows),
        organizations={f.organization_id: f.label for f in follows if f.organization_id is not None},
        searches=tuple(searches), complete=len(rows_of) == len(wanted))
    return profile


def follow_reasons(*, user, profile: Profile, paper_ids: list[int]) -> dict[int, Reason]:
    """Of these papers, those by an author or organization the user follows or matched by the words of
    a search they follow -> why (an author first, then an organization, then a search)."""
    if not paper_ids:
        return {}
    found: dict[int, Reason] = {}
    if profile.follows_authors:
        found = {pk: Reason(source="followed", author=name)
                 for pk, name in followed_authors_of(user=user, paper_ids=paper_ids).items()}
    if profile.organizations:
        for pk, org in Paper.objects.filter(pk__in=paper_ids, organization__in=list(profile.organizations)) \
                .values_list("pk", "organization_id"):
            found.setdefault(pk, Reason(source="organization", via=profile.organizations[org]))
    for query, filters in profile.searches:
        try:
            search = saved_search(query=query, filters=filters)
        except Refused:  # saved under rules since tightened: the search page would refuse it too
            continue
        for pk, _ in get_backend().keyword_search(search.query, filters=search.filters, limit=len(paper_ids),
                                                   within=paper_ids):
            found.setdefault(pk, Reason(source="search", via=query))
    return found


# --- candidates ---------------------------------------------------------------------------------------

def window(*, period: str, now: datetime | None = None) -> tuple[date, date] | None:
    """The days a tab covers, ending at the newest list (a site that paused still has a feed)."""
    newest = DailyEntry.objects.aggregate(day=Max("day"))["day"]
    if newest is None:
        return None
    end = min((now or timezone.now()).date(), newest)
    if period == "day":
        end = DailyEntry.objects.filter(day__lte=end).aggregate(day=Max("day"))["day"] or end
    return end - timedelta(days=PERIOD_DAYS[period] - 1), end


def listing_stamp(*, start: date, end: date) -> str:
    """Changes when a paper joins or leaves the window: its entry count and highest entry id."""
    stamp = DailyEntry.objects.filter(day__gte=start, day__lte=end).aggregate(n=Count("pk"), top=Max("pk"))
    return f"{stamp['n']}:{stamp['top']}"


@dataclass(frozen=True)
class Candidates:
    """A window's papers in first-listing order: ids, upvotes and their unit vectors."""

    ids: np.ndarray
    upvotes: np.ndarray
    rows: dict[int, int]  # paper id -> row of matrix
    matrix: np.ndarray
    where: np.ndarray | None = None  # for each id, its row of matrix or -1 (no vector yet)
    by_listing: bool = True  # ids in listing order, oldest first: the recency prior applies


def candidates_listed(*, start: date, end: date, stamp: str | None = None) -> Candidates:
    """The papers listed start..end, each once, oldest listing first, with their vectors.

    The same for every user, so kept per process (the local cache) under the window's listing_stamp;
    upvotes, which only feed the popularity prior, may be up to CANDIDATE_CACHE_SECONDS old."""
    key = f"for-you:candidates:{model_id()}:{start}:{end}:{stamp or listing_stamp(start=start, end=end)}"
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


# --- ranking ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Ranked:
    """A window's candidates best first (before fading), their scores, and the reasons known so far."""

    ids: np.ndarray  # int64
    scores: np.ndarray  # float32
    reasons: dict[int, Reason]
    cold_start: bool = False

    def page(self, *, tired: Collection[int], limit: int) -> list[tuple[int, float, bool]]:
        """(paper id, score, faded) of the first `limit` once the tired papers have sunk below the rest
        (in their order: FADE_PENALTY is larger than any score)."""
        faded = np.isin(self.ids, np.fromiter(tired, dtype=np.int64, count=len(tired)))
        order = np.concatenate([np.flatnonzero(~faded), np.flatnonzero(faded)])[:limit]
        return [(int(self.ids[i]), float(self.scores[i]) - FADE_PENALTY * bool(faded[i]), bool(faded[i]))
                for i in order]


def rank(*, user, candidates: Candidates, profile: Profile, negatives: list[int], keep: set[int] | None = None,
         lifted: Collection[int] = (), kept_reasons: int | None = KEPT_REASONS) -> Ranked:
    """Every candidate best first, with the reasons (nearest profile row) of the first `kept_reasons`
    (all when None). Papers in the profile or marked Not interested are left out; `keep`, when given,
    is the set of papers the keyword filters let through; `lifted`, the papers a follow lifts."""
    mask = ~np.isin(candidates.ids, np.array([*profile.seen, *negatives], dtype=np.int64))
    if keep is not None:
        mask &= np.isin(candidates.ids, np.array(list(keep), dtype=np.int64))
    ids, upvotes = candidates.ids[mask], candidates.upvotes[mask]
    if not len(ids):
        return Ranked(ids=ids, scores=np.zeros(0, np.float32), reasons={})
    negative_rows, negative_matrix = _vectors(_vector_rows(paper_id__in=negatives)) if negatives else ({}, None)
    dim = candidates.matrix.shape[1] if candidates.rows else profile.matrix.shape[1]
    # A paper without a vector has a zero row: interest 0, still ordered by the priors.
    where = (candidates.where if candidates.where is not None
             else np.array([candidates.rows.get(pk, -1) for pk in candidates.ids.tolist()], dtype=np.int64))[mask]
    matrix = np.zeros((len(ids), dim), np.float32)
    if candidates.rows:
        matrix[where >= 0] = candidates.matrix[where[where >= 0]]
    recency = np.arange(len(ids), dtype=np.float32) / max(len(ids) - 1, 1) if candidates.by_listing else None
    profile_matrix = profile.matrix if profile.rows else np.zeros((0, dim), np.float32)
    scores, nearest = ranking.scores(
        candidates=matrix, profile=profile_matrix, weights=profile.weights, clusters=profile.clusters,
        upvotes=upvotes, recency=recency,
        negatives=negative_matrix if negative_rows else None,
        followed=np.isin(ids, np.fromiter(lifted, dtype=np.int64, count=len(lifted))) if lifted else None,
    )
    order = np.argsort(-scores, kind="stable")
    reasons = {int(ids[i]): profile.rows[nearest[i]].reason() for i in order[:kept_reasons]
               if nearest[i] >= 0 and where[i] >= 0}
    return Ranked(ids=ids[order], scores=scores[order].astype(np.float32), reasons=reasons)


def _passing(ids, include: list[str], exclude: list[str]) -> set[int] | None:
    """The papers among these whose title or abstract passes the keyword filters (None: no filters)."""
    if not include and not exclude:
        return None
    wanted, unwanted = _keyword_pattern(include), _keyword_pattern(exclude)
    texts = Paper.objects.filter(pk__in=[int(pk) for pk in ids]).values_list("pk", "title", "abstract")
    return {pk for pk, title, abstract in texts
            if (wanted is None or wanted.search(f"{title}\n{abstract}"))
            and not (unwanted and unwanted.search(f"{title}\n{abstract}"))}


def _ranked_window(*, user, stamp: Stamp, start: date, end: date, listing: str) -> Ranked:
    """The window's order for this user, from the shared cache while nothing it depends on changed."""
    key = f"for-you:ranked:v1:{user.pk}:{model_id()}:{start}:{end}:{listing}:{stamp.feed}"
    found = caches["default"].get(key)
    if found is None:
        profile = profile_of(user=user, stamp=stamp)
        if profile.empty:
            found = Ranked(ids=np.zeros(0, np.int64), scores=np.zeros(0, np.float32), reasons={}, cold_start=True)
        else:
            candidates = candidates_listed(start=start, end=end, stamp=listing)
            ids = candidates.ids.tolist()
            lifts = follow_reasons(user=user, profile=profile, paper_ids=ids)
            negatives = list(NotInterested.objects.filter(user=user).values_list("paper_id", flat=True))
            found = rank(user=user, candidates=candidates, profile=profile, negatives=negatives,
                         keep=_passing(ids, stamp.include, stamp.exclude), lifted=lifts.keys())
            found.reasons.update(lifts)
        # Ranked on a profile still missing vectors: look again as soon as the profile does.
        timeout = RANKED_CACHE_SECONDS if profile.complete else INCOMPLETE_PROFILE_CACHE_SECONDS
        caches["default"].set(key, found, timeout)
    return found


def _missing_reasons(*, user, stamp: Stamp, paper_ids: list[int]) -> dict[int, Reason]:
    """Reasons of shown papers the kept order has none for (below KEPT_REASONS): nearest profile row."""
    profile = profile_of(user=user, stamp=stamp)
    rows, matrix = _vectors(_vector_rows(paper_id__in=paper_ids))
    if not rows or not profile.rows:
        return {}
    nearest = (matrix @ profile.matrix.T).argmax(axis=1)
    return {pk: profile.rows[nearest[i]].reason() for pk, i in rows.items()}


def _cards(page: list[tuple[int, float, bool]], *, start: date, end: date, reasons: dict[int, Reason],
           shown: dict[int, tuple[int, datetime]]) -> list[ForYouCard]:
    ids = [row[0] for row in page]
    papers = card_papers().in_bulk(ids)
    entries: dict[int, DailyEntry] = {}
    listed = DailyEntry.objects.filter(paper_id__in=ids, day__gte=start, day__lte=end)
    for entry in listed.select_related("submitted_by").order_by("submitted_at"):
        entries.setdefault(entry.paper_id, entry)
    return [ForYouCard(paper=papers[pk], entry=entries.get(pk), rank_score=score, reason=reasons.get(pk),
                       faded=faded, impressions=shown.get(pk, (0, None))[0])
            for pk, score, faded in page if pk in papers]


def for_you(*, user, period: str = DEFAULT_PERIOD, now: datetime | None = None, limit: int = PAGE_SIZE) -> ForYou:
    """The user's For you list for a tab: the window's papers by interest, or trending for a new user."""
    stamp = stamp_of(user=user)
    include, exclude = stamp.include, stamp.exclude
    span = window(period=period, now=now)
    if span is None:
        return ForYou(period=period, start=None, end=None, include=include, exclude=exclude, cold_start=True)
    start, end = span
    ranked = _ranked_window(user=user, stamp=stamp, start=start, end=end, listing=listing_stamp(start=start, end=end))
    if ranked.cold_start:
        return _cold_start(user=user, period=period, start=start, end=end, now=now, limit=limit,
                           include=include, exclude=exclude)
    shown = {pk: (count, at) for pk, count, at in Impression.objects.filter(
        user=user, paper__daily_entries__day__gte=start, paper__daily_entries__day__lte=end,
    ).values_list("paper_id", "count", "last_shown_at")}
    page = ranked.page(tired=[pk for pk, (count, _) in shown.items() if count >= FADE_AFTER_IMPRESSIONS], limit=limit)
    reasons = ranked.reasons
    unexplained = [pk for pk, _, _ in page if pk not in reasons]
    if unexplained:
        reasons = {**reasons, **_missing_reasons(user=user, stamp=stamp, paper_ids=unexplained)}
    return ForYou(period=period, start=start, end=end, include=include, exclude=exclude, total=len(ranked.ids),
                  cards=_cards(page, start=start, end=end, reasons=reasons, shown=shown), shown=shown)


def _cold_start(*, user, period, start, end, now, limit, include, exclude) -> ForYou:
    hidden = set(NotInterested.objects.filter(user=user).values_list("paper_id", flat=True))
    trending = [c for c in paper_selectors.trending(now=now, limit=limit + len(hidden)) if c.paper.pk not in hidden]
    keep = _passing([c.paper.pk for c in trending], include, exclude)
    cards = [ForYouCard(paper=c.paper, entry=c.entry, rank_score=c.score or 0.0) for c in trending
             if keep is None or c.paper.pk in keep]
    return ForYou(period=period, start=start, end=end, include=include, exclude=exclude, cold_start=True,
                  cards=cards[:limit], total=len(cards))


def rank_papers(*, user, papers: list[Paper]) -> list[Paper]:
    """These papers in the user's For you order (the personal digest): profile papers and papers
    marked Not interested left out, papers of follows lifted; with no profile or follow yet, as given."""
    profile = profile_of(user=user)
    if profile.empty or not papers:
        return papers
    negatives = list(NotInterested.objects.filter(user=user).values_list("paper_id", flat=True))
    lifts = follow_reasons(user=user, profile=profile, paper_ids=[p.pk for p in papers])
    ranked = rank(user=user, candidates=candidates_of(papers), profile=profile, negatives=negatives,
                  lifted=lifts.keys(), kept_reasons=0)
    by_pk = {p.pk: p for p in papers}
    return [by_pk[pk] for pk in ranked.ids.tolist()]
