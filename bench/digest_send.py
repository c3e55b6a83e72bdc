#!/usr/bin/env python3
"""Digest sending benchmark: digests per second to a local SMTP server.

    python bench/digest_send.py [--subscribers 10000]

In a throwaway data dir: migrate, load the demo (real days, real papers), create N
confirmed daily subscriptions (every 10th with a topic, every 10th with a minimum
upvote count), start an aiosmtpd server on loopback in a separate process, and time
`dailypapers digest send --period day:<latest demo day>` as a user runs it (one SMTP
connection for the run). Then times the same command again: every digest already
sent, nothing goes out (the exactly-once path).

Prints a table, writes bench/results/digest_send.json. Never fails on time.
"""

import argparse
import datetime as dt
import json
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results" / "digest_send.json"
SMTP_SERVER = """
import asyncio, sys
from aiosmtpd.controller import Controller
class Count:
    n = 0
    async def handle_DATA(self, server, session, envelope):
        Count.n += 1
        return "250 OK"
c = Controller(Count(), hostname="127.0.0.1", port=int(sys.argv[1]))
c.start()
sys.stdin.read()
print(Count.n)
c.stop()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    args = parser.parse_args()
    cli = [sys.executable, "-m", "dailypapers.cli"]
    with tempfile.TemporaryDirectory(prefix="dp-bench-digest-") as data_dir:
        port = free_port()
        env = {**os.environ, "DAILYPAPERS_DATA_DIR": data_dir, "SECRET_KEY": "bench-" + "x" * 40,
               "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(port), "DJANGO_SETTINGS_MODULE": "dailypapers.settings"}
        env.pop("DATABASE_URL", None)
        subprocess.run([*cli, "migrate", "-v0"], env=env, check=True)
        subprocess.run([*cli, "demo"], env=env, check=True, stdout=subprocess.DEVNULL)
        setup = f"""
import django; django.setup()
from datetime import datetime, timezone
from dailypapers.digests.models import Subscription
from dailypapers.papers.models import DailyEntry
now = datetime.now(timezone.utc)
Subscription.objects.bulk_create([Subscription(email=f"reader{{i}}@example.org", confirmed_at=now,
    topic="language models" if i % 10 == 1 else "", min_upvotes=20 if i % 10 == 2 else 0)
    for i in range({args.subscribers})], batch_size=1000)
print(DailyEntry.objects.latest("day").day.isoformat())
"""
        day = subprocess.run(
            [sys.executable, "-c", setup], env=env, check=True, capture_output=True, text=True
        ).stdout.strip()
        server = subprocess.Popen([sys.executable, "-c", SMTP_SERVER, str(port)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        time.sleep(1.0)
        runs = {}
        for name in ("first", "again"):
            started = time.perf_counter()
            out = subprocess.run([*cli, "digest", "send", "--period", f"day:{day}", "--quiet"], env=env,
                                 check=True, capture_output=True, text=True).stdout.strip()
            wall = time.perf_counter() - started
            sent = int(re.search(r"(\d+) sent", out)[1])
            runs[name] = {"wall_s": round(wall, 2), "summary": out, "sent": sent,
                          "digests_per_s": round(sent / wall, 1) if sent else None,
                          "subscriptions_per_s": round(args.subscribers / wall, 1)}
        received, _ = server.communicate("", timeout=60)
    result = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"nproc": os.cpu_count(), "python": platform.python_version(), "load_avg": os.getloadavg()},
        "subscribers": args.subscribers, "period": f"day:{day}", "smtp_received": int(received.strip() or 0),
        "runs": runs,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{'run':8} {'wall s':>8} {'digests/s':>10} {'subs/s':>9}  summary")
    for name, run in runs.items():
        print(
            f"{name:8} {run['wall_s']:>8} {str(run['digests_per_s']):>10} {run['subscriptions_per_s']:>9}  "
            f"{run['summary']}"
        )
    print(f"SMTP server received {result['smtp_received']} messages for {args.subscribers} subscribers")


if __name__ == "__main__":
    main()
