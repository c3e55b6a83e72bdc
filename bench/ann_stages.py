#!/usr/bin/env python3
"""Where a vector search's milliseconds go at 1M, stage by stage, and the recall@10 each number of
Hamming candidates (vectors.RESCORE) buys. Two pipelines on the same candidates of the same query,
alternating which goes first so the load of the shared box hits both alike:

  before: np.unique of the candidates, the stale-row lookup on every candidate, the int8 stage as a
          numpy einsum (int8 x float32) on every candidate, then the best vectors.EXACT on the float rows
  now:    vectors.Reader.search as it is (sorted candidates, the int8 stage through faiss's int8
          kernel, the stale-row lookup on the shortlist only), timed whole and stage by stage

Each stage is timed in CPU time of the thread (time.thread_time: what the query costs the box, less
contaminated by the other agents' load than wall time) and the whole search in wall time as well.
Same 1M set and queries as bench/search.py `ann` (real vectors + mixtures).

    python bench/ann_stages.py [--n 1000000] [--queries 400] [--rescores 6000,10000,15000,20000]

Prints medians; merges them into bench/results/search.json under ann_stages, by code width."""

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
    parser.add_argument("--rescores", default="6000,10000,15000,20000")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="dailypapers-bench-ann-stages-"))
    try:
        bench.setup_django(data_dir)
        import faiss

        from dailypapers.search import vectors

        load_start = bench.loadavg()
        qv = bench.query_vectors(bench.latency_queries(bench.arxiv_records()))[: args.queries]
        keys, matrix, _ = bench.vector_set(args.n)
        truth = bench.exact_topk(matrix, keys, qv)
        vectors.build(keys=keys, vectors=matrix, model_id="bench")
        del matrix
        view = vectors.reader.view()
        exact = vectors.EXACT
        clock = time.thread_time

        def before(query, found, times):
            t = clock()
            rows = np.unique(found)
            times["sort"].append(clock() - t)
            t = clock()
            row_keys = view.keys[rows]
            current_rows = view.latest_rows(row_keys) == rows
            rows, row_keys = rows[current_rows], row_keys[current_rows]
            times["stale_check"].append(clock() - t)
            t = clock()
            approximate = np.einsum("ij,j->i", view.residuals[rows], query * view.frame.step,
                                    dtype=np.float32, casting="unsafe")
            shortlist = np.sort(np.argpartition(-approximate, exact)[:exact])
            rows, row_keys = rows[shortlist], row_keys[shortlist]
            times["int8"].append(clock() - t)
            t = clock()
            similarity = vectors._dot(view.vectors[rows], query)
            top = row_keys[np.argsort(-similarity, kind="stable")[:10]]
            times["exact"].append(clock() - t)
            return top

        def now(query, found, times):
            t = clock()
            rows = np.sort(found)
            times["sort"].append(clock() - t)
            t = clock()
            rows = rows[np.sort(vectors._int8_scan.best(view.residuals, rows, query * view.frame.step, exact))]
            times["int8"].append(clock() - t)
            t = clock()
            row_keys = view.keys[rows]
            current_rows = view.latest_rows(row_keys) == rows
            rows, row_keys = rows[current_rows], row_keys[current_rows]
            times["stale_check"].append(clock() - t)
            t = clock()
            similarity = vectors._dot(view.vectors[rows], query)
            top = row_keys[np.argsort(-similarity, kind="stable")[:10]]
            times["exact"].append(clock() - t)
            return top

        out = {"n": args.n, "queries": len(qv), "exact": exact, "loadavg_start": load_start,
               "clock": "time.thread_time (CPU) per stage; whole searches also in wall time"}
        rescores = [int(r) for r in args.rescores.split(",")]
        for candidates in rescores:
            vectors.RESCORE = candidates
            scan = []
            stages = {name: {stage: [] for stage in ("sort", "stale_check", "int8", "exact")}
                      for name in ("before", "now")}
            hits = {"before": 0, "now": 0, "production": 0}
            whole_cpu, whole_wall = [], []
            for i, (query, wanted) in enumerate(zip(qv, truth)):
                wanted = set(wanted.tolist())
                t = clock()
                _, found = faiss.knn_hamming(view.frame.codes(query[None]), view.codes, candidates, variant="mc")
                scan.append(clock() - t)
                runs = [("before", before), ("now", now)]
                for name, pipeline in runs if i % 2 else runs[::-1]:
                    hits[name] += len(wanted & set(pipeline(query, found[0], stages[name]).tolist()))
                t, wall = clock(), time.perf_counter()
                got = vectors.reader.search(query, model_id="bench", limit=10)
                whole_cpu.append(clock() - t)
                whole_wall.append(time.perf_counter() - wall)
                hits["production"] += len(wanted & {k for k, _ in got})
            result = {"scan_cpu_p50_ms": median_ms(scan)}
            for name, times in stages.items():
                result[name] = {f"{stage}_cpu_p50_ms": median_ms(values) for stage, values in times.items()}
                result[name]["total_cpu_p50_ms"] = round(result["scan_cpu_p50_ms"] + sum(result[name].values()), 2)
                result[name]["recall@10"] = round(hits[name] / (10 * len(qv)), 4)
            result["production_search"] = {"recall@10": round(hits["production"] / (10 * len(qv)), 4),
                                           "cpu": bench.summary_ms(whole_cpu), "wall": bench.summary_ms(whole_wall)}
            out[candidates] = result
            b, n, p = result["before"], result["now"], result["production_search"]
            print(f"{candidates:>6} candidates: scan {result['scan_cpu_p50_ms']} ms | before: "
                  + ", ".join(f"{k.removesuffix('_cpu_p50_ms')} {v}" for k, v in b.items() if k.endswith("_ms"))
                  + f", recall {b['recall@10']} | now: "
                  + ", ".join(f"{k.removesuffix('_cpu_p50_ms')} {v}" for k, v in n.items() if k.endswith("_ms"))
                  + f", recall {n['recall@10']} | Reader.search cpu p50 {p['cpu']['p50_ms']} p99 {p['cpu']['p99_ms']},"
                    f" wall p50 {p['wall']['p50_ms']} p99 {p['wall']['p99_ms']} ms, recall {p['recall@10']}"
                    f" (load {bench.loadavg()})", flush=True)
        out["loadavg_end"] = bench.loadavg()
        print(f"load average {load_start} -> {out['loadavg_end']}")
        bits = vectors._code_bits(view.residuals.shape[1])
        out["code_bits"] = bits
        bench.merge_results("ann_stages", {f"{bits}_bits": out})
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
