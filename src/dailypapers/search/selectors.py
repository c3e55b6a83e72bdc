"""Reads of the search app: hybrid search and similar papers."""

import functools
import hashlib
import logging
import operator
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from datetime import time as day_time
from datetime import timezone as dt_timezone

import numpy as np
from django.conf import settings
from django.core.cache import cache, caches
from django.db.models import Exists, OuterRef, Q, QuerySet

from dailypapers import limits
from dailypapers.paging import Page, page_count
from dailypapers.papers.models import Author, Authorship, DailyEntry, Paper
from dailypapers.papers.records import normal_title, parse_arxiv_id
from dailypapers.papers.selectors import Card, card_papers

from . import keyword, vectors
from .backends import KeywordView, SearchBackend, get_backend
from .embedders import get_embedder
from .keyword import Filters
from .models import PaperVector
from .query import closest_word, parse_query, readable_by_embedder

logger = logging.getLogger(__name__)

MAX_QUERY_LENGTH = limits.MAX_QUERY_LENGTH  # read from here by the search page, feeds and APIs
CANDIDATES = 200  # from each of the two lists, before fusion
SORTS = ("relevance", "date", "upvotes")

# Query embeddings run on worker threads so that a slow one can be given up on at SEARCH_EMBED_TIMEOUT. An
# abandoned embedding keeps its thread until it ends, so no query ever queues behind one: a query takes a free
# thread (a slot) or, when every thread is still busy with abandoned work, is answered by keywords at once.
_EMBED_THREADS = 2
_embed_pool = ThreadPoolExecutor(max_workers=_EMBED_THREADS, thread_name_prefix="query-embedder")
_embed_slots = threading.BoundedSemaphore(_EMBED_THREADS)
_DOI = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)?(10\.\d{4,9}/\S+)$", re.I)


@dataclass
class SearchResults:
    cards: list[Card]
    total: int
    page: int
    per_page: int
    terms: list[str] = field(default_factory=list)
    note: str = ""
    exact: bool = False
    took_ms: float = 0.0
    # paper pk -> the fields the query matched (of title, authors, abstract), ["meaning"] when only by meaning
    matched: dict[int, list[str]] = field(default_factory=dict)
    corrected: str = ""  # no word of the query matched: these results are for this corrected query
    suggestion: str = ""  # "Did you mean …?"
    authors: list[Author] = field(default_factory=list)  # authors the query names

    @property
    def pages(self) -> int:
        return page_count(self.total, self.per_page)


def exact_paper(query: str) -> Paper | None:
    """An arXiv id or abs/pdf/Hugging Face URL, or a DOI, names one paper."""
    text = query.strip()
    try:
        arxiv_id, _ = parse_arxiv_id(text)
    except ValueError:
        arxiv_id = None
    if arxiv_id:
        return Paper.objects.filter(arxiv_id=arxiv_id).first()
    if match := _DOI.match(text):
        return Paper.objects.filter(doi__iexact=match[1]).first()
    return None


_STOPWORDS = frozenset(
    "a an and are as at be by for from has in is it of on or not that the this to was with we our via".split()
)


def query_terms(query: str) -> list[str]:
    """Word stems of a query, for highlighting: "memory" also marks "memories"."""
    words = [w for w in re.findall(r"\w+", query.lower()) if len(w) > 1 and w not in _STOPWORDS]
    return [w if len(w) <= 4 else w[:max(4, len(w) - 2)] for w in words][:20]


class EmbedderBusy(RuntimeError):
    """Every query-embedding thread is still busy with an earlier query that ran out of time."""


def query_vector_cache_key(embedder, query: str) -> str:
    """Where a query's vector is cached (both caches), per query model: the benchmarks fill it with known vectors."""
    query_id = getattr(embedder, "query_id", embedder.model_id)
    return "qvec:" + hashlib.sha1(f"{query_id}\0{query}".encode()).hexdigest()


def _cached_query_vector(key: str) -> np.ndarray | None:
    local = caches["local"]
    if (cached := local.get(key)) is None and (cached := cache.get(key)) is not None:
        local.set(key, cached, 3600)
    return None if cached is None else np.frombuffer(cached, dtype=np.float32)


def _done(value) -> Future:
    future: Future = Future()
    future.set_result(value)
    return future


def query_vector_job(query: str, *, then: Callable[[np.ndarray], object] | None = None) -> Future:
    """A future of (the query's vector, then(vector)), run on an embedding thread so that the caller can do
    other work meanwhile (onnxruntime and faiss release the GIL). The vector is cached. Raises EmbedderBusy at
    once when every embedding thread is still held by an abandoned query and the vector must be computed."""
    embedder = get_embedder()
    key = query_vector_cache_key(embedder, query)
    cached = _cached_query_vector(key)
    if cached is not None and then is None:
        return _done((cached, None))
    if not _embed_slots.acquire(blocking=False):
        if cached is not None:  # nothing to wait for: the rest runs on the caller's thread
            return _done((cached, then(cached) if then else None))
        raise EmbedderBusy("every query-embedding thread is busy with an earlier, abandoned query")

    computed: list[np.ndarray] = []

    # Caches are written on the embedding thread, not by the caller, so an embedding that outlives its query
    # still serves the next identical one.
    def job() -> tuple[np.ndarray, object]:
        vector = cached
        if vector is None:
            vector = embedder.embed([query])[0]
            caches["local"].set(key, vector.tobytes(), 3600)
            computed.append(vector)
        return vector, (then(vector) if then else None)

    def after(_: Future) -> None:
        # A done callback: the shared cache's write (a file, or a round trip to Redis: ~1 ms) comes after the
        # result is handed over, off the query's path.
        try:
            if computed:
                cache.set(key, computed[0].tobytes(), 24 * 3600)
        finally:
            _embed_slots.release()

    try:
        future = _embed_pool.submit(job)
    except BaseException:  # the pool is shut down (interpreter exit): the slot was never taken by a thread
        _embed_slots.release()
        raise
    future.add_done_callback(after)
    return future


def load_query_embedder() -> Future | None:
    """The embedder's query model loaded on an embedding thread now (its `load()`, if it has one), so that the
    first search a web worker answers does not spend its embedding timeout loading it."""
    embedder = get_embedder()
    load = getattr(embedder, "load", None)
    return None if load is None else _embed_pool.submit(load)


def embed_query(query: str) -> np.ndarray:
    """The query's vector, cached; raises on failure, after the configured timeout, or at once (EmbedderBusy)
    when every embedding thread is still held by an abandoned query."""
    return query_vector_job(query).result(timeout=settings.SEARCH_EMBED_TIMEOUT)[0]


def embed_query_or_none(query: str) -> np.ndarray | None:
    """The query's vector, or None when the embedder fails or is too slow: search then goes on with
    keywords alone. The one place that decides so, for searches and digests."""
    try:
        return embed_query(query)
    except (FutureTimeout, Exception) as exc:  # noqa: BLE001 - the embedder is a plug-in: any failure degrades
        logger.warning("semantic search unavailable: %r", exc)
        return None


@dataclass
class Ranking:
    """The ranked candidates of one query and what the ranking understood of it."""

    ids: list[int]
    analysis: keyword.Analysis | None = None
    lexical: set[int] = field(default_factory=set)  # papers the query's words match
    author: str = ""  # the query is this author's name
    title_phrase: set[int] = field(default_factory=set)  # titles holding the whole query
    note: str = ""


# Tiers, highest first: within a tier papers are ordered by the fused score. A paper is in the highest
# tier it qualifies for; the last is everything else (hybrid).
_AUTHOR_TIER, _TITLE_TIER, _PHRASE_TIER, _NAME_TIER, _STRONG_TIER, _HYBRID_TIER = range(6, 0, -1)
PHRASE_MAX_TERMS = 5  # a longer query found as a phrase of an abstract is a quoted sentence, not a topic
NAME_MAX_TERMS = 6  # a rare word in a longer query is one word of a sentence, not the name searched for


def rank(*, query: str, filters: Filters, depth: int = CANDIDATES) -> Ranking:
    """Candidates best first. What the query is decides the order (see DESIGN.md "Search"):
    an author's full name puts that author's papers first, newest first; a title (the whole query as a
    phrase of a title, then of an abstract) puts those papers next; rare words (method, model, dataset
    and person names, misspellings of them matched within 1-2 edits) put every paper holding them above
    every paper that does not; in a short query a strong keyword match is never below a paper found
    only by meaning.
    Within that, hybrid: keyword × weight + similarity × (1 - weight), BM25 divided by what a full match
    scores (so a single hit keeps its strength) and cosine similarity as it is. When no word matches
    (even fuzzily), only papers at least SEARCH_SEMANTIC_FLOOR similar are shown: none is "no results"."""
    parsed = parse_query(query)
    if parsed.author:
        filters = replace(filters, author=parsed.author)
    backend = get_backend()
    snapshot = backend.snapshot()
    if snapshot is None:
        return Ranking(ids=[])
    analysis = snapshot.analyse(parsed.text)
    if not analysis.terms and not analysis.phrases:
        # Nothing to search for but a filter (author:"…" alone): those papers, newest first.
        return Ranking(ids=snapshot.filtered(filters=filters, limit=depth) if filters else [], analysis=analysis)
    semantic_side = SemanticSide(backend, parsed.text, filters=filters, depth=depth)  # runs meanwhile
    side = keyword_candidates(snapshot, analysis, text=parsed.text if not parsed.author else "", filters=filters,
                              depth=depth)
    lexical, by_author, tiers = side.scores, side.by_author, side.tiers
    vector, semantic, note = semantic_side.result(snapshot)
    floor = settings.SEARCH_SEMANTIC_FLOOR
    found = set(lexical) | set(tiers)  # a tier's papers may lie beyond the BM25 shortlist
    if not found and (not semantic or max(semantic.values()) < floor):
        return Ranking(ids=[], analysis=analysis, note=note)
    similarity = dict(semantic)
    if vector is not None:
        # Score completion: a keyword hit outside the vector shortlist gets its real similarity.
        similarity |= backend.similarities(vector, keys=[k for k in found if k not in semantic])
    # A paper without a vector yet competes on its keyword score: it is taken to be as similar as the most
    # similar keyword hit it outscores (not 0, which buried it), so it ranks above every such hit.
    stand_in, best_below = {}, 0.0
    for paper_id in sorted(found, key=lambda k: (lexical.get(k, 0.0), -k)):
        best_below = max(best_below, similarity.get(paper_id, 0.0))
        if paper_id not in similarity:
            stand_in[paper_id] = best_below
    weight, reference = settings.SEARCH_KEYWORD_WEIGHT, analysis.reference_score()
    # A long query is a sentence (a claim, a summary): hybrid; measured, the strong-match tier cost
    # SciFact 0.007 nDCG@10 there. A short one is a name, a title or a topic: a strong match stays first.
    short = len(analysis.terms) <= NAME_MAX_TERMS
    fused, keys = {}, {}
    # With no keyword match, the answer is what is close enough in meaning; otherwise neighbours follow.
    neighbours = semantic if found else {k: v for k, v in semantic.items() if v >= floor}
    for paper_id in found | set(neighbours):
        strength = lexical.get(paper_id, 0.0) / reference
        fused[paper_id] = weight * strength + (1 - weight) * similarity.get(paper_id, stand_in.get(paper_id, 0.0))
        tier = tiers.get(paper_id, _STRONG_TIER if short and strength >= settings.SEARCH_STRONG_MATCH else _HYBRID_TIER)
        keys[paper_id] = (-tier, -fused[paper_id], paper_id)
    author_order = {k: i for i, k in enumerate(by_author)}  # newest first within the author's papers
    ids = sorted(fused, key=lambda k: (keys[k][0], author_order.get(k, 0), *keys[k][1:]))
    return Ranking(ids=ids, analysis=analysis, lexical=found, author=side.author, title_phrase=side.title_phrase,
                   note=note)


@dataclass
class KeywordCandidates:
    scores: dict[int, float]  # BM25 of the best keyword hits
    by_author: list[int]  # papers of the author the query names, newest first
    author: str  # that name, "" if the query is not an author's name
    tiers: dict[int, int]  # paper -> tier above the hybrid one
    title_phrase: set[int]  # titles holding the whole query as a phrase


def keyword_candidates(snapshot: KeywordView, analysis: keyword.Analysis, *, text: str, filters: Filters,
                       depth: int) -> KeywordCandidates:
    """Everything the keyword index says about a query: its BM25 hits, and which papers are in a tier
    (the author's, whole-query phrases, rare words). `text` is checked as an author's name."""
    author = text if snapshot.has_author(text) else ""
    by_author = snapshot.author_papers(author, filters=filters, limit=depth) if author else []
    tiers: dict[int, int] = {}
    title_phrase = snapshot.phrase(analysis, field="title", filters=filters, limit=depth)
    if len(analysis.terms) <= PHRASE_MAX_TERMS:
        tiers |= dict.fromkeys(snapshot.phrase(analysis, field="abstract", filters=filters, limit=depth), _PHRASE_TIER)
    tiers |= dict.fromkeys(title_phrase, _TITLE_TIER)
    if len(analysis.terms) <= NAME_MAX_TERMS and (rare := [t for t in analysis.matched if analysis.is_rare(t)]):
        for paper_id in snapshot.containing(analysis, rare, filters=filters, limit=depth):
            tiers.setdefault(paper_id, _NAME_TIER)
    tiers |= dict.fromkeys(by_author, _AUTHOR_TIER)
    return KeywordCandidates(scores=snapshot.lexical(analysis, filters=filters, limit=depth), by_author=by_author,
                             author=author, tiers=tiers, title_phrase=title_phrase)


SEMANTIC_UNAVAILABLE = "Semantic search is unavailable right now; these are keyword matches only."


class SemanticSide:
    """The query's vector and its nearest papers, started before the keyword search so that the two run at
    once: on an embedding thread (onnxruntime and faiss release the GIL), and the nearest-neighbour search
    there too when the vectors are this process's own files (the local backend; postgres is asked on the
    request's own database connection, after). At 1M papers each side takes about 10 ms."""

    def __init__(self, backend: SearchBackend, text: str, *, filters: Filters, depth: int):
        self.backend, self.filters, self.depth = backend, filters, depth
        self.limit = depth * (5 if filters else 1)  # filters are applied after the search: look further
        self.future: Future | None = None
        self.error: Exception | None = None
        if not readable_by_embedder(text):
            return
        try:
            self.model_id = get_embedder().model_id
            self.future = query_vector_job(text, then=self._nearest if backend.vectors_in_process else None)
        except Exception as exc:  # noqa: BLE001 - the embedder is a plug-in: any failure degrades to keywords
            self.error = exc

    def _nearest(self, vector: np.ndarray) -> list[tuple[int, float]]:
        return self.backend.nearest(vector, model_id=self.model_id, limit=self.limit)

    def result(self, snapshot: KeywordView) -> tuple[np.ndarray | None, dict[int, float], str]:
        """(the query vector or None, paper -> similarity of the nearest `depth` passing the filters, a note)."""
        if self.error is not None:
            return self._unavailable(self.error)
        if self.future is None:
            return None, {}, ""  # nothing the embedder can read (symbols, a script it does not know)
        try:
            vector, nearest = self.future.result(timeout=settings.SEARCH_EMBED_TIMEOUT)
            if nearest is None:
                nearest = self._nearest(vector)
        except (FutureTimeout, Exception) as exc:  # noqa: BLE001 - as above
            return self._unavailable(exc)
        found = dict(nearest)
        if self.filters and found:
            allowed = snapshot.matching(list(found), filters=self.filters)
            found = {k: v for k, v in found.items() if k in allowed}
        return vector, dict(list(found.items())[:self.depth]), ""

    @staticmethod
    def _unavailable(exc: BaseException) -> tuple[None, dict[int, float], str]:
        # ModelMismatch: the embedder changed, and the index is rebuilt for it within the minute.
        if not isinstance(exc, vectors.ModelMismatch):
            logger.warning("semantic search unavailable: %r", exc)
        return None, {}, SEMANTIC_UNAVAILABLE


def ranked_ids(*, query: str, filters: Filters, depth: int = CANDIDATES) -> tuple[list[int], str]:
    """Paper ids by relevance, and a note when semantic search was unavailable."""
    ranking = rank(query=query, filters=filters, depth=depth)
    return ranking.ids, ranking.note


def _exact_title_first(ranking: Ranking, *, query: str) -> None:
    """A paper whose title is the query (punctuation and case aside) is the first hit, whatever its rank."""
    wanted = normal_title(query)
    candidates = sorted(ranking.title_phrase, key=ranking.ids.index)[:50]
    for paper_id, title in Paper.objects.filter(pk__in=candidates).values_list("pk", "title"):
        if normal_title(title) == wanted:
            ranking.ids.remove(paper_id)
            ranking.ids.insert(0, paper_id)
            return


def _correction(ranking: Ranking, *, query: str) -> str:
    """The query with each misspelt word replaced by the nearest word of the papers found; "" if none."""
    analysis = ranking.analysis
    if analysis is None or not analysis.fuzzy:
        return ""
    top = [k for k in ranking.ids if k in ranking.lexical][:5]
    texts = [f"{t} {a}" for t, a in Paper.objects.filter(pk__in=top).values_list("title", "abstract")]
    texts += list(Author.objects.filter(papers__in=top).values_list("name", flat=True))
    corrected = query
    for term in analysis.fuzzy:
        if word := closest_word(term.word, texts=texts, distance=term.fuzzy_distance):
            corrected = re.sub(rf"(?i)\b{re.escape(term.word)}\b", word, corrected)
    return corrected if corrected != query else ""


def search_papers(
    *, query: str, filters: Filters, sort: str = "relevance", page: int = 1, per_page: int = 20
) -> SearchResults:
    started = time.perf_counter()
    query = query.strip()
    exact = exact_paper(query)
    ranking = Ranking(ids=[exact.pk]) if exact is not None else rank(query=query, filters=filters)
    if exact is None:
        _exact_title_first(ranking, query=parse_query(query).text)
    suggestion = _correction(ranking, query=query)
    # "Showing results for …" only when no word of the query matched as written; then the results are
    # those of the corrected query, as the note says (the fuzzy ranking also holds other near words).
    nothing_as_written = bool(ranking.analysis and ranking.analysis.terms
                              and not any(t.doc_freq for t in ranking.analysis.terms))
    if nothing_as_written and suggestion:
        ranking = rank(query=suggestion, filters=filters)
        _exact_title_first(ranking, query=parse_query(suggestion).text)
    if sort == "relevance":
        ids = held_papers(ranking.ids, listed_only=filters.listed_only)
    else:
        order = "-published_at" if sort == "date" else "-upvotes"
        ids = list(Paper.objects.filter(pk__in=ranking.ids).order_by(order, "pk").values_list("pk", flat=True))
    page_ids = Page(number=page, per_page=per_page).of(ids)
    papers = card_papers().in_bulk(page_ids)
    cards = [Card(paper=papers[i]) for i in page_ids if i in papers]
    analysis = ranking.analysis
    matched: dict[int, list[str]] = {c.paper.pk: [] for c in cards}  # an id, URL or DOI matched no field
    if analysis is not None and (snapshot := get_backend().snapshot()) is not None:
        fields = snapshot.matched_fields(analysis, [c.paper.pk for c in cards])
        matched = {c.paper.pk: fields.get(c.paper.pk) or ["meaning"] for c in cards}
    names = [n for n in (ranking.author, parse_query(query).author) if n]
    authors = (
        list(Author.objects.filter(functools.reduce(operator.or_, (Q(name__iexact=n) for n in names)))) if names else []
    )
    return SearchResults(
        cards=cards, total=len(ids), page=page, per_page=per_page, terms=query_terms(suggestion or query),
        note=ranking.note, exact=exact is not None, took_ms=(time.perf_counter() - started) * 1000,
        matched=matched, corrected=suggestion if nothing_as_written else "", suggestion=suggestion, authors=authors,
    )


def held_papers(ids: list[int], *, listed_only: bool = False) -> list[int]:
    """These ids, in their order, less papers no longer in the database (and, for `listed_only`, no longer
    on a daily list): the local backend's index files belong to the process that writes them (the worker's
    index job), so a paper deleted elsewhere stays in them until the nightly rebuild, and either index
    learns of an unlisting at its next update (within the minute); read against the tables, such a paper
    is gone from results, counts and pages at the commit. (Other filters change with a paper's record,
    re-indexed within the minute; the database's author and category matching is not the index's
    exactly, so only these two are checked again.)"""
    held = set(filtered_papers(filters=Filters(listed_only=listed_only)).filter(pk__in=ids)
               .values_list("pk", flat=True))
    return [i for i in ids if i in held]


def newest_matches(*, query: str, filters: Filters, limit: int = 20) -> list[Paper]:
    """A followed search's papers, newest first (with what a card shows): the papers its words match,
    or, when no word matches, those close enough in meaning. Not every neighbour by meaning, as the
    relevance order has: ranked low there, in a date order they would crowd out the matches."""
    exact = exact_paper(query.strip())
    if exact is not None:
        ids = [exact.pk]
    else:
        ranking = rank(query=query, filters=filters)
        ids = [k for k in ranking.ids if k in ranking.lexical] or ranking.ids
    return list(card_papers().filter(pk__in=ids).order_by("-published_at", "-pk")[:limit])


def similar_papers(*, paper: Paper, limit: int = 8) -> list[Paper]:
    """The nearest papers by vector, the paper itself excluded; [] until it has a vector."""
    model_id = get_embedder().model_id
    blob = PaperVector.objects.filter(paper=paper, model_id=model_id).values_list("vector", flat=True).first()
    if blob is None:
        return []
    try:
        # A few more than shown: deleted papers still in a local index are left out below.
        nearest = get_backend().nearest(np.frombuffer(blob, dtype=np.float32), model_id=model_id,
                                        limit=2 * limit + 1)
    except vectors.ModelMismatch:
        return []
    ids = [k for k, _ in nearest if k != paper.pk]
    papers = card_papers().in_bulk(ids)
    return [papers[i] for i in ids if i in papers][:limit]


# --- without a query: browsing by the search filters, and digests -----------------------------------

def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, day_time.min, tzinfo=dt_timezone.utc)


def filtered_papers(*, filters: Filters, unlisted_only: bool = False, listed_on: date | None = None) -> QuerySet[Paper]:
    """Papers the search filters let through, read from the database — the same rules as the index
    (search.keyword): publication days are UTC days, an author is a full name (case and spacing
    aside), a category any of the paper's. `unlisted_only` and `listed_on` go beyond the index."""
    papers = Paper.objects.all()
    if filters.published_from:
        papers = papers.filter(published_at__gte=_utc_midnight(filters.published_from))
    if filters.published_to:
        papers = papers.filter(published_at__lt=_utc_midnight(filters.published_to + timedelta(days=1)))
    if filters.category:
        papers = papers.filter(categories__icontains=f'"{filters.category}"')
    if filters.organization:
        papers = papers.filter(organization__slug=filters.organization)
    if author := " ".join(filters.author.split()):
        papers = papers.filter(Exists(Authorship.objects.filter(paper=OuterRef("pk"), author__name__iexact=author)))
    on_a_list = Exists(DailyEntry.objects.filter(paper=OuterRef("pk")))
    if filters.listed_only:
        papers = papers.filter(on_a_list)
    if unlisted_only:
        papers = papers.filter(~on_a_list)
    if listed_on:
        papers = papers.filter(Exists(DailyEntry.objects.filter(paper=OuterRef("pk"), day=listed_on)))
    return papers


BROWSE_ORDERS = {"published": ("-published_at", "-pk"), "upvotes": ("-upvotes", "-published_at", "-pk")}


def browse_papers(*, filters: Filters, sort: str = "published", page: Page, unlisted_only: bool = False,
                  listed_on: date | None = None) -> tuple[int, list[Paper]]:
    """(how many match, one page of them as cards) — filtered_papers, newest or most upvoted first."""
    matching = filtered_papers(filters=filters, unlisted_only=unlisted_only, listed_on=listed_on)
    ordered = card_papers().filter(pk__in=matching.values("pk")).order_by(*BROWSE_ORDERS[sort])
    return matching.count(), list(page.of(ordered))


def papers_on_topic(*, topic: str, papers: list[Paper], min_similarity: float) -> list[Paper]:
    """Those of `papers` a topic matches — by its words, or by meaning at least `min_similarity`
    (keyword matches alone when the embedder is unavailable) — in their given order."""
    ids = [p.pk for p in papers]
    if not ids:
        return []
    backend = get_backend()
    matched = {pk for pk, _ in backend.keyword_search(topic, filters=Filters(), limit=len(ids), within=ids)}
    vector = embed_query_or_none(topic)
    if vector is not None:
        similar = backend.similarities(vector, keys=ids)
        matched |= {pk for pk, score in similar.items() if score >= min_similarity}
    return [p for p in papers if p.pk in matched]
