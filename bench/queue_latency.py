"""The task queue's own cost: delay from enqueue to run of a job that does nothing, and a worker's
memory, for huey on its SQLite storage (the default) and on Redis (a redis-server of our own on a
free port). Loopback only, bounded: 40 jobs one after another per backend.

    .venv/bin/python bench/queue_latency.py      # prints a table, writes bench/results/queue_latency.json
"""

import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
JOBS = 40


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(queue_url: str, data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CACHE_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(
        DAILYPAPERS_DATA_DIR=str(data_dir),
        SECRET_KEY="bench-" + "k" * 50,
        DAILYPAPERS_QUEUE_URL=queue_url,
        DAILYPAPERS_LOG_LEVEL="WARNING",
        DAILYPAPERS_QUEUE_LOG_LEVEL="WARNING",
    )
    cli = [sys.executable, "-m", "dailypapers.cli"]
    subprocess.run([*cli, "migrate", "--no-input", "-v0"], env=env, check=True)
    worker = subprocess.Popen(
        [*cli, "worker", "--no-periodic", "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    code = f"""
import time
from dailypapers.ops.models import JobStat
from dailypapers.ops.tasks import ping
delays = []
for n in range({JOBS}):
    runs = JobStat.objects.filter(name="ops.ping").values_list("runs", flat=True).first() or 0
    ping(time.time())
    deadline = time.monotonic() + 30
    while (JobStat.objects.filter(name="ops.ping").values_list("runs", flat=True).first() or 0) == runs:
        assert time.monotonic() < deadline, "the worker did not run the job"
        time.sleep(0.002)
    delays.append(float(JobStat.objects.get(name="ops.ping").last_result.split()[0]))
print(delays)
"""
    try:
        time.sleep(3)  # the consumer starts
        out = subprocess.run(
            [*cli, "shell", "--no-imports", "-c", code],
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        ).stdout
        delays = json.loads(out.strip().splitlines()[-1])
        rss = _rss_mib(worker.pid)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    delays_sorted = sorted(delays)
    return {
        "jobs": len(delays),
        "p50_ms": statistics.median(delays),
        "p90_ms": delays_sorted[int(0.9 * len(delays)) - 1],
        "max_ms": max(delays),
        "worker_rss_mib": round(rss, 1),
    }


def main() -> None:
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["huey, SQLite file (default)"] = measure("", Path(tmp) / "sqlite")
        redis = shutil.which("redis-server")
        if redis:
            port = _free_port()
            server = subprocess.Popen(
                [redis, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", tmp],
                stdout=subprocess.DEVNULL,
            )
            try:
                time.sleep(0.5)
                results["huey, Redis"] = measure(f"redis://127.0.0.1:{port}/0", Path(tmp) / "redis")
            finally:
                server.terminate()
                server.wait(timeout=10)
    print(f"{'queue':<30} {'p50 ms':>8} {'p90 ms':>8} {'max ms':>8} {'worker RSS MiB':>15}")
    for name, r in results.items():
        print(f"{name:<30} {r['p50_ms']:>8.1f} {r['p90_ms']:>8.1f} {r['max_ms']:>8.1f} {r['worker_rss_mib']:>15.1f}")
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    out = REPO / "bench" / "results" / "queue_latency.json"
    out.write_text(
        json.dumps(
            {
                "commit": commit,
                "load": os.getloadavg(),
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"written {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
