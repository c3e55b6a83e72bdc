#!/usr/bin/env python3
"""Ingest benchmark: `dailypapers ingest jsonl` into a fresh SQLite database.

    python bench/ingest_jsonl.py [FILE] [--rounds 3] [--keep]

FILE defaults to arxiv_cs_daily/arxiv_cs_2025-03_2026-07.jsonl.gz in the data sets folder
(--datasets DIR, $DAILYPAPERS_DATASETS, else <repo>/../shared/datasets)
(74,728 arXiv cs papers, daily-listing format). Each round, in a throwaway data
dir (tempfile): `dailypapers migrate`, then times as subprocesses

  first   `dailypapers ingest jsonl FILE --quiet` into the empty database;
  again   the same command once more: every paper unchanged (the idempotent path).

For each: wall time, papers/s (input records / wall time, the whole command
including Django start-up), the child's peak RSS (os.wait4's rusage of that one
child: ru_maxrss, KiB on Linux), CPU time, and the command's own summary line
("N new / N updated / N unchanged / N skipped"). Also the database size.
The command is timed as a user runs it: when anything is new it also brings
the keyword search index up to date (search.services.index_keywords), so the
first run includes that; the unchanged run skips it.

Prints a table, writes bench/results/ingest_jsonl.json. Never fails on time:
the target (>= 2,000 papers/s into SQLite, first run) is only reported.
"""

import argparse
import contextlib
import datetime as dt
import gzip
import json
import os
import platform
import re
import selectors
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bench_data

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results" / "ingest_jsonl.json"
TARGET_PAPERS_PER_S = 2000


def dailypapers_cmd() -> list[str]:
    script = Path(sys.executable).parent / "dailypapers"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from dailypapers.cli import main; main()"]


_children: list[subprocess.Popen] = []


def timed(cmd: list[str], env: dict) -> dict:
    """Run cmd; wall time, CPU time and peak RSS of that one child (not of earlier ones)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    _children.append(proc)
    out, err = proc.stdout, proc.stderr
    # Read both pipes to the end, then reap the child with os.wait4 for its own rusage
    # (RUSAGE_CHILDREN would be the maximum over every child so far).
    sel = selectors.DefaultSelector()
    sel.register(out, selectors.EVENT_READ)
    sel.register(err, selectors.EVENT_READ)
    chunks = {out: [], err: []}
    while sel.get_map():
        for key, _ in sel.select():
            data = os.read(key.fileobj.fileno(), 65536)
            if data:
                chunks[key.fileobj].append(data)
            else:
                sel.unregister(key.fileobj)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    _children.remove(proc)
    stdout, stderr = b"".join(chunks[out]).decode(), b"".join(chunks[err]).decode()
    if proc.returncode:
        sys.exit(f"bench: {' '.join(cmd)} failed ({proc.returncode}):\n{stdout}\n{stderr[-3000:]}")
    return {
        "wall_s": round(wall, 3),
        "user_s": round(usage.ru_utime, 3),
        "sys_s": round(usage.ru_stime, 3),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),  # KiB on Linux
        "stdout": stdout.strip(),
    }


def parse_stats(text: str) -> dict:
    m = re.search(r"(\d+) new / (\d+) updated / (\d+) unchanged / (\d+) skipped", text)
    if not m:
        return {}
    return dict(zip(("new", "updated", "unchanged", "skipped"), map(int, m.groups())))


def count_records(path: Path) -> int:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as file:
        return sum(1 for line in file if not line.isspace())


def machine_info() -> dict:
    cpu = ""
    with contextlib.suppress(OSError):
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), "")
    git = subprocess.run(["git", "-C", str(REPO_DIR), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(REPO_DIR), "status", "--porcelain"], capture_output=True, text=True)
    import django

    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu_model": cpu,
        "loadavg_at_start": os.getloadavg(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "django": django.get_version(),
        "sqlite": __import__("sqlite3").sqlite_version,
        "git_commit": git.stdout.strip(),
        "git_dirty": bool(dirty.stdout.strip()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", nargs="?", type=Path, help="a JSONL(.gz) file (default: the arXiv cs set)")
    bench_data.add_argument(parser)
    parser.add_argument("--rounds", type=int, default=3, help="fresh database each round (3)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dirs")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    args.file = bench_data.require(args.file or bench_data.use(args.datasets) / bench_data.ARXIV_CS, "JSONL file")

    help_text = subprocess.run([*dailypapers_cmd(), "ingest", "--help"], capture_output=True, text=True,
                               env={**os.environ, "SECRET_KEY": "bench"})
    if "jsonl" not in help_text.stdout:
        print("bench: this checkout has no `dailypapers ingest jsonl` yet", file=sys.stderr)
        return 2

    machine = machine_info()
    records = count_records(args.file)
    print(f"bench: {args.file} has {records} records", file=sys.stderr)
    rounds = []
    tmp_dirs = []
    try:
        for n in range(1, args.rounds + 1):
            tmp = Path(tempfile.mkdtemp(prefix="dailypapers-ingest-bench-"))
            tmp_dirs.append(tmp)
            data = tmp / "data"
            data.mkdir()
            env = {
                **os.environ,
                "DAILYPAPERS_DATA_DIR": str(data),
                "SECRET_KEY": "bench-" + os.urandom(24).hex(),
                "DJANGO_SETTINGS_MODULE": "dailypapers.settings",
            }
            for key in ("DATABASE_URL", "CACHE_URL"):  # the embedded default: SQLite + file cache
                env.pop(key, None)
            migrate = timed([*dailypapers_cmd(), "migrate", "--no-input"], env)
            result = {"migrate_s": migrate["wall_s"]}
            for phase in ("first", "again"):
                run = timed([*dailypapers_cmd(), "ingest", "jsonl", str(args.file), "--quiet"], env)
                run["stats"] = parse_stats(run["stdout"])
                run["papers_per_s"] = round(records / run["wall_s"], 1)
                result[phase] = run
                print(
                    f"round {n} {phase:6s} {run['wall_s']:7.1f} s  {run['papers_per_s']:7.0f} papers/s"
                    f"  peak RSS {run['peak_rss_mib']:6.0f} MiB  cpu {run['user_s'] + run['sys_s']:.1f} s  "
                    f"{run['stdout'][-80:]}",
                    file=sys.stderr,
                )
            result["db_mib"] = round(sum(f.stat().st_size for f in data.glob("dailypapers.sqlite3*")) / 2**20, 1)
            rounds.append(result)
            if not args.keep:
                shutil.rmtree(tmp, ignore_errors=True)
    finally:
        for proc in list(_children):  # interrupted: stop our own child, nothing else
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        if args.keep:
            print(f"bench: kept {', '.join(map(str, tmp_dirs))}", file=sys.stderr)
        else:
            for tmp in tmp_dirs:
                shutil.rmtree(tmp, ignore_errors=True)

    def med(phase: str, key: str) -> float:
        return round(statistics.median(r[phase][key] for r in rounds), 3)

    summary = {
        phase: {
            "wall_s_median": med(phase, "wall_s"),
            "papers_per_s_median": round(records / med(phase, "wall_s"), 1),
            "peak_rss_mib_median": med(phase, "peak_rss_mib"),
            "cpu_s_median": round(statistics.median(r[phase]["user_s"] + r[phase]["sys_s"] for r in rounds), 2),
            # Less sensitive to other jobs on a shared machine than wall time: what one core does.
            "papers_per_cpu_s_median": round(
                statistics.median(records / (r[phase]["user_s"] + r[phase]["sys_s"]) for r in rounds), 1
            ),
            "stats": rounds[-1][phase]["stats"],
        }
        for phase in ("first", "again")
    }
    met = summary["first"]["papers_per_s_median"] >= TARGET_PAPERS_PER_S
    report = {
        "benchmark": "ingest_jsonl",
        "machine": machine,
        "input": {"file": str(args.file), "records": records, "bytes": args.file.stat().st_size},
        "command": "dailypapers ingest jsonl FILE --quiet",
        "database": "SQLite (WAL), fresh data dir per round",
        "target": {"papers_per_s_min": TARGET_PAPERS_PER_S, "met": met},
        "summary": summary,
        "db_mib": rounds[-1]["db_mib"],
        "rounds": rounds,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")

    print()
    print(f"{'run':28s} {'wall s':>8s} {'papers/s':>9s} {'peak RSS MiB':>13s} {'CPU s':>7s}  result")
    for phase, label in (("first", "first ingest (empty db)"), ("again", "second ingest (unchanged)")):
        s = summary[phase]
        stats = " / ".join(f"{v} {k}" for k, v in s["stats"].items())
        print(f"{label:28s} {s['wall_s_median']:8.1f} {s['papers_per_s_median']:9.0f} {s['peak_rss_mib_median']:13.0f}"
              f" {s['cpu_s_median']:7.1f}  {stats}")
    print(
        f"\n{records} records; database {report['db_mib']} MiB; first ingest"
        f" {summary['first']['papers_per_cpu_s_median']:.0f} papers per CPU-second (wall time includes waiting for CPU)"
    )
    print(f"first ingest {summary['first']['papers_per_s_median']:.0f} papers/s"
          f" (target >= {TARGET_PAPERS_PER_S}): {'MET' if met else 'NOT MET'}")
    print(f"medians of {args.rounds} round(s); written to {args.output}")
    return 0


if __name__ == "__main__":
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, frame: sys.exit(128 + signum))
    sys.exit(main())
