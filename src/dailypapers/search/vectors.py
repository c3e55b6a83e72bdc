"""The vector index: usearch HNSW (f16, cosine) over paper vectors, files under
$DATA_DIR/search/vectors/.

The database holds every vector (the source of truth); this index is derived.
Each save writes a new file and then replaces CURRENT (a small JSON naming the
file and the model) atomically, so a crash leaves the previous index serving.
Web workers memory-map the file (shared through the page cache) and reopen it
when CURRENT changes. An index records the embedding model that built it and
refuses vectors or queries from another.
"""

import json
import os
import threading
import time
from pathlib import Path

import numpy as np
import onnxruntime  # noqa: F401  Loaded before usearch: the other order segfaults in onnxruntime's import.
from django.conf import settings
from usearch.index import Index

CONNECTIVITY = 16
EXPANSION_ADD = 128
# Query-time breadth: 256 lifted recall@10 from 0.965 to 0.991 at 75k for ~0.5 ms (bench/search.py).
EXPANSION_SEARCH = 256


class ModelMismatch(Exception):
    pass


def _root() -> Path:
    return Path(settings.DATA_DIR) / "search" / "vectors"


def _new_index(dim: int) -> Index:
    return Index(
        ndim=dim, metric="cos", dtype="f16",
        connectivity=CONNECTIVITY, expansion_add=EXPANSION_ADD, expansion_search=EXPANSION_SEARCH,
    )


def current() -> dict | None:
    """{"file": ..., "model_id": ..., "dim": ..., "count": ...} of the index in use."""
    try:
        info = json.loads((_root() / "CURRENT").read_text())
    except FileNotFoundError:
        return None
    return info if (_root() / info["file"]).exists() else None


def _publish(index: Index, *, model_id: str, dim: int) -> None:
    root = _root()
    root.mkdir(parents=True, exist_ok=True)
    name = f"vectors-{time.time_ns()}.usearch"
    index.save(str(root / name))
    tmp = root / "CURRENT.tmp"
    tmp.write_text(json.dumps({"file": name, "model_id": model_id, "dim": dim, "count": len(index)}))
    os.replace(tmp, root / "CURRENT")
    for old in root.glob("vectors-*.usearch"):
        if old.name != name:
            old.unlink(missing_ok=True)  # open memory maps keep the old inode alive


def build(*, keys: np.ndarray, vectors: np.ndarray, model_id: str, threads: int = 0) -> None:
    """A new index from all vectors (keys are paper ids)."""
    index = _new_index(vectors.shape[1])
    if len(keys):
        index.add(keys.astype(np.uint64), vectors, threads=threads)
    _publish(index, model_id=model_id, dim=vectors.shape[1])


def add(*, keys: np.ndarray, vectors: np.ndarray, model_id: str, threads: int = 0) -> None:
    """Add (or replace) vectors in the current index and publish the result."""
    info = current()
    if info is None:
        build(keys=keys, vectors=vectors, model_id=model_id, threads=threads)
        return
    if info["model_id"] != model_id:
        raise ModelMismatch(
            f"the vector index was built with {info['model_id']}, not {model_id}: run `dailypapers index --rebuild`"
        )
    index = _new_index(info["dim"])
    index.load(str(_root() / info["file"]))
    keys = keys.astype(np.uint64)
    present = [k for k in keys if k in index]
    if present:
        index.remove(present)
    index.add(keys, vectors, threads=threads)
    _publish(index, model_id=model_id, dim=info["dim"])


class Reader:
    """A per-process, memory-mapped view of the current index, reopened when it changes."""

    def __init__(self):
        self._lock = threading.Lock()
        self._file: str | None = None
        self._index: Index | None = None
        self.model_id: str | None = None

    def index(self) -> Index | None:
        info = current()
        if info is None:
            return None
        with self._lock:
            if info["file"] != self._file:
                index = _new_index(info["dim"])
                index.view(str(_root() / info["file"]))
                self._index, self._file, self.model_id = index, info["file"], info["model_id"]
            return self._index

    def search(self, vector: np.ndarray, *, model_id: str, limit: int) -> list[tuple[int, float]]:
        """(paper_id, cosine similarity), nearest first."""
        index = self.index()
        if index is None or len(index) == 0:
            return []
        if self.model_id != model_id:
            raise ModelMismatch(f"the vector index holds {self.model_id} vectors, the query is {model_id}")
        matches = index.search(vector, min(limit, len(index)), threads=1)
        return [(int(key), 1.0 - float(distance)) for key, distance in zip(matches.keys, matches.distances)]

    def similarities(self, vector: np.ndarray, *, keys: list[int]) -> dict[int, float]:
        """Exact cosine similarity of the query to these papers' indexed vectors."""
        index = self.index()
        if index is None or not keys:
            return {}
        present = [k for k in keys if k in index]
        if not present:
            return {}
        stored = np.asarray(index.get(np.array(present, dtype=np.uint64), dtype=np.float32), dtype=np.float32)
        stored /= np.maximum(np.linalg.norm(stored, axis=1, keepdims=True), 1e-12)
        return dict(zip(present, (stored @ vector).tolist()))


reader = Reader()
