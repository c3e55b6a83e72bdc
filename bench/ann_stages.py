#!/usr/bin/env python3
"""Where a vector search's milliseconds go at 1M, stage by stage, and the recall@10 each setting buys: the
share of cells probed (vectors.PROBE_SHARE) and the Hamming candidates ranked on int8 rows (vectors.RESCORE).
The same vectors are indexed twice, partitioned into cells (as production does at this size) and as one
flat scan of every code (as below vectors.PARTITION_MIN_ROWS), and each query runs through both, alternating
which goes first so the load of the shared box hits both alike.

Stages of the production search, in CPU time of the thread (time.thread_time: what the query costs the box,
less contaminated by other tenants' load than wall time):

  scan:   the query's code, the probed cells (centroid scores), every probed code's Hamming distance
          (faiss) and the cut at the distance holding the candidates
  int8:   the candidates' int8 rows gathered into faiss's int8 kernel, the best vectors.EXACT kept
  stale:  the key -> last row check on the shortlist
  exact:  the shortlist's float rows, the top 10

Same 1M set and queries as bench/search.py `ann` (real vectors + mixtures).

    python bench/ann_stages.py [--n 1000000] [--queries 400] [--probes 0.125,0.1875,0.25] [--rescores 8000,10000,12000]

Prints medians; merges them into bench/results/search.json under ann_stages."""

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import search as bench


def median_ms(seconds: list[float]) -> float:
    return round(statistics.median(seconds) * 1000, 2)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--probes", default="0.125,0.1875,0.25")
    parser.add_argument("--rescores", default="8000,10000,12000")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="dailypapers-bench-ann-stages-"))
    try:
        bench.setup_django(data_dir / "partitioned")
        from django.conf import settings

        from dailypapers.search import vectors

        load_start = bench.loadavg()
        qv = bench.query_vectors(bench.latency_queries(bench.arxiv_records()))[: args.queries]
        keys, matrix, _ = bench.vector_set(args.n)
        truth = bench.exact_topk(matrix, keys, qv)
        builds = {}
        for layout, min_rows in (("partitioned", vectors.PARTITION_MIN_ROWS), ("flat", args.n + 1)):
            settings.DATA_DIR = data_dir / layout
            partition_min_rows, vectors.PARTITION_MIN_ROWS = vectors.PARTITION_MIN_ROWS, min_rows
            t = time.perf_counter()
            vectors.build(keys=keys, vectors=matrix, model_id="bench")
            builds[layout] = round(time.perf_counter() - t, 1)
            vectors.PARTITION_MIN_ROWS = partition_min_rows
        del matrix
        readers = {}
        for layout in builds:
            settings.DATA_DIR = data_dir / layout
            readers[layout] = vectors.Reader()
            readers[layout].view()
        settings.DATA_DIR = data_dir / "partitioned"  # a reader reads the index under DATA_DIR when asked
        view = readers["partitioned"].view()
        assert view.partition is not None, "the 1M index should be partitioned"
        clock = time.thread_time

        def stages(query, candidates, times):
            t = clock()
            code = view.frame.codes(query[None])
            scan = vectors._ProbedScan(view, query, code)
            rows = scan.rows(vectors._nearest(scan.distances, candidates))
            times["scan"].append(clock() - t)
            t = clock()
            rows = rows[np.sort(vectors._int8_scan.best(view.residuals, rows, query * view.frame.step, vectors.EXACT))]
            times["int8"].append(clock() - t)
            t = clock()
            row_keys = view.keys[rows]
            current_rows = view.latest_rows(row_keys) == rows
            rows, row_keys = rows[current_rows], row_keys[current_rows]
            times["stale"].append(clock() - t)
            t = clock()
            similarity = vectors._dot(view.vectors[rows], query)
            top = row_keys[np.argsort(-similarity, kind="stable")[:10]]
            times["exact"].append(clock() - t)
            return top, len(scan.distances)

        out = {"n": args.n, "queries": len(qv), "exact": vectors.EXACT, "loadavg_start": load_start,
               "build_s": builds, "cells": len(view.partition.centroids), "cpu": bench.cpu(),
               "clock": "time.thread_time (CPU) per stage; whole searches in CPU and wall time"}
        settings_tried = [(float(p), int(r)) for p in args.probes.split(",") for r in args.rescores.split(",")]
        for probe_share, candidates in settings_tried:
            vectors.PROBE_SHARE, vectors.RESCORE = probe_share, candidates
            times = {stage: [] for stage in ("scan", "int8", "stale", "exact")}
            hits = {"stages": 0, "partitioned": 0, "flat": 0}
            whole = {layout: {"cpu": [], "wall": []} for layout in readers}
            scanned = []
            for i, (query, wanted) in enumerate(zip(qv, truth)):
                wanted = set(wanted.tolist())
                settings.DATA_DIR = data_dir / "partitioned"
                top, rows_scanned = stages(query, candidates, times)
                hits["stages"] += len(wanted & set(top.tolist()))
                scanned.append(rows_scanned)
                for layout in (list(readers) if i % 2 else list(readers)[::-1]):
                    settings.DATA_DIR = data_dir / layout
                    t, wall = clock(), time.perf_counter()
                    got = readers[layout].search(query, model_id="bench", limit=10)
                    whole[layout]["cpu"].append(clock() - t)
                    whole[layout]["wall"].append(time.perf_counter() - wall)
                    hits[layout] += len(wanted & {k for k, _ in got})
            result = {f"{stage}_cpu_p50_ms": median_ms(values) for stage, values in times.items()}
            result["rows_scanned_p50"] = int(np.median(scanned))
            result["recall@10_stages"] = round(hits["stages"] / (10 * len(qv)), 4)
            for layout, clocks in whole.items():
                result[layout] = {"recall@10": round(hits[layout] / (10 * len(qv)), 4),
                                  "cpu": bench.summary_ms(clocks["cpu"]), "wall": bench.summary_ms(clocks["wall"])}
            out[f"probe {probe_share:g}, {candidates} candidates"] = result
            p, f = result["partitioned"], result["flat"]
            print(f"probe {probe_share:g} of {out['cells']} cells ({result['rows_scanned_p50']} rows), {candidates:>6} "
                  f"candidates: scan {result['scan_cpu_p50_ms']}, int8 {result['int8_cpu_p50_ms']}, stale "
                  f"{result['stale_cpu_p50_ms']}, exact {result['exact_cpu_p50_ms']} ms | partitioned: recall "
                  f"{p['recall@10']}, cpu p50 {p['cpu']['p50_ms']} p99 {p['cpu']['p99_ms']} | flat: recall "
                  f"{f['recall@10']}, cpu p50 {f['cpu']['p50_ms']} p99 {f['cpu']['p99_ms']} ms "
                  f"(load {bench.loadavg()})", flush=True)
        out["loadavg_end"] = bench.loadavg()
        print(f"builds {builds} s; load average {load_start} -> {out['loadavg_end']}")
        bench.merge_results("ann_stages", {"partitioned_vs_flat": out})
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
