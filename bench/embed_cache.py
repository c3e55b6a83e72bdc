#!/usr/bin/env python3
"""Vectors of benchmark texts from the production embedder, cached per text.

Every benchmark that needs real vectors (search relevance over SciFact and the
Hugging Face papers, the 1M-paper latency set built from arXiv papers) asks
`embed_cached(texts)`; a text embedded once is never embedded again, whichever
benchmark asked first and in whatever order or grouping. The cache is a SQLite
file outside the repository (evaluation data never ships):
$XDG_CACHE_HOME/dailypapers-bench/embeddings.sqlite3 (default under /tmp).

    python bench/embed_cache.py warm [--sets hf,scifact,arxiv] [--arxiv-every 7] [--threads 2] [--datasets DIR]
                                     [--document-tokens 128]

warms the cache for the named sets (embedding is the slow part: ~16 papers per
CPU-second at 128 tokens, ~6 at 256), so later benchmark runs only read it.

Papers are embedded as the indexer embeds them (`embed_documents`, truncated at
the production DOCUMENT_MAX_TOKENS unless `document_tokens` says otherwise, for
before/after comparisons); queries as the search embeds them (`embed`, 256
tokens, through the int8 query graph). Each recipe has its own cache key: vectors
cached under the first release's key ("all-MiniLM-L6-v2-onnx-int8": everything at
256 tokens, through the float graph) serve the 256-token documents.
"""

import argparse
import gzip
import hashlib
import json
import os
import sqlite3
import sys
import time
from pathlib import Path

import bench_data
import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
DATASETS = bench_data.datasets_dir()
CACHE_DIR = (
    Path(os.environ["XDG_CACHE_HOME"]) / "dailypapers-bench" if os.environ.get("XDG_CACHE_HOME")
    else Path("/tmp/dailypapers-bench-cache")
)


FIRST_RELEASE_KEY = "all-MiniLM-L6-v2-onnx-int8"  # the first release embedded everything at 256 tokens


def embedder_class(document_tokens: int | None = None):
    """The production embedder, its documents truncated at `document_tokens` when given."""
    src = str(REPO_DIR / "src")
    if src not in sys.path:
        sys.path.insert(0, src)
    from django.conf import settings

    if not settings.configured:
        # The embedder keeps its optimised model under DATA_DIR/models: here, beside the cache.
        settings.configure(DATA_DIR=CACHE_DIR / "data")
    from dailypapers.search.embedders import MiniLMInt8

    if document_tokens is None or document_tokens == MiniLMInt8.document_max_tokens:
        return MiniLMInt8
    return type(f"MiniLMInt8Documents{document_tokens}", (MiniLMInt8,), {"document_max_tokens": document_tokens})


def cache_key(*, documents: bool, document_tokens: int | None = None) -> str:
    cls = embedder_class(document_tokens)
    if not documents:
        return cls.query_id  # queries have a graph of their own (the first release's were FIRST_RELEASE_KEY's)
    tokens = cls.document_max_tokens
    return FIRST_RELEASE_KEY if tokens == 256 else f"{FIRST_RELEASE_KEY}@{tokens}"


def _connect(model_id: str) -> sqlite3.Connection:
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(CACHE_DIR / "embeddings.sqlite3", timeout=60)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE IF NOT EXISTS vectors (model TEXT, hash TEXT, vector BLOB, PRIMARY KEY (model, hash))")
    return db


def _hash(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def embed_cached(texts: list[str], *, documents: bool, document_tokens: int | None = None, threads: int = 2,
                 batch: int = 32, log=None) -> np.ndarray:
    """(len(texts), dim) float32 vectors of papers (`documents`) or of queries; only texts never seen
    before are embedded.

    Missing texts are embedded sorted by length (batches of similar length pad
    less) and saved after every batch, so an interrupted warm-up keeps its work.
    """
    model_id = cache_key(documents=documents, document_tokens=document_tokens)
    db = _connect(model_id)
    hashes = [_hash(t) for t in texts]
    found: dict[str, bytes] = {}
    unique = list(dict.fromkeys(hashes))
    for start in range(0, len(unique), 900):
        chunk = unique[start:start + 900]
        rows = db.execute(
            f"SELECT hash, vector FROM vectors WHERE model = ? AND hash IN ({','.join('?' * len(chunk))})",
            [model_id, *chunk],
        )
        found.update(rows)
    missing = sorted({h: t for h, t in zip(hashes, texts) if h not in found}.items(), key=lambda item: len(item[1]))
    if missing:
        embedder = embedder_class(document_tokens)(threads=threads)
        embed = embedder.embed_documents if documents else embedder.embed
        started = time.perf_counter()
        for start in range(0, len(missing), batch):
            part = missing[start:start + batch]
            matrix = embed([t for _, t in part]).astype(np.float32)
            db.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                [(model_id, h, row.tobytes()) for (h, _), row in zip(part, matrix)],
            )
            db.commit()
            found.update((h, row.tobytes()) for (h, _), row in zip(part, matrix))
            done = start + len(part)
            if log and (done // batch) % 20 == 0:
                log(f"embedded {done}/{len(missing)} ({done / (time.perf_counter() - started):.1f}/s)")
    db.close()
    return (
        np.vstack([np.frombuffer(found[h], dtype=np.float32) for h in hashes])
        if texts
        else np.zeros((0, 384), np.float32)
    )


def paper_text(title: str, abstract: str) -> str:
    from dailypapers.search.embedders import paper_text as production_paper_text

    return production_paper_text(" ".join(title.split()), " ".join((abstract or "").split()))


def hf_texts() -> list[str]:
    """The 9.9k Hugging Face daily papers (title + abstract, as the indexer embeds them)."""
    with gzip.open(DATASETS / "hf_daily_papers" / "papers.jsonl.gz", "rt") as file:
        return [paper_text(p["title"], p["abstract"]) for p in map(json.loads, file)]


def scifact_texts() -> list[str]:
    with (DATASETS / "scifact" / "corpus.jsonl").open() as file:
        return [paper_text(d["title"], d["text"]) for d in map(json.loads, file)]


def arxiv_texts(every: int) -> list[str]:
    """Every `every`-th paper of the 74.7k arXiv cs dump (spread over its 17 months)."""
    with gzip.open(DATASETS / "arxiv_cs_daily" / "arxiv_cs_2025-03_2026-07.jsonl.gz", "rt") as file:
        rows = [json.loads(line) for line in file]
    seen, out = set(), []
    for row in rows:
        if row["id"] not in seen:
            seen.add(row["id"])
            out.append(paper_text(row["title"], row.get("abstract") or ""))
    return out[::every]


def main() -> None:
    global DATASETS
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    warm = sub.add_parser("warm")
    warm.add_argument("--sets", default="hf,scifact,arxiv")
    warm.add_argument("--arxiv-every", type=int, default=7)
    bench_data.add_argument(warm)
    warm.add_argument("--threads", type=int, default=2)
    warm.add_argument("--document-tokens", type=int, help="truncate papers here (default: production's)")
    args = parser.parse_args()
    DATASETS = bench_data.require(bench_data.use(args.datasets), "the data sets folder")

    def log(*parts):
        print(f"[{time.strftime('%H:%M:%S')}]", *parts, file=sys.stderr, flush=True)

    for name in args.sets.split(","):
        texts = {"hf": hf_texts, "scifact": scifact_texts, "arxiv": lambda: arxiv_texts(args.arxiv_every)}[name]()
        log(f"{name}: {len(texts)} texts")
        embed_cached(texts, documents=True, document_tokens=args.document_tokens, threads=args.threads, log=log)
        log(f"{name}: cached")


if __name__ == "__main__":
    main()
