"""Faults under load, longer: runs tests/test_faults.py (the same scenarios CI runs in a bounded form)
with its load windows --scale times longer, and writes what each one measured to
bench/results/faults.json: how fast a killed web worker is replaced and how many requests it cost, how
long a queue job killed mid-way takes to be finished by the next worker, how long PostgreSQL and Redis
restarts take to be served through (503 at once / no error at all) and to recover from.

    .venv/bin/python bench/faults.py [--scale 5] [-k EXPRESSION]

The scenarios' assertions stay on (nothing lost, nothing twice); the timings are reported, not judged.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=5.0, help="load windows this many times the tests'")
    parser.add_argument("-k", default="", help="only the scenarios matching (pytest -k)")
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results" / "faults.json")
    args = parser.parse_args()
    with tempfile.NamedTemporaryFile("r", suffix=".jsonl") as measured:
        env = {**os.environ, "DAILYPAPERS_FAULTS_SCALE": str(args.scale),
               "DAILYPAPERS_FAULTS_RESULTS": measured.name}
        command = [sys.executable, "-m", "pytest", "tests/test_faults.py", "-q", "-p", "no:cacheprovider", "-s"]
        if args.k:
            command += ["-k", args.k]
        run = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
        faults = [json.loads(line) for line in Path(measured.name).read_text().splitlines()]
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr[-500:]
    results = {"scale": args.scale, "pytest": summary, "machine": platform.node(), "cpus": os.cpu_count(),
               "loadavg_1m_end": os.getloadavg()[0], "faults": faults}
    for fault in faults:
        print(fault)
    print(summary)
    args.output.parent.mkdir(exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.output}")
    sys.exit(run.returncode)


if __name__ == "__main__":
    main()
