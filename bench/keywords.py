#!/usr/bin/env python3
"""Keyword extraction speed (papers/s), on real papers, as the worker's task runs it.

    python bench/keywords.py [--papers 300] [--rounds 3] [--batch 32] [--threads 1] [--datasets DIR]

Papers: --papers of the Hugging Face daily papers that came with Hugging Face's own keywords
(hf_daily_papers/papers.jsonl.gz, every k-th line so they span the two years), title and abstract
with whitespace collapsed as the ingest does. Their vectors come from the bench's embedding cache (the
embedding job computes them on the site; it is not part of extraction). Each round runs
dailypapers.search.keywords.extract over batches of --batch papers (the task's batch size) with the
production embedder on --threads onnxruntime threads: candidates, the batch's distinct phrases
embedded once each, MMR. Printed and written to bench/results/keywords.json: papers/s per round and
the median, candidates and distinct phrases per paper, and, for a sense of what comes out, how many
extracted keywords match one of Hugging Face's for the same paper (the words of one
are all in the other, ignoring case).
Never fails on time.
"""

import argparse
import gzip
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import bench_data

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(BENCH))
RESULTS = BENCH / "results" / "keywords.json"


def _papers(path: Path, count: int) -> list[dict]:
    with gzip.open(path, "rt") as lines:
        rows = [r for r in map(json.loads, lines) if r.get("ai_keywords") and r.get("abstract")]
    step = max(len(rows) // count, 1)
    return rows[::step][:count]


def _words(phrase: str) -> frozenset[str]:
    return frozenset(re.findall(r"[^\W_]+(?:-[^\W_]+)*", phrase.lower()))


def _matches(ours: list[str], theirs: list[str]) -> int:
    """Our keywords whose words all are in one of theirs, or that hold all of one of theirs."""
    their_words = [_words(t) for t in theirs]
    return sum(any(_words(o) <= t or t <= _words(o) for t in their_words if t) for o in ours)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--papers", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    bench_data.add_argument(parser)
    args = parser.parse_args()
    bench_data.use(args.datasets)
    source = bench_data.require(args.datasets / bench_data.HF_PAPERS)

    from django.conf import settings

    if not settings.configured:
        settings.configure()
    import numpy as np
    from embed_cache import embed_cached

    from dailypapers.search import keywords
    from dailypapers.search.embedders import MiniLMInt8, paper_text

    rows = _papers(source, args.papers)
    texts = [(" ".join(r["title"].split()), " ".join(r["abstract"].split())) for r in rows]  # as ingested
    vectors = embed_cached([paper_text(t, a) for t, a in texts], documents=True, threads=2)
    papers = [(t, a, v) for (t, a), v in zip(texts, vectors)]
    embedder = MiniLMInt8(threads=args.threads)
    embedder.embed(["warm up"])

    rounds = []
    found: list[list[str]] = []
    for number in range(args.rounds):
        found = []
        started, cpu = time.perf_counter(), time.process_time()
        for start in range(0, len(papers), args.batch):
            found += keywords.extract(papers=papers[start:start + args.batch], embedder=embedder)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        rounds.append({"seconds": round(wall, 2), "cpu_seconds": round(cpu, 2),
                       "papers_per_s": round(len(papers) / wall, 2), "loadavg_1m": os.getloadavg()[0]})
        print(f"round {number + 1}: {len(papers)} papers in {wall:.1f} s = {len(papers) / wall:.1f} papers/s "
              f"(CPU {cpu:.1f} s, load {os.getloadavg()[0]:.1f})", flush=True)

    candidates = [len(keywords.candidates(t, a)) for t, a in texts]
    distinct = [len({c.phrase for t, a in texts[s:s + args.batch] for c in keywords.candidates(t, a)})
                for s in range(0, len(texts), args.batch)]
    extracted = sum(len(k) for k in found)
    matching = sum(_matches(k, r["ai_keywords"]) for k, r in zip(found, rows))
    with_one = sum(_matches(k, r["ai_keywords"]) > 0 for k, r in zip(found, rows))
    median = statistics.median(r["papers_per_s"] for r in rounds)
    summary = {
        "papers": len(papers),
        "batch": args.batch,
        "threads": args.threads,
        "model": MiniLMInt8.model_id,
        "papers_per_s_median": median,
        "rounds": rounds,
        "candidates_per_paper_mean": round(float(np.mean(candidates)), 1),
        "distinct_phrases_embedded_per_paper": round(sum(distinct) / len(papers), 1),
        "keywords_per_paper_mean": round(extracted / len(papers), 2),
        "keywords_matching_hugging_face": round(matching / extracted, 3),
        "papers_with_a_keyword_matching_hugging_face": round(with_one / len(papers), 3),
        "examples": [{"title": t, "extracted": k, "hugging_face": r["ai_keywords"]}
                     for (t, _), k, r in list(zip(texts, found, rows))[:5]],
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "loadavg_at_end": os.getloadavg(),
                    "git_commit": subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                                                 capture_output=True, text=True).stdout.strip()},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    print(f"median {median:.1f} papers/s ({args.threads} thread, batches of {args.batch}); "
          f"{summary['candidates_per_paper_mean']} candidates, {summary['distinct_phrases_embedded_per_paper']} "
          f"phrases embedded per paper; {summary['keywords_matching_hugging_face']:.0%} of the keywords match one of "
          f"Hugging Face's, {summary['papers_with_a_keyword_matching_hugging_face']:.0%} of papers have one that does")


if __name__ == "__main__":
    main()
