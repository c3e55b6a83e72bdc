"""The local backend: tantivy + sign-code vector files in the data directory (one machine)."""

from collections.abc import Callable, Iterable

import numpy as np

from .. import keyword, vectors
from ..keyword import Filters, IndexedPaper


class LocalBackend:
    name = "local"
    vectors_in_process = True

    def check(self) -> None:
        pass  # files appear on first write; nothing to verify

    def snapshot(self) -> keyword.Snapshot | None:
        return keyword.reader.snapshot()

    def keyword_search(self, text: str, *, filters: Filters, limit: int,
                       within: list[int] | None = None) -> list[tuple[int, float]]:
        return keyword.reader.search(text, filters=filters, limit=limit, within=within)

    def nearest(self, vector: np.ndarray, *, model_id: str, limit: int) -> list[tuple[int, float]]:
        return vectors.reader.search(vector, model_id=model_id, limit=limit)

    def similarities(self, vector: np.ndarray, *, keys: list[int]) -> dict[int, float]:
        return vectors.reader.similarities(vector, keys=keys)

    def has_keyword_index(self) -> bool:
        # An index of an older schema (tantivy would refuse to update it) is rebuilt, not updated.
        generation = keyword.current_generation()
        return generation is not None and keyword.is_writable(generation)

    def write_keywords(self, papers: Iterable[IndexedPaper], *, full: bool,
                       on_progress: Callable[[int], object] | None = None) -> int:
        if full:
            count = 0

            def counted():
                nonlocal count
                for paper in papers:
                    count += 1
                    yield paper

            keyword.build(counted(), on_progress=on_progress)
            return count
        count = keyword.update(papers)
        if on_progress:
            on_progress(count)
        return count

    def remove_papers(self, paper_ids: list[int]) -> int:
        # The index files belong to whichever process holds their writer: a deleted paper stays in them
        # until the nightly rebuild (search.maintain_indexes); meanwhile results are read against the
        # papers table (selectors.held_papers), so it is gone from them at the delete's commit.
        return 0

    def vector_mark(self) -> tuple[bool, str | None]:
        info = vectors.current()
        return (info is not None, info.get("synced_until") if info else None)

    def build_vectors(self, chunks, *, model_id: str, dim: int, synced_until: str | None) -> int:
        vectors.build_chunks(chunks, model_id=model_id, dim=dim, synced_until=synced_until)
        built = vectors.current()
        return built["count"] if built else 0

    def add_vectors(self, *, keys: np.ndarray, vectors: np.ndarray, model_id: str,
                    synced_until: str | None = None) -> int:
        return _vectors_module().add(keys=keys, vectors=vectors, model_id=model_id, synced_until=synced_until)

    def vector_keys(self) -> np.ndarray:
        return vectors.reader.keys()


def _vectors_module():
    # Looked up at call time: tests replace vectors.add to simulate a crash between two steps.
    return vectors
