"""Load across nodes: a mixed workload (the daily page, paper pages, searches, and votes by 50 users
through the API) on one machine's default site and on two web nodes plus a worker on PostgreSQL +
Redis, req/s and p50/p99 per kind, errors counted (anything but a 200).

Configurations, each for --duration seconds of load after a warm-up:
  sqlite-1-node      `dailypapers serve --workers 2` (SQLite, file cache, its own queue worker)
  pg-redis-2-nodes   two `serve --no-background --workers 2` (own data directories and ports) and one
                     `dailypapers worker`, on a database of the machine's PostgreSQL (127.0.0.1:5432) and
                     a redis-server of this script's own (cache on DB 1, queue on DB 2)
Both serve the same data: PAPERS papers on the last days' lists, keyword-indexed. The query embedding
is a deterministic stand-in (tests.embedders.Recording, 20 ms a text) so that the load measures the
site and not the model; the rate limits are raised (the point is throughput, not the abuse limits).
All processes, the load's threads included, share this machine's cores: compare the two rows of one
run, not with other machines.

    .venv/bin/python bench/load.py [--duration 30] [--threads 16] [--config sqlite-1-node pg-redis-2-nodes]
"""

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.live import Load, Process, RedisServer, cli, serve_nodes, shell, site_env  # noqa: E402

PAPERS = 300
USERS = 50
WORDS = ["graphs", "attention", "diffusion", "retrieval", "robots", "proteins", "language", "vision"]

SETUP = f"""
import random
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.utils import timezone
from allauth.account.models import EmailAddress
from dailypapers.api.services import create_token
from dailypapers.papers.records import DailyRecord, PaperRecord
from dailypapers.papers.services import upsert_papers

words = {WORDS!r}
rng = random.Random(7)
today = timezone.now().date()
upsert_papers(records=[PaperRecord(
    arxiv_id=f"2612.{{i:05d}}", title=f"On {{rng.choice(words)}} and {{rng.choice(words)}}, part {{i}}",
    abstract=" ".join(rng.choice(words) for _ in range(60)), authors=[f"Author {{i % 40}}", "Ada Lovelace"],
    upvotes=rng.randrange(50),
    daily=DailyRecord(day=today - timedelta(days=i % 5), submitted_at=timezone.now() - timedelta(days=i % 5),
                      submitter_name="ak")) for i in range({PAPERS})])
tokens = []
for n in range({USERS}):
    user = get_user_model().objects.create_user(f"voter{{n}}", email=f"voter{{n}}@example.org",
                                                password="a-long-pass-phrase-9")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    tokens.append(create_token(user=user, name="load")[1])
print("TOKENS", " ".join(tokens))
"""

KINDS = ("daily", "paper", "search", "vote")
MIX = ["daily"] * 4 + ["paper"] * 3 + ["search"] * 2 + ["vote"] * 1  # of every ten requests


def workload(urls: list[str], tokens: list[str]):
    def request(n: int):
        kind, base = MIX[n % len(MIX)], urls[n % len(urls)]
        if kind == "daily":
            return kind, f"{base}/papers", "GET", {}
        if kind == "paper":
            return kind, f"{base}/papers/2612.{(n * 7919) % PAPERS:05d}", "GET", {}
        if kind == "search":
            return kind, f"{base}/papers?q={WORDS[n % len(WORDS)]}+{WORDS[(n // 8) % len(WORDS)]}", "GET", {}
        user = (n // len(MIX)) % USERS
        method = "POST" if (n // (len(MIX) * USERS)) % 2 == 0 else "DELETE"  # each user votes, then takes it back
        return kind, f"{base}/api/v1/papers/2612.{user:05d}/vote", method, {"Authorization": f"Bearer {tokens[user]}"}

    return request


def _quantile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else 0.0


def summarise(records, seconds: float) -> dict:
    out = {}
    for kind in KINDS:
        rows = [r for r in records if r[0] == kind]
        latencies = [r[2] * 1000 for r in rows]
        out[kind] = {"requests": len(rows), "req_per_s": round(len(rows) / seconds, 1),
                     "p50_ms": round(_quantile(latencies, 0.5), 1), "p99_ms": round(_quantile(latencies, 0.99), 1),
                     "errors": sum(1 for r in rows if r[3] != 200),
                     "statuses": sorted({r[3] for r in rows})}
    out["all"] = {"requests": len(records), "req_per_s": round(len(records) / seconds, 1),
                  "errors": sum(1 for r in records if r[3] != 200)}
    return out


def run_load(urls, tokens, *, threads: int, duration: float) -> dict:
    request = workload(urls, tokens)
    warm = Load(request, threads=threads).start()
    time.sleep(min(10.0, duration / 3))
    warm.stop()
    load = Load(request, threads=threads).start()
    time.sleep(duration)
    records = load.stop()
    seconds = max(r[1] + r[2] for r in records)
    return summarise(records, seconds)


def base_env(data: Path, **extra) -> dict:
    return site_env(data, DAILYPAPERS_EMBEDDER="tests.embedders.Recording", DAILYPAPERS_RATE_VOTE="100000/m",
                    DAILYPAPERS_API_ANON_RATE="10000000/5m", DAILYPAPERS_LOG_LEVEL="WARNING",
                    DAILYPAPERS_QUEUE_LOG_LEVEL="WARNING", **extra)


def prepare(env: dict) -> list[str]:
    cli("migrate", "--no-input", env=env)
    return shell(SETUP, env=env, timeout=300).split("TOKENS ")[1].split()


def index(env: dict) -> None:
    """This node's search files (the local search backend: each web node keeps its own, README)."""
    cli("index", "--quiet", env=env, timeout=300)


def sqlite_one_node(tmp: Path, *, threads: int, duration: float) -> dict:
    env = base_env(tmp / "single")
    tokens = prepare(env)
    index(env)
    node = serve_nodes(["single"], env_for=lambda _: env, logs=tmp, workers=2, background=True)["single"]
    try:
        return run_load([node.url], tokens, threads=threads, duration=duration)
    finally:
        node.stop()


def pg_redis_two_nodes(tmp: Path, *, threads: int, duration: float) -> dict:
    import psycopg

    name = f"dp_bench_load_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres", autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    redis = RedisServer(tmp).start()
    try:
        def env(node: str) -> dict:
            return base_env(tmp / node, DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{name}",
                            CACHE_URL=f"{redis.url}/1", DAILYPAPERS_QUEUE_URL=f"{redis.url}/2")

        tokens = prepare(env("a"))
        for node in "ab":
            index(env(node))
        nodes = serve_nodes("ab", env_for=env, logs=tmp, workers=2)
        worker = Process("worker", "--workers", "1", env=env("w"), log=tmp / "worker.log")
        try:
            return run_load([n.url for n in nodes.values()], tokens, threads=threads, duration=duration)
        finally:
            for process in (*nodes.values(), worker):
                process.stop()
    finally:
        redis.stop()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


CONFIGS = {"sqlite-1-node": sqlite_one_node, "pg-redis-2-nodes": pg_redis_two_nodes}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--config", nargs="+", choices=list(CONFIGS), default=list(CONFIGS))
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results" / "load.json")
    args = parser.parse_args()
    results = {"duration_s": args.duration, "threads": args.threads, "papers": PAPERS, "users": USERS,
               "mix_per_10": {k: MIX.count(k) for k in KINDS}, "machine": platform.node(), "cpus": os.cpu_count(),
               "loadavg_1m_start": os.getloadavg()[0], "configs": {}}
    for config in args.config:
        with tempfile.TemporaryDirectory(prefix=f"dailypapers-load-{config}-") as tmp:
            summary = CONFIGS[config](Path(tmp), threads=args.threads, duration=args.duration)
        results["configs"][config] = summary
        print(config)
        for kind in (*KINDS, "all"):
            row = summary[kind]
            extra = f"  p50 {row['p50_ms']:7.1f} ms  p99 {row['p99_ms']:7.1f} ms" if kind != "all" else ""
            print(f"  {kind:7} {row['req_per_s']:7.1f} req/s{extra}  errors {row['errors']}")
    results["loadavg_1m_end"] = os.getloadavg()[0]
    args.output.parent.mkdir(exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
