"""The vector index (sign codes + exact rescoring) and its convergence to the database after a crash."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import faiss
import numpy as np
import pytest
from django.db import connection

from dailypapers.papers.records import PaperRecord
from dailypapers.papers.services import upsert_papers
from dailypapers.search import services, vectors
from dailypapers.search.backends import get_backend
from dailypapers.search.embedders import get_embedder, normalise
from dailypapers.search.models import PaperVector

from .helpers import local_backend_only

REPO = Path(__file__).resolve().parent.parent
FAKE_EMBEDDER = "tests.test_vector_index.SlowHashEmbedder"


class SlowHashEmbedder:
    """A deterministic stand-in for the real model (a vector seeded by the text's hash), as slow per
    batch as TEST_EMBED_SECONDS says, so a real indexer process can be killed mid-run."""

    model_id = "test-hash-64"
    dim = 64

    def __init__(self, *, threads: int = 1):
        self.pause = float(os.environ.get("TEST_EMBED_SECONDS", "0"))

    def embed(self, texts: list[str]) -> np.ndarray:
        time.sleep(self.pause)
        seeds = [int.from_bytes(hashlib.sha1(t.encode()).digest()[:8], "big") for t in texts]
        rows = [np.random.default_rng(seed).normal(size=self.dim) for seed in seeds]
        return normalise(np.array(rows, dtype=np.float32).reshape(len(texts), self.dim))

    embed_documents = embed


@pytest.fixture
def fake_embedder(settings):
    settings.DAILYPAPERS_EMBEDDER = FAKE_EMBEDDER
    get_embedder.cache_clear()
    yield get_embedder()
    get_embedder.cache_clear()


def load(n: int) -> None:
    upsert_papers(records=[
        PaperRecord(arxiv_id=f"2601.{i:05d}", title=f"Paper number {i}", abstract=f"Abstract {i} about topic {i % 7}.",
                    authors=["Ada Lovelace"], categories=["cs.LG"])
        for i in range(1, n + 1)
    ])


def stored_vectors() -> dict[int, np.ndarray]:
    return {
        pk: np.frombuffer(blob, dtype=np.float32) for pk, blob in PaperVector.objects.values_list("paper_id", "vector")
    }


def assert_index_equals_database(model_id: str) -> None:
    stored, backend = stored_vectors(), get_backend()
    assert sorted(backend.vector_keys().tolist()) == sorted(stored)
    for pk, vector in stored.items():
        (found, similarity), = backend.nearest(vector, model_id=model_id, limit=1)
        assert found == pk and similarity > 0.999


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def backend():
    return get_backend()


@pytest.mark.django_db(transaction=True)
def test_an_indexer_killed_mid_run_then_run_again_leaves_every_stored_vector_in_the_index(settings, fake_embedder):
    load(300)
    env = {**os.environ, "DATABASE_URL": _database_url(), "DAILYPAPERS_DATA_DIR": str(settings.DATA_DIR),
           "SECRET_KEY": settings.SECRET_KEY, "DJANGO_SETTINGS_MODULE": "dailypapers.settings",
           "DAILYPAPERS_EMBEDDER": FAKE_EMBEDDER, "TEST_EMBED_SECONDS": "0.03",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "dailypapers.cli", "index", "--batch-size", "5", "--quiet"]
    for kill_after in (60, 180):  # killed twice, at different points of the run
        indexer = subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 90
        while PaperVector.objects.count() < kill_after:
            assert indexer.poll() is None, indexer.stderr.read().decode()
            assert time.monotonic() < deadline, "the indexer stored no vectors"
            time.sleep(0.01)
        os.kill(indexer.pid, signal.SIGKILL)
        indexer.wait(timeout=30)
        assert indexer.returncode == -signal.SIGKILL
    assert PaperVector.objects.count() < 300  # killed mid-run, each time

    rerun = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert PaperVector.objects.count() == 300
    assert_index_equals_database(fake_embedder.model_id)


def test_a_crash_between_storing_vectors_and_indexing_them_is_repaired_by_the_next_run(db, fake_embedder, monkeypatch,
                                                                                      backend):
    load(40)
    real_add, calls = backend.add_vectors, []

    def dies_on_the_third_batch(**kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt("killed after the batch was committed")
        return real_add(**kwargs)

    monkeypatch.setattr(backend, "add_vectors", dies_on_the_third_batch)
    with pytest.raises(KeyboardInterrupt):
        services.embed_pending(batch_size=10)
    monkeypatch.undo()
    assert PaperVector.objects.count() == 30  # three batches stored, the third one not indexed
    assert len(backend.vector_keys()) == 20
    assert services.embed_pending(batch_size=10) == 10
    assert_index_equals_database(fake_embedder.model_id)


@local_backend_only("the file format of the vector index")
def test_an_index_of_the_old_format_is_rebuilt_from_the_database(db, fake_embedder, settings):
    load(12)
    services.embed_pending()
    root = Path(settings.DATA_DIR) / "search" / "vectors"
    (root / "CURRENT").write_text(json.dumps({"file": "vectors-1.usearch", "model_id": "x", "dim": 64, "count": 3}))
    (root / "vectors-1.usearch").write_bytes(b"an HNSW file")
    services.embed_pending()
    assert_index_equals_database(fake_embedder.model_id)
    assert not (root / "vectors-1.usearch").exists()


def _unit(rng, n, dim=64):
    return normalise(rng.normal(size=(n, dim)).astype(np.float32))


def test_a_torn_append_is_cut_off_and_the_index_keeps_serving(settings):
    rng = np.random.default_rng(1)
    first = _unit(rng, 100)
    vectors.build(keys=np.arange(1, 101), vectors=first, model_id="m")
    generation = Path(settings.DATA_DIR) / "search" / "vectors" / vectors.current()["generation"]
    for name in ("keys.u64", "codes.u8", "residuals.i8", "vectors.f32"):  # a writer killed mid-append: partial rows
        with open(generation / name, "ab") as file:
            file.write(b"\x07" * 13)
    assert vectors.reader.search(first[5], model_id="m", limit=1)[0][0] == 6
    more = _unit(rng, 10)
    assert vectors.add(keys=np.arange(101, 111), vectors=more, model_id="m") == 10
    assert vectors.reader.keys().tolist() == list(range(1, 111))
    assert vectors.reader.search(more[3], model_id="m", limit=1)[0][0] == 104
    assert vectors.reader.search(first[99], model_id="m", limit=1)[0][0] == 100


def test_a_replaced_vector_wins_and_the_old_row_is_never_a_hit(settings):
    rng = np.random.default_rng(2)
    base = _unit(rng, 200)
    vectors.build(keys=np.arange(1, 201), vectors=base, model_id="m")
    assert vectors.add(keys=np.arange(1, 201), vectors=base, model_id="m") == 0  # identical: skipped
    moved = _unit(rng, 1)
    assert vectors.add(keys=np.array([7]), vectors=moved, model_id="m") == 1
    assert vectors.reader.search(moved[0], model_id="m", limit=1)[0][0] == 7
    assert 7 not in [k for k, _ in vectors.reader.search(base[6], model_id="m", limit=5)]
    assert vectors.reader.similarities(moved[0], keys=[7, 8, 999]).keys() == {7, 8}
    assert vectors.reader.similarities(moved[0], keys=[7])[7] > 0.999
    assert len(vectors.reader.keys()) == 200


def test_one_reader_follows_appends_and_rewrites_without_restarting(settings):
    rng = np.random.default_rng(3)
    vectors.build(keys=np.arange(1, 101), vectors=_unit(rng, 100), model_id="m")
    reader = vectors.Reader()  # as in a running web worker
    assert len(reader.keys()) == 100
    first_generation = vectors.current()["generation"]
    batch = _unit(rng, 150)  # the index more than doubles: it is rewritten with a new centre
    vectors.add(keys=np.arange(101, 251), vectors=batch, model_id="m")
    assert vectors.current()["generation"] != first_generation
    assert not (Path(settings.DATA_DIR) / "search" / "vectors" / first_generation).exists()
    assert reader.search(batch[-1], model_id="m", limit=1)[0][0] == 250
    vectors.add(keys=np.array([251]), vectors=_unit(rng, 1), model_id="m")  # appended in place
    assert len(reader.keys()) == 251
    with pytest.raises(vectors.ModelMismatch):
        reader.search(batch[0], model_id="another-model", limit=3)


def test_search_finds_the_exact_nearest_neighbours_in_clustered_data(settings):
    """Sign codes only shortlist; the rescoring must recover the true top 10 (clustered, like real embeddings)."""
    rng = np.random.default_rng(4)
    centres = _unit(rng, 60)
    data = normalise(centres[rng.integers(0, 60, 20_000)] + rng.normal(0, 0.08, (20_000, 64)).astype(np.float32))
    vectors.build(keys=np.arange(1, 20_001), vectors=data, model_id="m")
    queries = normalise(centres[:40] + rng.normal(0, 0.08, (40, 64)).astype(np.float32))
    found = 0
    for query in queries:
        truth = set((np.argsort(-(data @ query))[:10] + 1).tolist())
        found += len(truth & {k for k, _ in vectors.reader.search(query, model_id="m", limit=10)})
    assert found / 400 >= 0.95


def _generation(settings) -> Path:
    return Path(settings.DATA_DIR) / "search" / "vectors" / vectors.current()["generation"]


def test_the_rotation_is_stored_with_the_generation_and_applied_to_rows_and_queries_alike(settings):
    rng = np.random.default_rng(5)
    data = _unit(rng, 300)
    vectors.build(keys=np.arange(1, 301), vectors=data, model_id="m")
    generation = _generation(settings)
    centre = np.fromfile(generation / "centre.f32", dtype=np.float32)
    rotation = np.fromfile(generation / "rotation.f32", dtype=np.float32).reshape(64, 64)
    assert np.allclose(rotation @ rotation.T, np.eye(64), atol=1e-5) and not np.allclose(rotation, np.eye(64))
    appended = _unit(rng, 20)
    vectors.add(keys=np.arange(301, 321), vectors=appended, model_id="m")  # appended with the same frame
    assert vectors.current()["generation"] == generation.name
    codes = np.fromfile(generation / "codes.u8", dtype=np.uint8).reshape(-1, 8)
    assert (codes == np.packbits((np.vstack([data, appended]) - centre) @ rotation > 0, axis=1)).all()
    view = vectors.reader.view()
    assert (view.frame.codes(appended[3:4]) == codes[303]).all()  # a query is encoded as its row was
    assert vectors.reader.search(appended[3], model_id="m", limit=1)[0][0] == 304
    step = np.fromfile(generation / "step.f32", dtype=np.float32)
    residuals = np.fromfile(generation / "residuals.i8", dtype=np.int8).reshape(-1, 64)
    assert np.abs(residuals[:300] * step + centre - data).max() < step.max()  # int8 rows decode to the vectors


def test_codes_are_widened_to_a_power_of_two_bits(settings):
    """48-d vectors get 64-bit codes (as 384-d get 512): 64 directions with orthonormal rows."""
    rng = np.random.default_rng(11)
    data = _unit(rng, 500, dim=48)
    vectors.build(keys=np.arange(1, 501), vectors=data, model_id="m")
    generation = _generation(settings)
    rotation = np.fromfile(generation / "rotation.f32", dtype=np.float32).reshape(48, 64)
    assert np.allclose(rotation @ rotation.T, np.eye(48), atol=1e-5)
    codes = np.fromfile(generation / "codes.u8", dtype=np.uint8).reshape(500, 8)
    assert (codes == np.packbits((data - data.mean(axis=0)) @ rotation > 0, axis=1)).all()
    assert [vectors.reader.search(data[i], model_id="m", limit=1)[0][0] for i in (0, 250, 499)] == [1, 251, 500]


def test_a_rewrite_fits_a_new_frame(settings):
    rng = np.random.default_rng(6)
    vectors.build(keys=np.arange(1, 101), vectors=_unit(rng, 100), model_id="m")
    before = np.fromfile(_generation(settings) / "rotation.f32", dtype=np.float32)
    vectors.add(keys=np.arange(101, 251), vectors=_unit(rng, 150), model_id="m")  # doubled: rewritten
    assert not np.array_equal(np.fromfile(_generation(settings) / "rotation.f32", dtype=np.float32), before)


@local_backend_only("the file format of the vector index")
@pytest.mark.parametrize("old_format", [None, 2])  # format 1 wrote no format; 2 had dim-bit codes
def test_an_index_of_the_previous_generation_format_is_rebuilt_from_the_database(db, fake_embedder, settings,
                                                                                 old_format):
    load(12)
    services.embed_pending()
    root = Path(settings.DATA_DIR) / "search" / "vectors"
    info = json.loads((root / "CURRENT").read_text())
    old = {key: value for key, value in info.items() if key != "format"}
    if old_format is not None:
        old["format"] = old_format
    (root / "CURRENT").write_text(json.dumps(old))
    assert vectors.current() is None
    services.embed_pending()
    assert vectors.current()["format"] == vectors.FORMAT
    assert vectors.current()["generation"] != info["generation"]
    assert_index_equals_database(fake_embedder.model_id)


def _recall_on_anisotropic_data(monkeypatch, *, rotate: bool) -> float:
    """Most of the spread in 6 of 64 dimensions, as in embeddings: without a rotation most sign bits
    only encode noise."""
    rng = np.random.default_rng(7)
    spread = np.full(64, 0.02, dtype=np.float32)
    spread[:6] = 1
    data = normalise(rng.normal(size=(5000, 64)).astype(np.float32) * spread)
    queries = normalise(rng.normal(size=(50, 64)).astype(np.float32) * spread)
    if not rotate:
        fit = vectors._Frame.fit

        def unrotated(**sums):
            frame = fit(**sums)
            frame.rotation = np.eye(64, dtype=np.float32)
            return frame

        monkeypatch.setattr(vectors._Frame, "fit", unrotated)
    vectors.build(keys=np.arange(1, 5001), vectors=data, model_id="m")
    monkeypatch.setattr(vectors, "RESCORE", 100)
    found = 0
    for query in queries:
        truth = set((np.argsort(-(data @ query))[:10] + 1).tolist())
        found += len(truth & {k for k, _ in vectors.reader.search(query, model_id="m", limit=10)})
    return found / 500


def test_the_rotation_recovers_neighbours_the_unrotated_sign_codes_miss(settings, monkeypatch):
    with monkeypatch.context() as unrotated:
        without = _recall_on_anisotropic_data(unrotated, rotate=False)
    rotated = _recall_on_anisotropic_data(monkeypatch, rotate=True)
    assert rotated >= 0.9 > without


def test_the_int8_stage_keeps_the_exact_nearest_neighbours(settings, monkeypatch):
    rng = np.random.default_rng(8)
    centres = _unit(rng, 40)
    data = normalise(centres[rng.integers(0, 40, 10_000)] + rng.normal(0, 0.08, (10_000, 64)).astype(np.float32))
    vectors.build(keys=np.arange(1, 10_001), vectors=data, model_id="m")
    monkeypatch.setattr(vectors, "RESCORE", 10_000)  # every row reaches the int8 stage
    monkeypatch.setattr(vectors, "EXACT", 20)  # and only its best 20 the float rows
    found = 0
    for query in normalise(centres[:30] + rng.normal(0, 0.08, (30, 64)).astype(np.float32)):
        truth = set((np.argsort(-(data @ query))[:10] + 1).tolist())
        found += len(truth & {k for k, _ in vectors.reader.search(query, model_id="m", limit=10)})
    assert found / 300 >= 0.98


def test_the_int8_kernel_ranks_rows_as_their_int8_dot_product_does():
    rng = np.random.default_rng(9)
    residuals = rng.integers(-127, 128, (3000, 64)).astype(np.int8)
    rows = np.sort(rng.choice(3000, 1000, replace=False))
    for scale in (1e-6, 1.0, 1e3):  # the kernel rounds the query to int8: any magnitude is scaled to fit
        query = (rng.normal(size=64) * scale).astype(np.float32)
        exact = set(np.argsort(-(residuals[rows].astype(np.float64) @ query))[:50].tolist())
        got = vectors._int8_scan.best(residuals, rows, query, 50)
        assert len(got) == 50 and len(exact & set(got.tolist())) >= 48


def test_searches_in_parallel_threads_answer_as_one_thread_does(settings):
    """Each thread gathers candidate rows into scratch space of its own."""
    rng = np.random.default_rng(10)
    data = _unit(rng, 20_000)
    vectors.build(keys=np.arange(1, 20_001), vectors=data, model_id="m")
    queries = _unit(rng, 40)
    alone = [vectors.reader.search(q, model_id="m", limit=10) for q in queries]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(3):
            assert list(pool.map(lambda q: vectors.reader.search(q, model_id="m", limit=10), queries)) == alone


def test_a_search_on_another_thread_runs_faiss_on_that_thread_alone(settings):
    """omp_set_num_threads holds for the thread that calls it: every searching thread sets it for itself,
    else each of its scans starts (and busy-waits on) a team of OpenMP threads beside the request's."""
    rng = np.random.default_rng(11)
    vectors.build(keys=np.arange(1, 2_001), vectors=_unit(rng, 2_000), model_id="m")

    def team_sizes() -> tuple[int, int]:
        before = faiss.omp_get_max_threads()
        vectors.reader.search(_unit(rng, 1)[0], model_id="m", limit=10)
        return before, faiss.omp_get_max_threads()

    with ThreadPoolExecutor(max_workers=1) as pool:
        before, after = pool.submit(team_sizes).result()
    if before == 1:
        pytest.skip("one core: a new thread's OpenMP team is one thread anyway")
    assert after == 1


def _clustered(rng, n: int, *, clusters: int = 60, spread: float = 0.08) -> tuple[np.ndarray, np.ndarray]:
    """n unit vectors around `clusters` centres (as real embeddings group by topic), and the centres."""
    centres = _unit(rng, clusters)
    data = normalise(centres[rng.integers(0, clusters, n)] + rng.normal(0, spread, (n, 64)).astype(np.float32))
    return data, centres


def _rows_of_keys_hold_their_vectors(keys: np.ndarray, data: np.ndarray) -> bool:
    view = vectors.reader.view()
    return np.array_equal(view.vectors[view.latest_rows(keys)], data)


def test_a_large_generation_is_stored_cell_by_cell_and_its_search_scans_the_nearest_cells(settings, monkeypatch):
    monkeypatch.setattr(vectors, "PARTITION_MIN_ROWS", 5_000)
    rng = np.random.default_rng(12)
    data, centres = _clustered(rng, 20_000)
    keys = rng.permutation(np.arange(1, 20_001)).astype(np.uint64)  # ids in no order, as papers' are
    vectors.build(keys=keys, vectors=data, model_id="m")
    generation = _generation(settings)
    cells = np.fromfile(generation / "cells.u16", dtype=np.uint16)
    offsets = np.fromfile(generation / "cells.offsets", dtype=np.int64)
    centroids = np.fromfile(generation / "centroids.f32", dtype=np.float32).reshape(-1, 64)
    assert len(centroids) == 512 and offsets[0] == 0 and offsets[-1] == 20_000  # 2 * sqrt(20,000) -> 512
    assert (np.diff(cells.astype(int)) >= 0).all()  # rows stored cell by cell
    assert np.array_equal(np.searchsorted(cells, np.arange(513)), offsets)
    # Cells in chain order: each followed by the nearest of those after it, so near cells are probed as one run.
    assert all(np.argmax(vectors._dot(centroids[i + 1:], centroids[i])) == 0 for i in range(511))
    assert _rows_of_keys_hold_their_vectors(keys, data)  # keys and vectors moved together
    view = vectors.reader.view()
    assert np.array_equal(cells, np.argmax(view.vectors @ centroids.T, axis=1))  # each row in its nearest cell
    queries = normalise(centres[:40] + rng.normal(0, 0.08, (40, 64)).astype(np.float32))
    found = 0
    for query in queries:
        code = view.frame.codes(query[None])
        scan = vectors._ProbedScan(view, query, code)
        assert len(scan.distances) < 20_000 / 2  # not every row
        rows = scan.rows(np.arange(len(scan.distances)))
        assert np.array_equal(scan.distances, np.unpackbits(np.asarray(view.codes[rows]) ^ code, axis=1).sum(axis=1))
        assert set(np.unique(cells[rows])) == set(view.partition.probed(query))  # the probed cells, whole
        truth = set(keys[np.argsort(-(data @ query))[:10]].tolist())
        found += len(truth & {k for k, _ in vectors.reader.search(query, model_id="m", limit=10)})
    assert found / 400 >= 0.95


def test_probing_every_cell_scans_every_row(settings, monkeypatch):
    monkeypatch.setattr(vectors, "PARTITION_MIN_ROWS", 2_000)
    rng = np.random.default_rng(13)
    data, _ = _clustered(rng, 3_000)
    vectors.build(keys=np.arange(1, 3_001), vectors=data, model_id="m")
    vectors.add(keys=np.arange(3_001, 3_101), vectors=_unit(rng, 100), model_id="m")  # appended: no rewrite
    monkeypatch.setattr(vectors, "PROBE_SHARE", 1)
    view, query = vectors.reader.view(), _unit(rng, 1)[0]
    code = view.frame.codes(query[None])
    scan = vectors._ProbedScan(view, query, code)
    assert np.array_equal(scan.rows(np.arange(3_100)), np.arange(3_100))
    every = np.unpackbits(np.asarray(view.codes) ^ code, axis=1).sum(axis=1)
    assert np.array_equal(scan.distances, every)  # each row's distance, where the row lies
    assert np.array_equal(scan.rows(np.array([5, 2_999, 3_000, 3_099])), [5, 2_999, 3_000, 3_099])


def test_rows_appended_to_a_partitioned_generation_join_their_nearest_cell(settings, monkeypatch):
    monkeypatch.setattr(vectors, "PARTITION_MIN_ROWS", 5_000)
    rng = np.random.default_rng(14)
    data, centres = _clustered(rng, 10_000)
    vectors.build(keys=np.arange(1, 10_001), vectors=data, model_id="m")
    generation = _generation(settings)
    fresh = normalise(centres[:50] + rng.normal(0, 0.02, (50, 64)).astype(np.float32))
    assert vectors.add(keys=np.arange(10_001, 10_051), vectors=fresh, model_id="m") == 50
    moved = normalise(centres[50:51] + rng.normal(0, 0.02, (1, 64)).astype(np.float32))
    vectors.add(keys=np.array([3]), vectors=moved, model_id="m")  # replaced: its new row is appended
    assert _generation(settings) == generation  # appended in place, not rewritten
    centroids = np.fromfile(generation / "centroids.f32", dtype=np.float32).reshape(-1, 64)
    cells = np.fromfile(generation / "cells.u16", dtype=np.uint16)
    assert np.array_equal(cells[10_000:], np.argmax(np.vstack([fresh, moved]) @ centroids.T, axis=1))
    for i, vector in enumerate(fresh):
        assert vectors.reader.search(vector, model_id="m", limit=1)[0][0] == 10_001 + i
    assert vectors.reader.search(moved[0], model_id="m", limit=1)[0][0] == 3
    assert 3 not in [k for k, _ in vectors.reader.search(data[2], model_id="m", limit=5)]  # its old row


def test_an_index_grown_past_the_partition_size_is_rewritten_partitioned(settings, monkeypatch):
    monkeypatch.setattr(vectors, "PARTITION_MIN_ROWS", 1_500)
    rng = np.random.default_rng(15)
    data, _ = _clustered(rng, 1_600)
    vectors.build(keys=np.arange(1, 1_001), vectors=data[:1000], model_id="m")
    small = _generation(settings)
    assert not (small / "cells.u16").exists()
    vectors.add(keys=np.arange(1_001, 1_601), vectors=data[1000:], model_id="m")  # 1.6x: not doubled
    assert _generation(settings) != small and (_generation(settings) / "cells.u16").exists()
    assert _rows_of_keys_hold_their_vectors(np.arange(1, 1_601), data)
    assert vectors.reader.search(data[1234], model_id="m", limit=1)[0][0] == 1_235


def test_the_nearest_codes_are_cut_at_the_distance_that_holds_the_count():
    rng = np.random.default_rng(16)
    codes = rng.integers(0, 256, (5_000, 8), dtype=np.uint8)
    query = rng.integers(0, 256, (1, 8), dtype=np.uint8)
    distances = np.unpackbits(codes ^ query, axis=1).sum(axis=1)
    computed = np.empty(5_000, dtype=np.int32)
    vectors._hammings(query, codes, computed)
    assert np.array_equal(computed, distances)
    for count in (1, 37, 1_000, 4_999):
        got = vectors._nearest(computed, count)
        assert len(got) == count and (np.diff(got) > 0).all()
        assert sorted(distances[got]) == sorted(distances)[:count]  # the nearest, ties or not
        cut = distances[got].max()
        assert set(got[distances[got] == cut]) == set(np.flatnonzero(distances == cut)[:np.sum(distances[got] == cut)])
    assert vectors._nearest(computed, 9_000).tolist() == list(range(5_000))


def test_cell_offsets_that_do_not_fit_the_index_are_refused_not_read(settings, monkeypatch):
    """A search reads each cell's rows by address: offsets past the rows would read past the files."""
    monkeypatch.setattr(vectors, "PARTITION_MIN_ROWS", 2_000)
    rng = np.random.default_rng(17)
    data, _ = _clustered(rng, 3_000)
    vectors.build(keys=np.arange(1, 3_001), vectors=data, model_id="m")
    offsets_file = _generation(settings) / "cells.offsets"
    offsets = np.fromfile(offsets_file, dtype=np.int64)
    for broken in (np.append(offsets[:-1], 10**9), offsets[::-1].copy(), offsets[:-1]):
        offsets_file.write_bytes(broken.tobytes())
        with pytest.raises(ValueError):
            vectors.Reader().search(data[0], model_id="m", limit=5)
    offsets_file.write_bytes(offsets.tobytes())
    assert vectors.Reader().search(data[0], model_id="m", limit=1)[0][0] == 1
