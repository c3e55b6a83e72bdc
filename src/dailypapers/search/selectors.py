"""Reads of the search app: hybrid search and similar papers."""

import hashlib
import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.core.cache import cache, caches

from dailypapers.papers.models import Author, Paper
from dailypapers.papers.records import parse_arxiv_id
from dailypapers.papers.selectors import Card, card_papers

from . import keyword, vectors
from .embedders import get_embedder
from .keyword import Filters
from .models import PaperVector

logger = logging.getLogger(__name__)

MAX_QUERY_LENGTH = 250
CANDIDATES = 200  # from each of the two lists, before fusion
SORTS = ("relevance", "date", "upvotes")

_embed_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="query-embedder")
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
    matched: dict[int, list[str]] = field(default_factory=dict)  # paper pk -> fields the query matched
    corrected: str = ""  # no word of the query matched: these results are for this corrected query
    suggestion: str = ""  # "Did you mean …?"
    authors: list[Author] = field(default_factory=list)  # authors the query names

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


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


def embed_query(query: str) -> np.ndarray:
    """The query's vector, cached; raises on failure or after the configured timeout."""
    embedder = get_embedder()
    key = "qvec:" + hashlib.sha1(f"{embedder.model_id}\0{query}".encode()).hexdigest()
    local = caches["local"]
    if (cached := local.get(key)) is None and (cached := cache.get(key)) is not None:
        local.set(key, cached, 3600)
    if cached is not None:
        return np.frombuffer(cached, dtype=np.float32)
    vector = _embed_pool.submit(lambda: embedder.embed([query])[0]).result(timeout=settings.SEARCH_EMBED_TIMEOUT)
    local.set(key, vector.tobytes(), 3600)
    cache.set(key, vector.tobytes(), 24 * 3600)
    return vector


def _normalised(scores: dict[int, float]) -> dict[int, float]:
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    span = (high - low) or 1.0
    return {k: (v - low) / span for k, v in scores.items()}


def fuse(*, keyword_scores: dict[int, float], semantic_scores: dict[int, float], method: str, weight: float) -> list[int]:
    """Candidates best first.

    "weighted": min-max normalise each list and add, keyword × weight and
    semantic × (1 - weight). Unlike rank fusion this keeps a paper that keyword
    search finds outright (its title or summary) first: its lead in BM25 score
    survives, where rank fusion flattens it to "rank 1".
    "rrf": reciprocal rank fusion, k = 60 (the baseline).
    """
    ids = set(keyword_scores) | set(semantic_scores)
    if method == "rrf":
        def ranks(scores):
            return {k: r for r, k in enumerate(sorted(scores, key=scores.get, reverse=True), 1)}

        kr, sr = ranks(keyword_scores), ranks(semantic_scores)
        fused = {i: (1 / (60 + kr[i]) if i in kr else 0) + (1 / (60 + sr[i]) if i in sr else 0) for i in ids}
    else:
        kn, sn = _normalised(keyword_scores), _normalised(semantic_scores)
        fused = {i: weight * kn.get(i, 0.0) + (1 - weight) * sn.get(i, 0.0) for i in ids}
    return sorted(ids, key=lambda i: (-fused[i], i))


def ranked_ids(*, query: str, filters: Filters, depth: int = CANDIDATES) -> tuple[list[int], str]:
    """Paper ids by hybrid relevance, and a note when semantic search was unavailable."""
    keyword_hits = dict(keyword.reader.search(query, filters=filters, limit=depth))
    note = ""
    semantic_hits: dict[int, float] = {}
    try:
        vector = embed_query(query)
        # Filters are applied after the nearest-neighbour search, so look further when filtering.
        nearest = vectors.reader.search(vector, model_id=get_embedder().model_id, limit=depth * (5 if filters else 1))
        semantic_hits = dict(nearest)
        if filters and semantic_hits:
            allowed = keyword.reader.matching(list(semantic_hits), filters=filters)
            semantic_hits = {k: v for k, v in semantic_hits.items() if k in allowed}
        semantic_hits = dict(list(semantic_hits.items())[:depth])
        # Score completion: a keyword hit outside the vector shortlist gets its real similarity.
        missing = [k for k in keyword_hits if k not in semantic_hits]
        semantic_hits |= vectors.reader.similarities(vector, keys=missing)
    except (FutureTimeout, Exception) as exc:  # noqa: BLE001 - any embedder failure degrades to keyword search
        logger.warning("semantic search unavailable: %r", exc)
        note = "Semantic search is unavailable right now; these are keyword matches only."
    return fuse(
        keyword_scores=keyword_hits, semantic_scores=semantic_hits,
        method=settings.SEARCH_FUSION, weight=settings.SEARCH_KEYWORD_WEIGHT,
    ), note


def search_papers(*, query: str, filters: Filters, sort: str = "relevance", page: int = 1, per_page: int = 20) -> SearchResults:
    started = time.perf_counter()
    query = query.strip()
    exact = exact_paper(query)
    if exact is not None:
        ids, note = [exact.pk], ""
    else:
        ids, note = ranked_ids(query=query, filters=filters)
        # An exact title is always the first hit.
        wanted = re.sub(r"\W+", " ", query).strip().lower()
        for paper_id, title in Paper.objects.filter(pk__in=ids[:10]).values_list("pk", "title"):
            if re.sub(r"\W+", " ", title).strip().lower() == wanted:
                ids.remove(paper_id)
                ids.insert(0, paper_id)
                break
    if sort != "relevance":
        order = "-published_at" if sort == "date" else "-upvotes"
        ids = list(Paper.objects.filter(pk__in=ids).order_by(order, "pk").values_list("pk", flat=True))
    start = (page - 1) * per_page
    page_ids = ids[start:start + per_page]
    papers = card_papers().in_bulk(page_ids)
    return SearchResults(
        cards=[Card(paper=papers[i]) for i in page_ids if i in papers],
        total=len(ids), page=page, per_page=per_page, terms=query_terms(query), note=note,
        exact=exact is not None, took_ms=(time.perf_counter() - started) * 1000,
    )


def similar_papers(*, paper: Paper, limit: int = 8) -> list[Paper]:
    """The nearest papers by vector, the paper itself excluded; [] until it has a vector."""
    model_id = get_embedder().model_id
    blob = PaperVector.objects.filter(paper=paper, model_id=model_id).values_list("vector", flat=True).first()
    if blob is None:
        return []
    try:
        nearest = vectors.reader.search(np.frombuffer(blob, dtype=np.float32), model_id=model_id, limit=limit + 1)
    except vectors.ModelMismatch:
        return []
    ids = [k for k, _ in nearest if k != paper.pk][:limit]
    papers = card_papers().in_bulk(ids)
    return [papers[i] for i in ids if i in papers]
