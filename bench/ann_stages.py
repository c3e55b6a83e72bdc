#!/usr/bin/env python3
"""The vector index's second stage, interleaved per query on the same candidates: every candidate
rescored on the float rows (format 1) against int8 rows first, then the best vectors.EXACT on the
float rows (format 2). Timed stage by stage in one process, alternating which goes first, so the load
of the shared box hits both alike (bench/search.py `ann` measures whole searches, one variant after
the other). Same 1M set and queries as `ann`.

    python bench/ann_stages.py [--n 1000000] [--queries 150]

Prints medians; merges them into bench/results/search.json under ann_second_stage."""

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import search as bench


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=150)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="dailypapers-bench-ann-stages-"))
    try:
        bench.setup_django(data_dir)
        import faiss

        from dailypapers.search import vectors

        load_start = bench.loadavg()
        qv = bench.query_vectors(bench.latency_queries(bench.arxiv_records()))[: args.queries]
        keys, matrix, _ = bench.vector_set(args.n)
        vectors.build(keys=keys, vectors=matrix, model_id="bench")
        del matrix
        view = vectors.reader.view()
        out = {"n": args.n, "queries": len(qv), "exact": vectors.EXACT, "loadavg_start": load_start}
        for candidates in bench.RESCORES:
            scan, float_all, int8_first = [], [], []
            for i, query in enumerate(qv):
                t = time.perf_counter()
                _, found = faiss.knn_hamming(view.frame.codes(query[None]), view.codes, candidates, variant="mc")
                rows = np.unique(found[0])
                scan.append(time.perf_counter() - t)

                def all_float(rows=rows, query=query):
                    similarity = vectors._dot(view.vectors[rows], query)
                    return rows[np.argsort(-similarity)[:10]]

                def int8_then_float(rows=rows, query=query):
                    approximate = np.einsum("ij,j->i", view.residuals[rows], query * view.frame.step,
                                            dtype=np.float32, casting="unsafe")
                    best = np.sort(rows[np.argpartition(-approximate, vectors.EXACT)[: vectors.EXACT]])
                    similarity = vectors._dot(view.vectors[best], query)
                    return best[np.argsort(-similarity)[:10]]

                stages = [(all_float, float_all), (int8_then_float, int8_first)]
                for stage, times in stages if i % 2 else stages[::-1]:
                    t = time.perf_counter()
                    stage()
                    times.append(time.perf_counter() - t)
            out[candidates] = {name: round(statistics.median(times) * 1000, 2) for name, times in
                               (("scan_p50_ms", scan), ("float_all_p50_ms", float_all),
                                ("int8_then_float_p50_ms", int8_first))}
            print(f"{candidates:>6} candidates: scan {out[candidates]['scan_p50_ms']} ms, second stage: all on "
                  f"float rows {out[candidates]['float_all_p50_ms']} ms, int8 then {vectors.EXACT} on float rows "
                  f"{out[candidates]['int8_then_float_p50_ms']} ms (p50)", flush=True)
        out["loadavg_end"] = bench.loadavg()
        print(f"load average {load_start} -> {out['loadavg_end']}")
        bench.merge_results("ann_second_stage", out)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
