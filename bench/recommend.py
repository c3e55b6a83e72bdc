#!/usr/bin/env python3
"""For you benchmark: offline ranking quality on real Hugging Face data, and page latency.

    python bench/recommend.py offline [--cached-only] [--datasets DIR]
    python bench/recommend.py latency [--papers 74700] [--upvotes 200] [--requests 200] [--site DIR] [--datasets DIR]

offline: ../shared/datasets/hf_daily_papers/papers.jsonl.gz. Every submitter who listed at least 5
papers (the two curator accounts, taesiri and akhaliq, with hundreds each, left out) is a user: the
earlier papers they listed are the profile, the latest one is held out, and all papers listed in
the held-out paper's ISO week (minus the profile's) are ranked. MRR and hit@10 for popularity
(upvotes), a single centroid (cosine to the profile's mean), and For you as it runs on the site
(dailypapers.personal.ranking.scores). Ties count half (expected rank under random tie order).
Parameters (top-k, popularity weight) are chosen on one half of the users (by a hash of the name)
and reported on the other half too, so the choice is not tuned to the numbers reported.
Vectors: the bundled embedder (all-MiniLM-L6-v2 int8) over title + abstract, cached per text by
bench/embed_cache.py (seeded from the demo's shipped vectors, which are the same texts' hashes).
--cached-only evaluates only the users whose papers are all cached (no embedding).

latency: a throwaway SQLite site with --papers papers from the 74.7k arXiv cs dump (real ids,
titles, abstracts and dates; each listed on its announcement day, so a week holds ~1k papers),
each with a real MiniLM vector (bench/data/arxiv_cs_every7.minilm-int8.npz, the 10,676 vectors
reused in turn), a user with --upvotes upvotes and 20 saves; then GET /papers/for-you through
Django's test client (the whole server side: middleware, selector, impressions, template),
--requests times, p50/p99, and the selector alone; a repeat view and the first view after an upvote
(nothing cached for the user reusable); and how the shipped shortlist agrees with the exact ranking.

Writes bench/results/recommend.json (each part its key) and prints a table. Never fails on time.
"""

import argparse
import datetime as dt
import gzip
import hashlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import bench_data
import numpy as np

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(BENCH))
RESULTS = BENCH / "results" / "recommend.json"
CURATORS = {"taesiri", "akhaliq"}
MIN_PAPERS = 5


def log(*parts):
    print(f"[{time.strftime('%H:%M:%S')}]", *parts, file=sys.stderr, flush=True)


def merge_results(key: str, value) -> None:
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data[key] = value
    data.setdefault("machine", {}).update({"python": platform.python_version(), "cpus": os.cpu_count(),
                                           "loadavg_1m_at_end": os.getloadavg()[0]})
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")


# --- offline -------------------------------------------------------------------------------------

def _week(day: str) -> tuple[int, int]:
    year, week, _ = dt.date.fromisoformat(day).isocalendar()
    return year, week


def users_and_weeks(papers: list[dict]) -> tuple[dict[str, list[dict]], dict[tuple, list[dict]]]:
    by_user: dict[str, list[dict]] = defaultdict(list)
    for p in papers:
        if p["submitted_by"] and p["submitted_by"] not in CURATORS:
            by_user[p["submitted_by"]].append(p)
    users = {}
    for name, listed in by_user.items():
        if len(listed) >= MIN_PAPERS:
            # When they listed it: the daily submission time, else the list's day.
            users[name] = sorted(listed, key=lambda p: (p["submitted_on_daily_at"] or p["daily_date"], p["arxiv_id"]))
    weeks: dict[tuple, list[dict]] = defaultdict(list)
    for p in papers:
        weeks[_week(p["daily_date"])].append(p)
    return users, weeks


def _rank_of(scores: np.ndarray, target: int) -> float:
    greater = float((scores > scores[target]).sum())
    ties = float((scores == scores[target]).sum()) - 1
    return 1 + greater + ties / 2


def _dev_half(name: str) -> bool:
    return int(hashlib.sha1(name.encode()).hexdigest(), 16) % 2 == 0


def offline(args) -> None:
    from django.conf import settings

    if not settings.configured:
        settings.configure()
    import embed_cache

    from dailypapers.personal import ranking

    embed_cache.DATASETS = args.datasets
    with gzip.open(bench_data.require(args.datasets / bench_data.HF_PAPERS), "rt") as file:
        papers = [json.loads(line) for line in file]
    users, weeks = users_and_weeks(papers)
    text = {p["arxiv_id"]: embed_cache.paper_text(p["title"], p["abstract"]) for p in papers}
    needed = sorted({p["arxiv_id"] for listed in users.values() for p in listed}
                    | {p["arxiv_id"] for listed in users.values() for p in weeks[_week(listed[-1]["daily_date"])]})
    log(f"{len(users)} users, {len(needed)} papers to embed (profiles + held-out weeks)")
    if args.cached_only:
        db = embed_cache._connect("")
        have = {h for (h,) in db.execute("SELECT hash FROM vectors")}
        needed = [i for i in needed if embed_cache._hash(text[i]) in have]
        log(f"cached: {len(needed)}")
    started = time.perf_counter()
    matrix = embed_cache.embed_cached([text[i] for i in needed], documents=True, threads=2, log=log)
    log(f"vectors in {time.perf_counter() - started:.0f} s")
    vectors = dict(zip(needed, ranking.normalise(matrix.astype(np.float32))))

    # Variants: the single centroid, and ours over a small grid (top-k x popularity weight).
    weights = (0.0, 0.05, 0.1, 0.2)
    grid = [(f"top{k}", {"top_k": k, "temperature": None}) for k in (1, 2, 3, 5)]
    grid += [(f"soft{t}", {"temperature": t}) for t in (0.02, 0.05, 0.1, 0.2, 0.3)]
    ranks: dict[str, list[tuple[str, float]]] = defaultdict(list)
    skipped = 0
    for name, listed in users.items():
        held, profile = listed[-1], listed[:-1]
        profile_ids = {p["arxiv_id"] for p in profile}
        candidates = [p for p in weeks[_week(held["daily_date"])] if p["arxiv_id"] not in profile_ids]
        if any(p["arxiv_id"] not in vectors for p in candidates + profile):
            skipped += 1
            continue
        target = next(i for i, p in enumerate(candidates) if p["arxiv_id"] == held["arxiv_id"])
        cand = np.vstack([vectors[p["arxiv_id"]] for p in candidates])
        prof = np.vstack([vectors[p["arxiv_id"]] for p in profile])
        upvotes = np.array([p["upvotes"] or 0 for p in candidates], dtype=np.float64)
        ranks["popularity"].append((name, _rank_of(upvotes, target)))
        ranks["centroid"].append((name, _rank_of(ranking.centroid_interest(cand, prof), target)))
        popular = ranking.popularity(upvotes)
        for label, options in grid:
            liked, _ = ranking.interest(cand, prof, **options)
            for w in weights:
                ranks[f"{label}_pop{w}"].append((name, _rank_of(liked + w * popular, target)))
        centroid = ranking.centroid_interest(cand, prof)
        for t in (0.05, 0.1):
            soft, _ = ranking.interest(cand, prof, temperature=t)
            for mix in (0.25, 0.5, 0.75):
                for w in weights:
                    ranks[f"mix{mix}soft{t}_pop{w}"].append(
                        (name, _rank_of((1 - mix) * soft + mix * centroid + w * popular, target)))
        for clusters in (2, 3):
            liked = ranking.kmeans_interest(cand, prof, clusters=clusters)
            for w in weights:
                ranks[f"kmeans{clusters}_pop{w}"].append((name, _rank_of(liked + w * popular, target)))
        for w in weights:
            ranks[f"centroid_pop{w}"].append((name, _rank_of(centroid + w * popular, target)))
        # As the site runs it: the profile's clusters bound every candidate, the SHORTLIST best get the
        # exact soft maximum (a week here is ~116 papers, under the shortlist: exact). "before": the
        # exact soft maximum for all, as shipped before the clusters; the shortlist variants make the
        # bound decide (a shortlist of 10-30 of ~116, 2-4 clusters), to show what it costs when it bites.
        shipped, _ = ranking.scores(candidates=cand, profile=prof, upvotes=upvotes,
                                    clusters=ranking.cluster_profile(prof))
        ranks["for_you"].append((name, _rank_of(shipped, target)))
        before, _ = ranking.scores(candidates=cand, profile=prof, upvotes=upvotes)
        ranks["for_you_before_exact"].append((name, _rank_of(before, target)))
        for clusters in (2, 4):
            grouped = ranking.cluster_profile(prof, clusters=clusters)
            for depth in (10, 20, 30):
                bounded, _ = ranking.scores(candidates=cand, profile=prof, upvotes=upvotes, clusters=grouped,
                                            shortlist=depth)
                ranks[f"shortlist{depth}_k{clusters}"].append((name, _rank_of(bounded, target)))
        ranks["candidates"].append((name, float(len(candidates))))

    def metrics(rows, half=None):
        chosen = [r for n, r in rows if half is None or _dev_half(n) == half]
        return {"users": len(chosen), "mrr": round(float(np.mean([1 / r for r in chosen])), 4),
                "hit_at_10": round(float(np.mean([r <= 10 for r in chosen])), 4)} if chosen else {}

    table = {name: {"all": metrics(rows), "dev": metrics(rows, True), "test": metrics(rows, False)}
             for name, rows in ranks.items() if name != "candidates"}
    variants = [n for n in table if "_pop" in n]
    best = max(variants, key=lambda n: (table[n]["dev"]["hit_at_10"], table[n]["dev"]["mrr"]))
    result = {
        "users": len(ranks["popularity"]), "users_skipped_missing_vectors": skipped,
        "mean_candidates_per_week": round(float(np.mean([r for _, r in ranks["candidates"]])), 1),
        "shipped": {"temperature": ranking.INTEREST_TEMPERATURE, "centroid_weight": ranking.CENTROID_WEIGHT,
                    "popularity_weight": ranking.POPULARITY_WEIGHT, "profile_clusters": ranking.PROFILE_CLUSTERS,
                    "shortlist": ranking.SHORTLIST},
        "best_on_dev": best, "rankers": table,
    }
    merge_results("offline", result)
    print(f"{result['users']} users ({skipped} skipped), {result['mean_candidates_per_week']} candidates per week")
    print(f"{'ranker':22} {'MRR':>7} {'hit@10':>7} | dev MRR  hit@10 | test MRR hit@10")
    stress = sorted(n for n in table if n.startswith("shortlist"))
    for name in ["popularity", "centroid", "for_you", "for_you_before_exact", *stress, *sorted(variants)]:
        a, d, t = table[name]["all"], table[name]["dev"], table[name]["test"]
        print(f"{name:22} {a['mrr']:7.4f} {a['hit_at_10']:7.4f} | {d['mrr']:.4f} {d['hit_at_10']:.4f}"
              f" | {t['mrr']:.4f} {t['hit_at_10']:.4f}")
    print(f"best on dev: {best}; shipped: {result['shipped']}")


# --- latency -------------------------------------------------------------------------------------

def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def _ms(seconds: list[float]) -> dict:
    return {"p50_ms": round(_pct(seconds, 50) * 1000, 2), "p99_ms": round(_pct(seconds, 99) * 1000, 2),
            "mean_ms": round(statistics.mean(seconds) * 1000, 2), "n": len(seconds)}


def latency(args) -> None:
    # --site reuses a data dir made by an earlier run (loading 74.7k papers takes minutes).
    data_dir = args.site or Path(tempfile.mkdtemp(prefix="dailypapers-recommend-"))
    os.environ.update({"DAILYPAPERS_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "dailypapers.settings",
                       "ALLOWED_HOSTS": "testserver,127.0.0.1"})
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 40)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from dailypapers.papers.models import Paper

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    log(f"site in {data_dir}")
    count = Paper.objects.count() or _load_site(args)
    user = get_user_model().objects.filter(username="reader").first() or _make_reader(args)
    latency_runs(args, user=user, papers=count)


def _load_site(args) -> int:
    from django.db import connection

    from dailypapers.papers.models import DailyEntry, Paper
    from dailypapers.personal import selectors
    from dailypapers.search.models import PaperVector

    with gzip.open(bench_data.require(args.datasets / bench_data.ARXIV_CS), "rt") as file:
        rows, seen = [], set()
        for line in file:
            row = json.loads(line)
            if row["id"] not in seen:
                seen.add(row["id"])
                rows.append(row)
            if len(rows) >= args.papers:
                break
    bank = np.load(BENCH / "data" / "arxiv_cs_every7.minilm-int8.npz")
    vectors = bank["vectors"].astype(np.float32)
    # The bank holds the first release's vectors (documents at 256 tokens, embed_cache.FIRST_RELEASE_KEY);
    # stored under today's model id, they are the same model's vectors, which is all the latency needs.
    from embed_cache import FIRST_RELEASE_KEY

    assert str(bank["model_id"]) == FIRST_RELEASE_KEY, f"the bank holds another model's vectors: {bank['model_id']}"
    model_id = selectors.model_id()
    rng = np.random.default_rng(3)
    started = time.perf_counter()
    batch = 5000
    for start in range(0, len(rows), batch):
        part = rows[start:start + batch]
        Paper.objects.bulk_create([
            Paper(arxiv_id=r["id"], title=" ".join(r["title"].split()),
                  abstract=" ".join((r["abstract"] or "").split()),
                  categories=r["categories"], primary_category=r["categories"][0] if r["categories"] else "",
                  published_at=dt.datetime.fromisoformat(r["listing_date"]).replace(hour=0, tzinfo=dt.timezone.utc),
                  upvotes=int(rng.zipf(2.0)) - 1)
            for r in part
        ])
        papers = list(Paper.objects.filter(arxiv_id__in=[r["id"] for r in part]).values_list("pk", "published_at"))
        DailyEntry.objects.bulk_create([
            DailyEntry(paper_id=pk, day=at.date(), submitted_at=at + dt.timedelta(minutes=int(rng.integers(0, 1440))),
                       submitter_name="arxiv", source="admin") for pk, at in papers])
        PaperVector.objects.bulk_create([
            PaperVector(paper_id=pk, model_id=model_id, text_hash="bench",
                        vector=vectors[(start + i) % len(vectors)].tobytes())
            for i, (pk, _) in enumerate(papers)])
    connection.cursor().execute("ANALYZE")
    log(f"{len(rows)} papers with list entries and vectors in {time.perf_counter() - started:.0f} s")
    return len(rows)


def _make_reader(args):
    from django.contrib.auth import get_user_model

    from dailypapers.collections.services import toggle_saved
    from dailypapers.community.models import Vote
    from dailypapers.papers.models import DailyEntry, Paper

    user = get_user_model().objects.create_user("reader", "reader@example.org", "pw-long-enough-1")
    newest = DailyEntry.objects.order_by("-day").values_list("day", flat=True).first()
    older = list(Paper.objects.filter(published_at__date__lt=newest - dt.timedelta(days=40)).order_by("?")
                 .values_list("pk", flat=True)[:args.upvotes + 20])
    Vote.objects.bulk_create([Vote(user=user, paper_id=pk) for pk in older[:args.upvotes]])
    for pk in older[args.upvotes:]:
        toggle_saved(user=user, paper=Paper.objects.get(pk=pk))
    return user


def latency_runs(args, *, user, papers: int) -> None:
    from django.core.cache import caches
    from django.test import Client

    from dailypapers.community.services import toggle_vote
    from dailypapers.papers.models import DailyEntry, Paper
    from dailypapers.personal import ranking, selectors

    window = selectors.window(period="week")
    in_week = DailyEntry.objects.filter(day__gte=window[0], day__lte=window[1]).count()
    log(f"user with {user.votes.count()} upvotes and 20 saves;"
        f" the week {window[0]}..{window[1]} lists {in_week} papers")

    client = Client()
    client.force_login(user)
    for _ in range(5):  # warm-up: connections, templates, the first impressions written
        assert client.get("/papers/for-you").status_code == 200
    # Old papers outside every window: each upvote of the next one (taking the previous one's back, so
    # the profile stays at 201 upvotes) makes a profile the feed has never seen.
    others = list(Paper.objects.exclude(votes__user=user).order_by("published_at")[:2 * args.requests + 2])
    voted: list = []

    def upvote_other():
        if voted:
            toggle_vote(user=user, paper=voted.pop())
        voted.append(others.pop())
        toggle_vote(user=user, paper=voted[-1])

    timings: dict[str, list[float]] = defaultdict(list)
    for _ in range(args.requests):
        for name, before, call in (
            # A repeat view: what the feed caches for the user is current (the warm-up below).
            ("page_week", None, lambda: client.get("/papers/for-you")),
            ("selector_week", None, lambda: selectors.for_you(user=user, period="week")),
            ("page_month", None, lambda: client.get("/papers/for-you?period=month")),
            # As a process sees a card for the first time (the shared card bodies not yet cached).
            ("page_week_cold_cards", caches["cards"].clear, lambda: client.get("/papers/for-you")),
            # The first view after an upvote: nothing the feed caches per user can be reused.
            ("page_week_after_upvote", upvote_other, lambda: client.get("/papers/for-you")),
            ("page_month_after_upvote", upvote_other, lambda: client.get("/papers/for-you?period=month")),
        ):
            if before is not None:
                before()
            # Wall time, and this process's CPU time: on a shared, loaded machine the wall time
            # also counts the time spent waiting for a core.
            t, c = time.perf_counter(), time.process_time()
            call()
            timings[name].append(time.perf_counter() - t)
            timings[name + "_cpu"].append(time.process_time() - c)
        for path in ("/papers/for-you", "/papers/for-you?period=month"):  # the next round's repeat views
            client.get(path)
    if voted:
        toggle_vote(user=user, paper=voted.pop())
    month = selectors.window(period="month")
    in_month = DailyEntry.objects.filter(day__gte=month[0], day__lte=month[1]).count()
    result = {"papers": papers, "upvotes": user.votes.count(), "saves": 20, "week_candidates": in_week,
              "month_candidates": in_month, "database": "sqlite", "loadavg_1m": os.getloadavg()[0],
              "page_size": selectors.PAGE_SIZE, "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
              **{name: _ms(values) for name, values in timings.items()},
              "note": "Django test client in process: middleware, session, selector, impressions, template;"
                      " no HTTP server"}
    if hasattr(ranking, "cluster_profile"):  # the shortlist (absent before it was made)
        result["shortlist"] = {period: shortlist_agreement(user=user, period=period) for period in ("week", "month")}
    merge_results(args.key, result)
    print(json.dumps(result, indent=2))


def shortlist_agreement(*, user, period: str) -> dict:
    """The shipped ranking (clusters' bound, exact soft maximum for the SHORTLIST best) against the
    exact soft maximum for every candidate, on the reader's profile: how many of the exact top 30 the
    shipped top 30 holds, whether the order is the same, and the CPU time of each (the arithmetic only)."""
    from dailypapers.personal import ranking, selectors

    start, end = selectors.window(period=period)
    listed = selectors.candidates_listed(start=start, end=end)
    profile = selectors.profile_of(user=user)
    keep = ~np.isin(listed.ids, np.array(list(profile.seen), dtype=np.int64)) & (listed.where >= 0)
    matrix = listed.matrix[listed.where[keep]]
    common = {"candidates": matrix, "profile": profile.matrix, "weights": profile.weights,
              "upvotes": np.zeros(len(matrix))}
    out = {"candidates": len(matrix), "profile_rows": len(profile.rows), "clusters": len(profile.clusters.shares)}
    tops = {}
    for label, extra in (("exact", {}), ("shipped", {"clusters": profile.clusters})):
        runs = []
        for _ in range(20):
            c = time.process_time()
            scores, _ = ranking.scores(**common, **extra)
            runs.append(time.process_time() - c)
        tops[label] = np.argsort(-scores, kind="stable")[:selectors.PAGE_SIZE].tolist()
        out[f"{label}_cpu_ms"] = round(statistics.median(runs) * 1000, 2)
    out["top30_overlap"] = len(set(tops["exact"]) & set(tops["shipped"])) / selectors.PAGE_SIZE
    out["top30_same_order"] = tops["exact"] == tops["shipped"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    off = sub.add_parser("offline")
    off.add_argument("--cached-only", action="store_true")
    bench_data.add_argument(off)
    lat = sub.add_parser("latency")
    lat.add_argument("--papers", type=int, default=74_700)
    lat.add_argument("--upvotes", type=int, default=200)
    lat.add_argument("--requests", type=int, default=200)
    bench_data.add_argument(lat)
    lat.add_argument("--site", type=Path, help="reuse this data dir from an earlier run")
    lat.add_argument("--key", default="latency", help="the key of bench/results/recommend.json to write")
    args = parser.parse_args()
    bench_data.use(args.datasets)
    {"offline": offline, "latency": latency}[args.command](args)


if __name__ == "__main__":
    main()
