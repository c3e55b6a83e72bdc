"""The vector index: 384-bit sign codes scanned by Hamming distance (faiss), the
best candidates ranked on int8 rows, the best of those rescored exactly on the
float vectors. Files under $DATA_DIR/search/vectors/.

The database holds every vector (the source of truth); this index is derived.
A generation is a directory of four append-only row files, memory-mapped by
every reader, so all web workers share one copy through the page cache:

    keys.u64      paper ids (uint64)
    codes.u8      sign bits of (vector - centre) @ rotation, _code_bits(dim)/8 bytes a row
    residuals.i8  (vector - centre) / step, rounded to int8, dim bytes a row
    vectors.f32   the L2-normalised vector (float32), for exact rescoring

plus the frame they are encoded in, fitted when the generation is written:
centre.f32 (the mean vector: MiniLM vectors share a large common component;
without centring, half the bits are nearly constant), rotation.f32 (a random
dim x bits matrix with orthonormal rows, a rotation when bits = dim: the
variance of embeddings sits in few coordinates, and a sign bit of a
low-variance coordinate only encodes noise; rotated, every bit is a random
hyperplane through the centre, and bits > dim spread more of them evenly) and step.f32
(the int8 step of each dimension, STEP_SIGMAS spreads / 127). Appended rows use
the generation's frame; a rewrite fits a new one. A search scans the codes for
RESCORE candidates, ranks them by int8 dot product (faiss's int8 kernel; near
exact, a quarter of the bytes of a float row: gathering the candidates' rows is
what costs) and rescores the best EXACT exactly.

A generation of PARTITION_MIN_ROWS rows or more is also partitioned into cells
(an inverted file): k-means centroids of its vectors (centroids.f32), each
row's nearest centroid (cells.u16, a row file like the others) and its rows
stored cell by cell (cells.offsets: where each cell's rows start). A search
then scans the codes of the PROBE_SHARE of cells whose centroids are nearest
the query, not all of them: at 1M the scan of every code reads 64 MB, which
on a CPU without AVX-512 took 8.5 ms of the vector search's 14. Rows appended
after the generation was written carry their nearest centroid in cells.u16
and are scanned when their cell is.

CURRENT, a small JSON replaced atomically, names the generation, its format
(FORMAT; an index of another format is not read, and the indexer rebuilds it
from the database) and how many rows of it are complete: a writer appends
rows, fsyncs, then publishes the new count, so a reader never sees a
half-written row and a crash mid-append leaves the previous count serving
(the next writer cuts the torn tail off). A key written again gets a new row;
the last row of a key wins. When stale rows pile up, or the index has doubled
since its frame was fitted, the writer rewrites it as a new generation.
`build` always writes a new generation and switches to it the same way.

CURRENT also records `synced_until`, an opaque mark set by the caller (the
indexer: "every stored vector updated before this is in"), so the index and
its mark change together. An index records the embedding model that built it
and refuses vectors or queries from another.

Why not HNSW (usearch, which this replaced): it needs a build (53 s at 75k,
~10 min at 1M on this box) and every update rewrote the whole file, so
vectors reached it only at the end of an indexer run and were lost when the
indexer died; at 1M it also recalled less (0.83 at ef 512 against 0.85 here
at 3,000 candidates). This needs no build, appends each batch in place, and
every worker shares its files. Measured in bench/search.py `ann`.
"""

import contextlib
import fcntl
import json
import os
import shutil
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import faiss
import numpy as np
from django.conf import settings

# The generation format: CURRENT of another format is not read (the indexer rebuilds from the database).
# 2 added the rotation, the int8 rows and their steps; 3 widened the codes from dim to _code_bits(dim) bits.
FORMAT = 3
# Hamming candidates ranked on the int8 rows, and how many of the best of those are rescored exactly on
# the float rows; then, for a generation of PARTITION_MIN_ROWS rows or more, the share of its cells
# probed. The sign codes only approximate the angle: recall@10 is set by how many candidates are ranked
# (the int8 stage keeps it exactly) and by the cells probed. At 1M (real vectors + mixtures, 400 queries,
# bench/ann_stages.py, CPU of the whole search; 2,048 cells of ~490 rows): scanning every code, 0.956 at
# 8,000 candidates and 0.973 at 12,000 for 15.6 and 15.9 ms; probing 1/8 of the cells 0.946 / 0.953 for
# 6.9 / 8.2 ms, 3/16 0.957 / 0.964 for 7.5 / 8.5 ms, 1/4 0.964 / 0.971 for 7.9 / 9.3 ms. Which cells a
# k-means run draws moves recall by ~0.01 (the share of true neighbours inside the probed 1/8 ranged
# 0.957-0.979 over 7 seeds; the 1M build above drew the 0.957): a quarter of the cells keeps a margin over
# 0.95. Those figures are from a CPU without AVX-512. On one with it, the same set and queries drew a
# partition at 0.957 / 0.968 for 3.9 / 4.4 ms (8,000 / 12,000 candidates, a quarter probed; 10,000 read
# 0.963 for 0.1 ms more than 8,000 in search.py latency): 10,000 keeps the margin over 0.95 on either.
# Below PARTITION_MIN_ROWS a full scan takes a few ms and stays.
RESCORE = 10_000
EXACT = 100
PARTITION_MIN_ROWS = 200_000
PROBE_SHARE = 1 / 4
CELL_TRAINING_ROWS = 40  # per cell: k-means' sample (faiss asks for at least 39)
CELL_ITERATIONS = 10
# int8 steps cover this many standard deviations of each dimension either side of the centre.
STEP_SIGMAS = 4
# Rewrite a generation when a quarter of its rows are stale, when it has doubled since its frame (and
# cells) were fitted (amortised: each row is rewritten O(1) times), or when it has grown to be partitioned.
STALE_SHARE = 0.25
RECENTRE_GROWTH = 2
RECENTRE_MIN_ROWS = 64
_CHUNK = 50_000


class _OneOpenMPThread(threading.local):
    """One query per request: faiss's OpenMP threads only fight the other workers for the cores (on the busy
    2-core box a 50k scan took 47 ms with two of them, 1 ms with one). omp_set_num_threads sets the team
    size of the calling thread only, so each thread that searches (the query-embedding threads, a threaded
    server's request threads) sets it for itself: unset, a search on such a thread ran two OpenMP threads
    that busy-wait after each scan, and took the request's other thread's core (bench/search.py latency)."""

    ready = False

    def ensure(self) -> None:
        if not self.ready:
            faiss.omp_set_num_threads(1)
            self.ready = True


_one_openmp_thread = _OneOpenMPThread()
_one_openmp_thread.ensure()  # the importing thread, which also builds


class ModelMismatch(Exception):
    pass


def _root() -> Path:
    return Path(settings.DATA_DIR) / "search" / "vectors"


def current() -> dict | None:
    """The manifest of the index in use: generation, model_id, dim, count, rows_at_centre, synced_until."""
    try:
        info = json.loads((_root() / "CURRENT").read_text())
    except FileNotFoundError:
        return None
    if info.get("format") != FORMAT or not (_root() / info["generation"]).is_dir():
        return None  # an index of an older format: the indexer builds a new one from the database
    return info


def _code_bits(dim: int) -> int:
    """The next power of two >= dim: 512 for MiniLM's 384. More bits recall more per candidate (1M:
    0.953 at 10,000 candidates against 0.941 with 384), and faiss has a Hamming kernel for 64-byte codes
    and none for 48: the scan of 1M is no slower (5.6 against 6.6 ms CPU for random codes)."""
    return 1 << max(3, (dim - 1).bit_length())


def _code_bytes(dim: int) -> int:
    return _code_bits(dim) // 8


class _Frame:
    """What a generation's rows are encoded around, fixed when the generation is written:
    the centre (mean vector), a random rotation and the int8 step of each dimension."""

    def __init__(self, centre: np.ndarray, rotation: np.ndarray, step: np.ndarray):
        self.centre, self.rotation, self.step = centre, rotation, step

    @classmethod
    def fit(cls, *, total: np.ndarray, squares: np.ndarray, count: int, dim: int) -> "_Frame":
        """From the sum and sum of squares of the vectors: int8 covers +-STEP_SIGMAS spreads of each
        dimension around the centre (rarer values are clipped)."""
        centre = total / max(count, 1)
        spread = np.sqrt(np.maximum(squares / max(count, 1) - centre**2, 0))
        step = np.maximum(STEP_SIGMAS * spread / 127, 1e-6)
        # Q of a (bits x dim) Gaussian has orthonormal columns: its transpose, orthonormal rows.
        rotation = np.linalg.qr(np.random.default_rng(count).standard_normal((_code_bits(dim), dim)))[0].T
        return cls(centre.astype(np.float32), rotation.astype(np.float32), step.astype(np.float32))

    @classmethod
    def load(cls, directory: Path, dim: int) -> "_Frame":
        centre, rotation, step = (np.fromfile(directory / name, dtype=np.float32) for name in _FRAME_FILES)
        return cls(centre, rotation.reshape(dim, _code_bits(dim)), step)

    def save(self, directory: Path) -> None:
        for name, values in zip(_FRAME_FILES, (self.centre, self.rotation, self.step)):
            with open(directory / name, "wb") as file:
                file.write(values.tobytes())
                _flush(file)

    def codes(self, vectors: np.ndarray) -> np.ndarray:
        """Sign bits of the rotated (vector - centre)."""
        return np.packbits((np.asarray(vectors, dtype=np.float32) - self.centre) @ self.rotation > 0, axis=1)

    def residuals(self, vectors: np.ndarray) -> np.ndarray:
        """(vector - centre) in int8 steps: their dot product with query * step ranks like the cosine."""
        scaled = np.rint((np.asarray(vectors, dtype=np.float32) - self.centre) / self.step)
        return np.clip(scaled, -127, 127).astype(np.int8)


_FRAME_FILES = ("centre.f32", "rotation.f32", "step.f32")


def _cell_count(rows: int) -> int:
    """Cells of a partitioned generation: the power of two at or above 2 * sqrt(rows), 2,048 at 1M."""
    return 1 << int(np.ceil(np.log2(2 * np.sqrt(rows))))


class _Cells:
    """The partition of a generation: k-means centroids of its vectors, fitted when it is written, and
    where each cell's rows start among the rows written then (stored cell by cell)."""

    def __init__(self, centroids: np.ndarray, offsets: np.ndarray):
        self.centroids, self.offsets = centroids, offsets
        self._nearest: faiss.IndexFlatIP | None = None

    @classmethod
    def fit(cls, sample: np.ndarray, *, cells: int, seed: int) -> "_Cells":
        """Spherical k-means (the vectors are unit length and compared by inner product)."""
        kmeans = faiss.Kmeans(sample.shape[1], cells, niter=CELL_ITERATIONS, seed=seed, spherical=True,
                              max_points_per_centroid=CELL_TRAINING_ROWS)
        kmeans.train(np.ascontiguousarray(sample, dtype=np.float32))
        centroids = np.array(kmeans.centroids, dtype=np.float32)
        return cls(centroids[_chained(centroids)], np.zeros(cells + 1, dtype=np.int64))

    @staticmethod
    def written(directory: Path) -> bool:
        """Whether this generation is partitioned."""
        return (directory / "centroids.f32").exists()

    @classmethod
    def load(cls, directory: Path, dim: int) -> "_Cells | None":
        if not cls.written(directory):
            return None
        centroids = np.fromfile(directory / "centroids.f32", dtype=np.float32).reshape(-1, dim)
        offsets = np.fromfile(directory / "cells.offsets", dtype=np.int64)
        # A search reads each cell's rows by address (_ProbedScan): offsets that do not fit are refused here.
        if len(offsets) != len(centroids) + 1 or offsets[0] != 0 or (np.diff(offsets) < 0).any():
            raise ValueError(f"{directory}: the cells' offsets do not fit its {len(centroids)} cells")
        return cls(centroids, offsets)

    def save(self, directory: Path) -> None:
        for name, values in (("centroids.f32", self.centroids), ("cells.offsets", self.offsets)):
            with open(directory / name, "wb") as file:
                file.write(values.tobytes())
                _flush(file)

    def assign(self, vectors: np.ndarray) -> np.ndarray:
        """Each vector's nearest centroid."""
        if self._nearest is None:
            self._nearest = faiss.IndexFlatIP(self.centroids.shape[1])
            self._nearest.add(self.centroids)
        _, nearest = self._nearest.search(np.ascontiguousarray(vectors, dtype=np.float32), 1)
        return nearest[:, 0].astype(np.uint16)

    def probed(self, query: np.ndarray) -> np.ndarray:
        """The PROBE_SHARE of cells nearest the query, in cell order."""
        probes = max(1, round(len(self.centroids) * PROBE_SHARE))
        scores = _dot(self.centroids, query)
        return np.sort(np.argpartition(-scores, probes - 1)[:probes])


def _chained(centroids: np.ndarray) -> np.ndarray:
    """An order of the cells in which each is followed by the nearest one not yet placed (a greedy chain
    from the first). Stored in that order, the quarter of the cells a query probes lies in half as many runs
    of adjacent cells (at 1M: ~200 instead of ~385 of 512), and a search pays per run (_ProbedScan)."""
    placed = np.zeros(len(centroids), dtype=bool)
    order = np.empty(len(centroids), dtype=np.int64)
    cell = 0
    for position in range(len(centroids)):  # one row of similarities at a time: no cells x cells matrix
        order[position], placed[cell] = cell, True
        similarity = _dot(centroids, centroids[cell])
        similarity[placed] = -np.inf
        cell = int(np.argmax(similarity))
    return order


@contextlib.contextmanager
def _writer_lock() -> Iterator[None]:
    """One writer at a time (the indexer, a rebuild, the demo loader), across processes."""
    root = _root()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "WRITER.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _flush(*files) -> None:
    for file in files:
        file.flush()
        os.fsync(file.fileno())


def _publish(info: dict) -> None:
    root = _root()
    tmp = root / "CURRENT.tmp"
    with open(tmp, "w") as file:
        json.dump(info, file)
        _flush(file)
    os.replace(tmp, root / "CURRENT")
    _fsync_dir(root)


def _remove_other_generations(keep: str) -> None:
    """Open memory maps keep the old files alive until their readers move on."""
    root = _root()
    for path in root.iterdir():
        if path.name.startswith("gen-") and path.name != keep:
            shutil.rmtree(path, ignore_errors=True)
        elif path.suffix == ".usearch":  # the previous (HNSW) format
            path.unlink(missing_ok=True)


class _Files:
    """The row files of a generation, opened for appending after `count` complete rows."""

    def __init__(self, directory: Path, *, dim: int, count: int, partitioned: bool):
        self.sizes = {"keys.u64": 8, "codes.u8": _code_bytes(dim), "residuals.i8": dim, "vectors.f32": 4 * dim}
        if partitioned:
            self.sizes["cells.u16"] = 2
        self.files = {}
        for name, row in self.sizes.items():
            file = open(directory / name, "a+b")  # noqa: SIM115 - kept open until close()
            file.truncate(count * row)  # a torn tail from a writer that died mid-append
            self.files[name] = file

    def append(self, *, keys: np.ndarray, vectors: np.ndarray, frame: _Frame, cells: "_Cells | None") -> None:
        self.files["keys.u64"].write(np.ascontiguousarray(keys, dtype=np.uint64).tobytes())
        self.files["codes.u8"].write(frame.codes(vectors).tobytes())
        self.files["residuals.i8"].write(frame.residuals(vectors).tobytes())
        self.files["vectors.f32"].write(np.ascontiguousarray(vectors, dtype=np.float32).tobytes())
        if cells is not None:
            self.files["cells.u16"].write(cells.assign(vectors).tobytes())

    def close(self) -> None:
        _flush(*self.files.values())
        for file in self.files.values():
            file.close()


def _write_generation(
    chunks: Iterable[tuple[np.ndarray, np.ndarray]], *, model_id: str, dim: int, synced_until: str | None
) -> None:
    """A new generation from (keys, vectors) chunks, published when complete. Caller holds the writer lock.

    Two passes, so memory stays bounded at any size: keys and vectors are
    streamed to disk while their sums (for the centre and int8 steps) are taken,
    then the codes and int8 rows are computed from the float file."""
    name = f"gen-{time.time_ns()}"
    directory = _root() / name
    directory.mkdir(parents=True)
    total, squares, count = np.zeros(dim, dtype=np.float64), np.zeros(dim, dtype=np.float64), 0
    with open(directory / "keys.u64", "wb") as keys_file, open(directory / "vectors.f32", "wb") as vectors_file:
        for keys, vectors in chunks:
            vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, dim)
            keys_file.write(np.asarray(keys, dtype=np.uint64).tobytes())
            vectors_file.write(vectors.tobytes())
            total += vectors.sum(axis=0, dtype=np.float64)
            squares += np.einsum("ij,ij->j", vectors, vectors, dtype=np.float64)
            count += len(vectors)
        _flush(keys_file, vectors_file)
    frame = _Frame.fit(total=total, squares=squares, count=count, dim=dim)
    frame.save(directory)
    if count >= PARTITION_MIN_ROWS:
        _store_by_cell(directory, count=count, dim=dim)
    with open(directory / "codes.u8", "wb") as codes_file, open(directory / "residuals.i8", "wb") as residuals_file:
        if count:
            stored = np.memmap(directory / "vectors.f32", dtype=np.float32, mode="r", shape=(count, dim))
            for start in range(0, count, _CHUNK):
                codes_file.write(frame.codes(stored[start:start + _CHUNK]).tobytes())
                residuals_file.write(frame.residuals(stored[start:start + _CHUNK]).tobytes())
            del stored
        _flush(codes_file, residuals_file)
    _fsync_dir(directory)
    _publish({"format": FORMAT, "generation": name, "model_id": model_id, "dim": dim, "count": count,
              "rows_at_centre": count, "stale": 0, "synced_until": synced_until})
    _remove_other_generations(keep=name)


def _store_by_cell(directory: Path, *, count: int, dim: int) -> None:
    """Partition the rows just written: fit the cells on a sample, then rewrite keys and vectors cell by
    cell (rows of a cell in their order as given) with each row's cell beside them. Streams in chunks."""
    for name in ("keys.u64", "vectors.f32"):
        os.replace(directory / name, directory / f"unpartitioned-{name}")
    given_keys = np.memmap(directory / "unpartitioned-keys.u64", dtype=np.uint64, mode="r", shape=(count,))
    given = np.memmap(directory / "unpartitioned-vectors.f32", dtype=np.float32, mode="r", shape=(count, dim))
    cell_count = _cell_count(count)
    rng = np.random.default_rng(count)
    sample = np.sort(rng.choice(count, min(count, CELL_TRAINING_ROWS * cell_count), replace=False))
    cells = _Cells.fit(given[sample], cells=cell_count, seed=count)
    of_row = np.concatenate([cells.assign(given[start:start + _CHUNK]) for start in range(0, count, _CHUNK)])
    order = np.argsort(of_row, kind="stable")
    cells.offsets = np.searchsorted(of_row[order], np.arange(cell_count + 1)).astype(np.int64)
    with (open(directory / "keys.u64", "wb") as keys_file, open(directory / "vectors.f32", "wb") as vectors_file,
          open(directory / "cells.u16", "wb") as cells_file):
        for start in range(0, count, _CHUNK):
            chunk = order[start:start + _CHUNK]
            rows = np.sort(chunk)  # read in file order, written in cell order
            within = np.searchsorted(rows, chunk)
            keys_file.write(np.asarray(given_keys[rows])[within].tobytes())
            vectors_file.write(np.asarray(given[rows])[within].tobytes())
            cells_file.write(of_row[chunk].tobytes())
        _flush(keys_file, vectors_file, cells_file)
    del given_keys, given
    cells.save(directory)
    for name in ("keys.u64", "vectors.f32"):
        (directory / f"unpartitioned-{name}").unlink()


def build(*, keys: np.ndarray, vectors: np.ndarray, model_id: str, synced_until: str | None = None) -> None:
    """A new index from all vectors (keys are paper ids), switched to atomically."""
    build_chunks([(keys, vectors)], model_id=model_id, dim=vectors.shape[1], synced_until=synced_until)


def build_chunks(
    chunks: Iterable[tuple[np.ndarray, np.ndarray]], *, model_id: str, dim: int, synced_until: str | None = None
) -> None:
    """`build` from (keys, vectors) chunks, for indexes larger than memory."""
    with _writer_lock():
        _write_generation(chunks, model_id=model_id, dim=dim, synced_until=synced_until)


def add(*, keys: np.ndarray, vectors: np.ndarray, model_id: str, synced_until: str | None = None) -> int:
    """Add (or replace) vectors and publish them; returns how many rows were written.

    A vector equal to the one the index already holds for its key is skipped, so
    catching up on rows that may already be in costs nothing. `synced_until`, when
    given, is published with the rows."""
    keys = np.asarray(keys, dtype=np.uint64)
    vectors = np.asarray(vectors, dtype=np.float32)
    if len(vectors) != len(keys):
        raise ValueError(f"{len(keys)} keys for {len(vectors)} vectors")
    with _writer_lock():
        info = current()
        if info is None:
            _write_generation([(keys, vectors)], model_id=model_id, dim=vectors.shape[1], synced_until=synced_until)
            return len(keys)
        if info["model_id"] != model_id:
            raise ModelMismatch(
                f"the vector index was built with {info['model_id']}, not {model_id}: run `dailypapers index --rebuild`"
            )
        if vectors.shape[1] != info["dim"]:
            raise ModelMismatch(f"the vector index holds {info['dim']}-d vectors, not {vectors.shape[1]}-d")
        view = _View.open(info)
        rows = view.latest_rows(keys)
        known = rows >= 0
        unchanged = np.zeros(len(keys), dtype=bool)
        if known.any():
            unchanged[known] = (view.vectors[rows[known]] == vectors[known]).all(axis=1)
        # The last of repeated keys in one call wins, as it would across calls.
        last = np.zeros(len(keys), dtype=bool)
        last[len(keys) - 1 - np.unique(keys[::-1], return_index=True)[1]] = True
        fresh = last & ~unchanged
        stale = int(known[fresh].sum()) + info.get("stale", 0)
        del view
        if fresh.any():
            directory = _root() / info["generation"]
            cells = _Cells.load(directory, info["dim"])
            files = _Files(directory, dim=info["dim"], count=info["count"], partitioned=cells is not None)
            files.append(keys=keys[fresh], vectors=vectors[fresh], frame=_Frame.load(directory, info["dim"]),
                         cells=cells)
            files.close()
        info = {**info, "count": info["count"] + int(fresh.sum()), "stale": stale}
        if synced_until is not None:
            info["synced_until"] = synced_until
        if fresh.any() or synced_until is not None:
            _publish(info)
        unpartitioned = not _Cells.written(_root() / info["generation"])
        if (
            stale > STALE_SHARE * info["count"]
            or (info["count"] >= RECENTRE_MIN_ROWS and info["count"] >= RECENTRE_GROWTH * info["rows_at_centre"])
            or (unpartitioned and info["count"] - stale >= PARTITION_MIN_ROWS)
        ):
            _rewrite(info)
        return int(fresh.sum())


def _rewrite(info: dict) -> None:
    """The live rows (last per key) as a new generation with a fresh centre. Caller holds the writer lock."""
    view = _View.open(info)
    live = np.sort(view.order[_last_of_runs(view.sorted_keys)])

    def chunks():
        for start in range(0, len(live), _CHUNK):
            rows = live[start:start + _CHUNK]
            yield view.keys[rows], view.vectors[rows]

    _write_generation(chunks(), model_id=info["model_id"], dim=info["dim"], synced_until=info.get("synced_until"))


def _last_of_runs(sorted_keys: np.ndarray) -> np.ndarray:
    """Positions of the last element of each run of equal keys."""
    if not len(sorted_keys):
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.append(sorted_keys[1:] != sorted_keys[:-1], True))


class _View:
    """The first `count` rows of a generation, memory-mapped, and a key -> last row lookup."""

    def __init__(self, info: dict, keys, codes, residuals, vectors, frame, sorted_keys, order, partition, cells):
        self.generation, self.count, self.model_id = info["generation"], info["count"], info["model_id"]
        self.keys, self.codes, self.residuals, self.vectors, self.frame = keys, codes, residuals, vectors, frame
        self.sorted_keys, self.order = sorted_keys, order  # keys[order] == sorted_keys; equal keys by row
        self.partition, self.cells = partition, cells  # None for a generation too small to be partitioned

    @classmethod
    def open(cls, info: dict, previous: "_View | None" = None) -> "_View":
        directory, dim, count = _root() / info["generation"], info["dim"], info["count"]

        def mapped(name, dtype, width):
            shape = (count, width) if width else (count,)
            if count == 0:
                return np.zeros(shape, dtype=dtype)
            return np.memmap(directory / name, dtype=dtype, mode="r", shape=shape)

        keys = mapped("keys.u64", np.uint64, 0)
        codes = mapped("codes.u8", np.uint8, _code_bytes(dim))
        residuals = mapped("residuals.i8", np.int8, dim)
        vectors = mapped("vectors.f32", np.float32, dim)
        if previous is not None and previous.generation == info["generation"]:
            frame, partition = previous.frame, previous.partition  # fixed for the generation
        else:
            frame, partition = _Frame.load(directory, dim), _Cells.load(directory, dim)
        cells = mapped("cells.u16", np.uint16, 0) if partition is not None else None
        if partition is not None and partition.offsets[-1] > count:
            raise ValueError(f"{directory}: its cells hold more rows than the {count} published")
        if previous is not None and previous.generation == info["generation"] and previous.count <= count:
            # Same generation, rows appended: merge the new rows into the lookup (no full re-sort).
            new_rows = np.arange(previous.count, count, dtype=np.int64)
            tail = np.argsort(keys[previous.count:], kind="stable")
            new_keys, new_rows = np.asarray(keys[previous.count:])[tail], new_rows[tail]
            at = np.searchsorted(previous.sorted_keys, new_keys, side="right")  # after older rows of a key
            sorted_keys = np.insert(previous.sorted_keys, at, new_keys)
            order = np.insert(previous.order, at, new_rows)
        else:
            order = np.argsort(keys, kind="stable").astype(np.int64)
            sorted_keys = np.asarray(keys)[order]
        return cls(info, keys, codes, residuals, vectors, frame, sorted_keys, order, partition, cells)

    def latest_rows(self, keys: np.ndarray) -> np.ndarray:
        """The last row of each key, -1 for keys not in the index."""
        keys = np.asarray(keys, dtype=np.uint64)
        if not len(self.sorted_keys):
            return np.full(len(keys), -1, dtype=np.int64)
        at = np.searchsorted(self.sorted_keys, keys, side="right") - 1
        safe = np.maximum(at, 0)
        return np.where((at >= 0) & (self.sorted_keys[safe] == keys), self.order[safe], -1)


def _dot(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """matrix @ vector without BLAS: OpenBLAS's threads stall behind the other workers on a busy box
    (1,500 rows: 16 ms through @, 0.3 ms through einsum, bench/search.py `ann`)."""
    return np.einsum("ij,j->i", matrix, vector)


class _Distances(threading.local):
    """This thread's buffer for the Hamming distance of every scanned code (4 MB at 1M), kept at the largest
    size held: allocated per search, such buffers raised glibc's mmap threshold and their memory stayed in
    each thread's arena (a web worker's private memory at 1M grew by ~60 MB, bench/search.py latency)."""

    def __init__(self):
        self._distances = np.zeros(0, dtype=np.int32)
        self._mask = np.zeros(0, dtype=bool)

    def distances(self, count: int) -> np.ndarray:
        if len(self._distances) < count:
            self._distances = np.empty(count, dtype=np.int32)
        return self._distances[:count]

    def mask(self, count: int) -> np.ndarray:
        if len(self._mask) < count:
            self._mask = np.empty(count, dtype=bool)
        return self._mask[:count]


_buffers = _Distances()


# SWIG functions of faiss that its type stubs leave out.
_faiss_hammings = faiss.hammings  # type: ignore[attr-defined]
_uint8_pointer = faiss.cast_integer_to_uint8_ptr  # type: ignore[attr-defined]
_int_pointer = faiss.cast_integer_to_int_ptr


def _hammings(query_code: np.ndarray, codes: np.ndarray, out: np.ndarray) -> None:
    """The Hamming distance of the query's code to each of `codes` (contiguous rows), into `out`."""
    _faiss_hammings(faiss.swig_ptr(query_code), faiss.swig_ptr(codes), 1, len(codes), codes.shape[1],
                    faiss.swig_ptr(out))


def _nearest(distances: np.ndarray, count: int) -> np.ndarray:
    """Positions of the `count` smallest distances, ascending (of equal distances at the cut, the first):
    a cut at the distance that holds `count`. With every distance computed by faiss, at 1M codes 1.5 ms less
    than faiss's own top-k selection (knn_hamming, counting variant), twice as fast on a partitioned search's
    ~125k (bench/ann_stages.py)."""
    if count >= len(distances):
        return np.arange(len(distances))
    cut = int(np.searchsorted(np.cumsum(np.bincount(distances)), count))  # the first distance holding count
    near = np.flatnonzero(np.less_equal(distances, cut, out=_buffers.mask(len(distances))))
    if len(near) > count:  # drop the last codes at the cut distance
        at_cut = np.flatnonzero(distances[near] == cut)
        near = np.delete(near, at_cut[len(at_cut) - (len(near) - count):])
    return near


class _ProbedScan:
    """The distances of the query's code to the rows of the cells nearest the query: each cell's run of rows
    stored cell by cell scanned where it lies (no copy), then the rows appended since in those cells."""

    def __init__(self, view: "_View", query: np.ndarray, query_code: np.ndarray):
        partition = view.partition
        probed = partition.probed(query)
        listed = int(partition.offsets[-1])
        in_probed = np.zeros(len(partition.centroids), dtype=bool)
        in_probed[probed] = True
        self.appended = listed + np.flatnonzero(in_probed[view.cells[listed:]])
        first = np.flatnonzero(np.diff(probed, prepend=-2) != 1)  # adjacent cells' rows are one run
        self.starts = partition.offsets[probed[first]]
        ends = partition.offsets[np.append(probed[first[1:] - 1], probed[-1]) + 1]
        self.at = np.concatenate([[0], np.cumsum(ends - self.starts)])  # where each run's distances begin
        self.distances = _buffers.distances(int(self.at[-1]) + len(self.appended))
        # By address: a numpy slice and its SWIG pointer for each of ~500 runs cost 2 ms at 1M. The offsets
        # were checked against the cells and the published rows when the view was opened.
        query_at, width = faiss.swig_ptr(query_code), view.codes.shape[1]
        codes_at, distances_at = view.codes.ctypes.data, self.distances.ctypes.data
        for start, end, at in zip(self.starts.tolist(), ends.tolist(), self.at.tolist()):
            if end > start:
                _faiss_hammings(query_at, _uint8_pointer(codes_at + start * width), 1, end - start, width,
                                _int_pointer(distances_at + 4 * at))
        if len(self.appended):
            _hammings(query_code, np.take(view.codes, self.appended, axis=0), self.distances[self.at[-1]:])

    def rows(self, positions: np.ndarray) -> np.ndarray:
        """The rows at these positions of `distances` (ascending in, ascending out)."""
        listed = positions < self.at[-1]
        run = np.searchsorted(self.at, positions[listed], side="right") - 1
        return np.concatenate([self.starts[run] + positions[listed] - self.at[run],
                               self.appended[positions[~listed] - self.at[-1]]])


class _Int8Scan(threading.local):
    """The int8 stage through faiss's scalar-quantizer kernel (SIMD int8 dot products): the candidates'
    rows are gathered straight into a scratch index of this thread, which keeps the largest size it has
    held (RESCORE rows, a few MB). Faster than numpy's int8 x float einsum (bench/ann_stages.py)."""

    def __init__(self):
        self.index: faiss.IndexScalarQuantizer | None = None

    def best(self, residuals: np.ndarray, rows: np.ndarray, query: np.ndarray, count: int) -> np.ndarray:
        """Positions in `rows` of the `count` rows of largest int8 . query."""
        dim = residuals.shape[1]
        if self.index is None or self.index.d != dim:
            self.index = faiss.IndexScalarQuantizer(
                dim, faiss.ScalarQuantizer.QT_8bit_direct_signed, faiss.METRIC_INNER_PRODUCT
            )
            self.index.is_trained = True  # a direct code: nothing to fit
        self.index.codes.resize(len(rows) * dim)
        scratch = faiss.rev_swig_ptr(self.index.codes.data(), len(rows) * dim).reshape(len(rows), dim)
        np.take(residuals, rows, axis=0, out=scratch.view(np.int8))
        np.bitwise_xor(scratch, 0x80, out=scratch)  # the kernel's codes are value + 128
        self.index.ntotal = len(rows)
        # The kernel rounds the query to int8 as well (an int8 x int8 dot product): scaled to fill the range,
        # the top 100 of 15,000 rows are 99 of those of the float query.
        scaled = query / max(float(np.abs(query).max()), 1e-30) * 127
        _, positions = self.index.search(scaled[None].astype(np.float32), count)
        return positions[0]


_int8_scan = _Int8Scan()


class Reader:
    """A per-process view of the current index, following new rows and generations."""

    def __init__(self):
        self._lock = threading.Lock()
        self._view: _View | None = None

    def view(self) -> _View | None:
        for _ in range(3):
            info = current()
            if info is None:
                return None
            with self._lock:
                if self._view is None or (self._view.generation, self._view.count) != (
                    info["generation"],
                    info["count"],
                ):
                    try:
                        self._view = _View.open(info, previous=self._view)
                    except FileNotFoundError:
                        continue  # a writer switched generations between reading CURRENT and opening: again
                return self._view
        return None

    def search(self, vector: np.ndarray, *, model_id: str, limit: int) -> list[tuple[int, float]]:
        """(paper_id, cosine similarity), nearest first."""
        view = self.view()
        if view is None or view.count == 0 or limit <= 0:
            return []
        if view.model_id != model_id:
            raise ModelMismatch(f"the vector index holds {view.model_id} vectors, the query is {model_id}")
        _one_openmp_thread.ensure()
        query = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        code, candidates = view.frame.codes(query), max(RESCORE, 2 * limit)
        if view.partition is None:
            distances = _buffers.distances(view.count)
            _hammings(code, view.codes, distances)
            rows = _nearest(distances, candidates)
        else:
            scan = _ProbedScan(view, query[0], code)
            rows = scan.rows(_nearest(scan.distances, candidates))
        # rows ascend: they are read in file order
        exact = max(EXACT, 2 * limit)
        if len(rows) > exact:
            # int8 (vector - centre) . (query * step) ranks like the cosine (q . centre is the same for all).
            rows = rows[np.sort(_int8_scan.best(view.residuals, rows, query[0] * view.frame.step, exact))]
        # A replaced vector's old row is not a hit. Checked on the shortlist only: on every candidate the
        # lookup cost more than the int8 stage, and a stale row only takes a shortlist place (rewrites
        # keep them under STALE_SHARE).
        keys = view.keys[rows]
        current_rows = view.latest_rows(keys) == rows
        rows, keys = rows[current_rows], keys[current_rows]
        similarity = _dot(view.vectors[rows], query[0])
        best = np.argsort(-similarity, kind="stable")[:limit]
        return [(int(keys[i]), float(similarity[i])) for i in best]

    def similarities(self, vector: np.ndarray, *, keys: list[int]) -> dict[int, float]:
        """Exact cosine similarity of the query to these papers' indexed vectors."""
        view = self.view()
        if view is None or not keys:
            return {}
        wanted = np.asarray(keys, dtype=np.uint64)
        rows = view.latest_rows(wanted)
        present = rows >= 0
        if not present.any():
            return {}
        similarity = _dot(view.vectors[rows[present]], np.asarray(vector, dtype=np.float32))
        return dict(zip(wanted[present].tolist(), similarity.tolist()))

    def keys(self) -> np.ndarray:
        """Every key in the index (each once)."""
        view = self.view()
        if view is None:
            return np.zeros(0, dtype=np.uint64)
        return view.sorted_keys[_last_of_runs(view.sorted_keys)]


reader = Reader()
