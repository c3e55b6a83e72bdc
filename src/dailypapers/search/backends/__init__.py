"""The search backends: where the keyword index and the vectors live.

Two implement the same small interface: `local` (the default: a tantivy index and
sign-code vector files in the data directory, see search.keyword and
search.vectors) and `postgres` (weighted full-text search and pgvector in the
site's own PostgreSQL database, so web nodes hold no search state; see
search.backends.postgres). DAILYPAPERS_SEARCH_BACKEND chooses.

Ranking is not here: search.selectors.rank asks a backend what the index knows
(document frequencies, BM25-like scores, phrases, an author's papers, nearest
vectors) and decides the order the same way for both.
"""

from collections.abc import Callable, Iterable
from typing import Protocol

import numpy as np
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from ..keyword import Analysis, Filters, IndexedPaper, Term

NAMES = ("local", "postgres")


class KeywordView(Protocol):
    """One request's view of the keyword index (search.keyword.Snapshot is the local one)."""

    def analyse(self, text: str, *, fuzzy: bool = True) -> Analysis:
        """The query's terms with their document frequencies; unknown words matched within 1-2 edits."""

    def lexical(self, analysis: Analysis, *, filters: Filters, limit: int,
                within: list[int] | None = None) -> dict[int, float]:
        """paper_id -> keyword score (title weighted over authors and abstract), best `limit`."""

    def containing(self, analysis: Analysis, terms: list[Term], *, filters: Filters, limit: int) -> set[int]:
        """Papers holding any of these terms (the rare-term tier)."""

    def phrase(self, analysis: Analysis, *, field: str, filters: Filters, limit: int) -> set[int]:
        """Papers whose `field` holds the whole query as a phrase."""

    def author_papers(self, name: str, *, filters: Filters, limit: int) -> list[int]:
        """Papers with an author of exactly this name, newest first."""

    def has_author(self, name: str) -> bool: ...

    def filtered(self, *, filters: Filters, limit: int) -> list[int]:
        """Every paper passing the filters, newest first."""

    def matched_fields(self, analysis: Analysis, paper_ids: list[int]) -> dict[int, list[str]]: ...

    def matching(self, paper_ids: list[int], *, filters: Filters) -> set[int]: ...


class SearchBackend(Protocol):
    name: str
    # nearest() reads only this process's files (no database connection), so it may run on another thread
    vectors_in_process: bool

    def check(self) -> None:
        """Raise ImproperlyConfigured when this backend cannot run here (called on first use)."""

    # Reads
    def snapshot(self) -> KeywordView | None:
        """A consistent view for one request; None before any keyword index exists."""

    def keyword_search(self, text: str, *, filters: Filters, limit: int,
                       within: list[int] | None = None) -> list[tuple[int, float]]:
        """(paper_id, score) best first: the words as written, no fuzzy matching, never query syntax."""

    def nearest(self, vector: np.ndarray, *, model_id: str, limit: int) -> list[tuple[int, float]]:
        """(paper_id, cosine similarity), nearest first; raises search.vectors.ModelMismatch."""

    def similarities(self, vector: np.ndarray, *, keys: list[int]) -> dict[int, float]:
        """Cosine similarity of the query to these papers' vectors (papers without one left out)."""

    # Bringing the indexes current (the indexer; search.services decides what changed)
    def has_keyword_index(self) -> bool: ...

    def write_keywords(self, papers: Iterable[IndexedPaper], *, full: bool,
                       on_progress: Callable[[int], object] | None = None) -> int:
        """full: these papers are the whole index (switched to atomically); else add or replace them."""

    def remove_papers(self, paper_ids: list[int]) -> int:
        """Drop deleted papers from both indexes (called in the deleting transaction); returns papers dropped."""

    def vector_mark(self) -> tuple[bool, str | None]:
        """(an index exists, `synced_until`: every stored vector updated before it is in)."""

    def build_vectors(self, chunks: Iterable[tuple[np.ndarray, np.ndarray]], *, model_id: str, dim: int,
                      synced_until: str | None) -> int:
        """A new vector index of exactly these (keys, vectors) chunks; returns its size."""

    def add_vectors(self, *, keys: np.ndarray, vectors: np.ndarray, model_id: str,
                    synced_until: str | None = None) -> int:
        """Add or replace vectors (raises ModelMismatch for another model); returns rows written."""

    def vector_keys(self) -> np.ndarray: ...


_instances: dict[str, SearchBackend] = {}


def get_backend() -> SearchBackend:
    """The configured backend (settings.SEARCH_BACKEND), checked once per process."""
    name = settings.SEARCH_BACKEND
    if (backend := _instances.get(name)) is None:
        if name == "local":
            from .local import LocalBackend

            backend = LocalBackend()
        elif name == "postgres":
            from .postgres import PostgresBackend

            backend = PostgresBackend()
        else:
            raise ImproperlyConfigured(f"DAILYPAPERS_SEARCH_BACKEND must be one of {', '.join(NAMES)}, not {name!r}")
        backend.check()
        _instances[name] = backend
    return backend
