"""Embedding throughput with 1 and 2 worker processes sharing the work through the queue's claims
(search.tasks.embed_claimed: batches claimed with SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL).

A throwaway PostgreSQL database on 127.0.0.1:5432 gets the first N papers of the arXiv cs file;
for each worker count the vectors are deleted and that many processes embed everything (the real
all-MiniLM-L6-v2 int8 model, one onnxruntime thread each). The clock starts once every process has
loaded the model, and stops when the last one ends. Bounded: N papers (600 by default).

    .venv/bin/python bench/queue_throughput.py [--papers 600] [--file FILE]
"""

import argparse
import gzip
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_FILE = Path("/work/shared/datasets/arxiv_cs_daily/arxiv_cs_2025-03_2026-07.jsonl.gz")

WORKER = """
import os, time
from pathlib import Path
from dailypapers.search.embedders import get_embedder
from dailypapers.search.tasks import embed_claimed
get_embedder(threads=1).embed(["warm up"])
print("ready", flush=True)
go = Path(os.environ["DAILYPAPERS_BENCH_GO"])
while not go.exists():
    time.sleep(0.01)
started = time.perf_counter()
done = embed_claimed(threads=1)
print("done", done, round(time.perf_counter() - started, 2), flush=True)
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--papers", type=int, default=600)
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    args = parser.parse_args()
    import psycopg

    name = f"dp_bench_queue_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres", autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    results = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "CACHE_URL"}}
            env.update(
                DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{name}",
                DAILYPAPERS_DATA_DIR=tmp,
                SECRET_KEY="bench-" + "k" * 50,
                DAILYPAPERS_LOG_LEVEL="WARNING",
            )
            cli = [sys.executable, "-m", "dailypapers.cli"]
            subprocess.run([*cli, "migrate", "--no-input", "-v0"], env=env, check=True)
            subset = Path(tmp) / "subset.jsonl.gz"
            with gzip.open(args.file, "rt") as src, gzip.open(subset, "wt") as dst:
                dst.writelines(itertools.islice(src, args.papers))
            subprocess.run(
                [*cli, "ingest", "jsonl", str(subset), "--quiet"], env=env, check=True, stdout=subprocess.DEVNULL
            )
            for workers in (1, 2):
                subprocess.run(
                    [
                        *cli,
                        "shell",
                        "--no-imports",
                        "-c",
                        "from dailypapers.search.models import PaperVector, IndexState; "
                        "PaperVector.objects.all().delete(); IndexState.objects.filter(name='vectors').delete()",
                    ],
                    env=env,
                    check=True,
                )
                go = Path(tmp) / f"go-{workers}"
                procs = [
                    subprocess.Popen(
                        [*cli, "shell", "--no-imports", "-c", WORKER],
                        env={**env, "DAILYPAPERS_BENCH_GO": str(go)},
                        stdout=subprocess.PIPE,
                        text=True,
                    )
                    for _ in range(workers)
                ]
                for p in procs:  # anything else the process prints before "ready" is skipped
                    while (line := p.stdout.readline()) and line.strip() != "ready":
                        pass
                    assert line, "a worker exited before loading the model"
                started = time.perf_counter()
                go.touch()
                lines = []
                for p in procs:
                    while (line := p.stdout.readline()) and not line.startswith("done "):
                        pass
                    lines.append(line.split())
                wall = time.perf_counter() - started
                for p in procs:
                    p.wait(timeout=60)
                embedded = [int(line[1]) for line in lines]
                stored = subprocess.run(
                    [
                        *cli,
                        "shell",
                        "--no-imports",
                        "-c",
                        "from dailypapers.search.models import PaperVector; print(PaperVector.objects.count())",
                    ],
                    env=env,
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout.split()[-1]
                results[f"{workers} worker{'s' if workers > 1 else ''}"] = {
                    "papers": sum(embedded),
                    "per_worker": embedded,
                    "stored_vectors": int(stored),
                    "wall_s": round(wall, 2),
                    "papers_per_s": round(sum(embedded) / wall, 1),
                    "load": os.getloadavg()[0],
                }
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    print(f"{'workers':<12} {'papers':>7} {'split':>12} {'wall s':>8} {'papers/s':>9} {'load':>6}")
    for label, r in results.items():
        print(
            f"{label:<12} {r['papers']:>7} {'/'.join(map(str, r['per_worker'])):>12} {r['wall_s']:>8.1f} "
            f"{r['papers_per_s']:>9.1f} {r['load']:>6.1f}"
        )
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    out = REPO / "bench" / "results" / "queue_throughput.json"
    out.write_text(
        json.dumps(
            {
                "commit": commit,
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "papers": args.papers,
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"written {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
