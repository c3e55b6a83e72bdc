#!/usr/bin/env python3
"""Load benchmark of the daily page, served the production way (gunicorn).

    python bench/daily_page_load.py [--rounds 5] [--duration 10] [--connections 16]
                                    [--threads 2] [--workers 2] [--cache file|locmem] [--keep]

What it does, in a throwaway data dir (tempfile):
  dailypapers migrate / collectstatic / demo (2,867 real papers over 120 days),
  then `dailypapers serve --workers N` on a free loopback port, with
  PYTHONPATH=bench and DJANGO_SETTINGS_MODULE=benchsite.settings for the whole
  run (the site's own settings plus one extra URL, /bench/bare), warms up,
  and measures with wrk (`wrk -tT -cC -dDs --latency`), several rounds,
  the URLs interleaved round by round so machine noise spreads over all:

  daily        /papers                          anonymous daily page: the cached path
  days_cached  /papers/date/<day> x 120 days    the day pages, cached after warm-up
  paper        /papers/<arxiv id> x 500 papers  the paper pages (cached for anonymous readers
                                                after their first view)
  bare         /bench/bare                      tiny TemplateView, same middleware:
                                                the ceiling of this Django+gunicorn setup
  days_miss    /papers/date/<day>?miss=<n>      a unique query string on every request:
                                                the cache key ignores parameters a page
                                                does not read, so this no longer misses

Every recorded run is preceded by a 2 s unrecorded run of the same URL (it
refills cache entries that days_miss made the file cache cull, and drains the
previous URL's backlog). Each run also records how busy the whole machine was
(/proc/stat) and the 1-minute load: other people's jobs show up there.

--cache locmem reruns everything with a per-process LocMemCache instead of the
shared file cache (written to daily_page_load_locmem.json): a comparison that
prices the cache backend, not a production setting.

Prints a table and writes bench/results/daily_page_load.json (machine info,
per-URL medians of requests/s, p50, p99, and every round). It never fails on
time: the target (daily page >= 800 req/s with p99 < 50 ms) is only reported.
wrk and the server share the machine's cores, so compare ratios within one
run (daily/bare) rather than absolute numbers across machines.

Needs wrk (apt-get install wrk); exits 2 with that hint when it is missing.
The server (a process group of its own) is stopped at the end, even on error.
"""

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results" / "daily_page_load.json"
TARGET_RPS = 800
TARGET_P99_MS = 50.0


def dailypapers_cmd() -> list[str]:
    script = Path(sys.executable).parent / "dailypapers"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from dailypapers.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd: list[str], env: dict, **kw) -> subprocess.CompletedProcess:
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, **kw)
    if proc.returncode:
        sys.exit(f"bench: {' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    proc.seconds = time.perf_counter() - started
    return proc


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


# --- wrk -----------------------------------------------------------------------------

_UNIT_MS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNIT_MS[unit]


def parse_wrk(out: str) -> dict:
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])}
    for pct, value in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+\w+)\s*$", out, re.M):
        result[f"p{pct}_ms"] = round(_ms(value), 3)
    m = re.search(r"(\d+) requests in ([\d.]+\w+),", out)
    result["requests"] = int(m[1])
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non_2xx_3xx"] = int(non2xx[1]) if non2xx else 0
    errors = re.search(r"Socket errors: (.*)", out)
    result["socket_errors"] = errors[1].strip() if errors else ""
    return result


LUA_CYCLE = """
paths = {%s}
counter = 0
request = function()
  counter = counter + 1
  local p = paths[(counter %% #paths) + 1]
  %s
  return wrk.format("GET", p)
end
"""


def lua_script(tmp: Path, name: str, paths: list[str], *, unique_query: bool = False) -> Path:
    # Each wrk thread has its own Lua state; a per-thread random salt keeps the
    # unique query strings of the two threads apart.
    body = (
        'p = p .. "?miss=" .. salt .. "-" .. counter' if unique_query else ""
    )
    script = LUA_CYCLE % (", ".join(json.dumps(p) for p in paths), body)
    if unique_query:
        script = 'math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))\nsalt = math.random(1, 1e9)\n' + script
    file = tmp / f"{name}.lua"
    file.write_text(script)
    return file


def wrk(base: str, target: dict, *, threads: int, connections: int, duration: float) -> dict:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration:g}s", "--latency", "--timeout", "10s"]
    if target.get("script"):
        cmd += ["-s", str(target["script"])]
    cmd.append(base + target["path"])
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"wrk failed: {proc.stderr or proc.stdout}")
    return parse_wrk(proc.stdout)


def cpu_times() -> list[int]:
    with open("/proc/stat") as f:
        return [int(x) for x in f.readline().split()[1:]]


def cpu_busy_pct(before: list[int], after: list[int]) -> float:
    """Busy share of all cores between two /proc/stat readings (server + wrk + anything else)."""
    delta = [b - a for a, b in zip(before, after)]
    idle = delta[3] + (delta[4] if len(delta) > 4 else 0)  # idle + iowait
    total = sum(delta[:8])
    return round(100 * (total - idle) / total, 1) if total else 0.0


def other_processes_cpu(exclude: str = "") -> list[dict]:
    """Other processes using CPU right now (the machine is shared): for the record only."""
    out = subprocess.run(["ps", "-eo", "pid,pcpu,etime,args", "--sort=-pcpu"], capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines()[1:8]:
        pid, pcpu, etime, cmd = line.split(None, 3)
        if float(pcpu) >= 5 and int(pid) != os.getpid() and not (exclude and exclude in cmd):
            rows.append({"pid": int(pid), "pcpu": float(pcpu), "elapsed": etime, "cmd": cmd[:120]})
    return rows


# --- server --------------------------------------------------------------------------


class Server:
    def __init__(self, env: dict, port: int, workers: int, log: Path):
        self.log = log.open("w")
        self.proc = subprocess.Popen(
            [*dailypapers_cmd(), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def wait_ready(self, url: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited ({self.proc.returncode}); see {self.log.name}")
            try:
                if fetch(url)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server not ready after {timeout}s; see {self.log.name}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            # Only our own process group: gunicorn's master and its workers.
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            except ProcessLookupError:
                pass
        self.log.close()


# --- the benchmark -------------------------------------------------------------------


def machine_info() -> dict:
    cpu = ""
    with contextlib.suppress(OSError):
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), "")
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    git = subprocess.run(["git", "-C", str(REPO_DIR), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(REPO_DIR), "status", "--porcelain"], capture_output=True, text=True)
    import django
    import gunicorn

    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu_model": cpu,
        "loadavg_at_start": os.getloadavg(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "django": django.get_version(),
        "gunicorn": gunicorn.__version__,
        "wrk": (wrk_version.stdout or wrk_version.stderr).splitlines()[0]
        if (wrk_version.stdout or wrk_version.stderr)
        else "",
        "git_commit": git.stdout.strip(),
        "git_dirty": bool(dirty.stdout.strip()),
    }


def site_ids(env: dict) -> tuple[list[str], list[str]]:
    code = (
        "import json; from dailypapers.papers.models import Paper, DailyEntry;"
        "days = sorted({d.isoformat() for d in DailyEntry.objects.values_list('day', flat=True)});"
        "ids = list(Paper.objects.filter(daily_entries__isnull=False).distinct().order_by('?')"
        ".values_list('arxiv_id', flat=True)[:500]);"
        "print(json.dumps({'days': days, 'ids': ids}))"
    )
    out = run([*dailypapers_cmd(), "shell", "-c", code], env).stdout
    data = json.loads(out.strip().splitlines()[-1])
    return data["days"], data["ids"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=float, default=10, help="seconds per wrk run (10)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument(
        "--cache", choices=("file", "locmem"), default="file",
        help="file: the site's default shared file cache; locmem: per-process memory (comparison only)",
    )
    parser.add_argument("--only", default="", help="comma-separated subset of: daily,days_cached,days_miss,paper,bare")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dir")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.cache != "file" and args.output == RESULTS:
        args.output = RESULTS.with_name(f"daily_page_load_{args.cache}.json")

    if not shutil.which("wrk"):
        print("bench: wrk is not installed. Install it with:  sudo apt-get install wrk", file=sys.stderr)
        return 2

    tmp = Path(tempfile.mkdtemp(prefix="dailypapers-bench-"))
    env = {
        **os.environ,
        "DAILYPAPERS_DATA_DIR": str(tmp / "data"),
        "SECRET_KEY": "bench-" + os.urandom(24).hex(),
        "DJANGO_SETTINGS_MODULE": "benchsite.settings",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(BENCH_DIR), os.environ.get("PYTHONPATH", "")])),
        "DAILYPAPERS_DEBUG": "0",
        "BENCH_CACHE": args.cache,
    }
    for key in ("DATABASE_URL", "CACHE_URL"):  # the embedded default: SQLite + file cache
        env.pop(key, None)
    (tmp / "data").mkdir()
    server = None
    try:
        setup = {}
        print(f"bench: data dir {tmp / 'data'}", file=sys.stderr)
        for step in (["migrate", "--no-input"], ["collectstatic", "--no-input", "--verbosity", "0"], ["demo"]):
            proc = run([*dailypapers_cmd(), *step], env)
            setup[step[0] + "_s"] = round(proc.seconds, 2)
            print(f"bench: {step[0]} {proc.seconds:.1f}s {proc.stdout.strip()[-120:]}", file=sys.stderr)
        days, ids = site_ids(env)
        print(f"bench: {len(days)} days, {len(ids)} paper ids for the uncached variants", file=sys.stderr)

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = Server(env, port, args.workers, tmp / "server.log")
        server.wait_ready(base + "/bench/bare")

        targets = {
            "daily": {"path": "/papers", "what": "anonymous daily page (cached)"},
            "days_cached": {
                "path": "/papers/date/" + days[0],
                "script": lua_script(tmp, "days", [f"/papers/date/{d}" for d in days]),
                "what": f"{len(days)} day pages cycled (cached after warm-up)",
            },
            "paper": {
                "path": "/papers/" + ids[0],
                "script": lua_script(tmp, "paper", [f"/papers/{i}" for i in ids]),
                "what": f"{len(ids)} paper pages cycled (cached after their first view)",
            },
            "bare": {"path": "/bench/bare", "what": "tiny TemplateView, same settings and middleware"},
            "days_miss": {
                "path": "/papers/date/" + days[0],
                "script": lua_script(tmp, "days_miss", [f"/papers/date/{d}" for d in days], unique_query=True),
                "what": "day pages with a unique query string "
                "(cache-busting attempts; the key ignores unread parameters)",
            },
        }
        if args.only:
            keep = set(args.only.split(","))
            targets = {k: v for k, v in targets.items() if k in keep or k in {"daily", "bare"}}

        # Sanity: every URL answers 200 (a redirect or 404 would measure the wrong thing).
        for name, target in targets.items():
            for path in [target["path"]] + (
                [f"/papers/date/{days[-1]}", f"/papers/{ids[-1]}"] if name == "daily" else []
            ):
                status, body = fetch(base + path)
                if status != 200:
                    raise RuntimeError(f"{path} answered {status}, not 200")
            target["bytes"] = len(fetch(base + target["path"])[1])

        print("bench: warming up", file=sys.stderr)
        busy_at_start = other_processes_cpu(exclude=f"--port {port}")
        for target in targets.values():
            wrk(base, target, threads=args.threads, connections=args.connections, duration=3)

        rounds: dict[str, list[dict]] = {name: [] for name in targets}
        for n in range(1, args.rounds + 1):
            for name, target in targets.items():
                # A short unrecorded run first: refills cache entries that an earlier
                # (cache-miss) run evicted, and drains the previous URL's backlog.
                wrk(base, target, threads=args.threads, connections=args.connections, duration=2)
                before = cpu_times()
                result = wrk(base, target, threads=args.threads, connections=args.connections, duration=args.duration)
                result["machine_cpu_busy_pct"] = cpu_busy_pct(before, cpu_times())
                result["loadavg_1m"] = os.getloadavg()[0]
                rounds[name].append(result)
                print(
                    f"round {n} {name:12s} {result['rps']:8.1f} req/s  p50 {result['p50_ms']:7.2f} ms"
                    f"  p99 {result['p99_ms']:7.2f} ms  non-2xx {result['non_2xx_3xx']}"
                    f"  (machine busy {result['machine_cpu_busy_pct']:.0f}%, load {result['loadavg_1m']:.1f})",
                    file=sys.stderr,
                )

        summary = {}
        for name, results in rounds.items():
            summary[name] = {
                "path": targets[name]["path"],
                "what": targets[name]["what"],
                "response_bytes": targets[name]["bytes"],
                "rps_median": round(statistics.median(r["rps"] for r in results), 1),
                "machine_cpu_busy_pct_median": statistics.median(r["machine_cpu_busy_pct"] for r in results),
                "p50_ms_median": round(statistics.median(r["p50_ms"] for r in results), 2),
                "p99_ms_median": round(statistics.median(r["p99_ms"] for r in results), 2),
                "non_2xx_3xx": sum(r["non_2xx_3xx"] for r in results),
                "rounds": results,
            }
        bare_rps = summary["bare"]["rps_median"]
        for s in summary.values():
            s["ratio_to_bare"] = round(s["rps_median"] / bare_rps, 3) if bare_rps else None
        # Ratio per round too (same round = same machine conditions), then the median.
        ratios = [d["rps"] / b["rps"] for d, b in zip(rounds["daily"], rounds["bare"]) if b["rps"]]
        daily = summary["daily"]
        target_met = daily["rps_median"] >= TARGET_RPS and daily["p99_ms_median"] < TARGET_P99_MS

        report = {
            "benchmark": "daily_page_load",
            "machine": machine_info(),
            "config": {
                "wrk": f"wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s --latency",
                "rounds": args.rounds,
                "gunicorn_workers": args.workers,
                "settings": "benchsite.settings (dailypapers.settings + /bench/bare)",
                "database": "SQLite (WAL), demo data",
                "cache": {
                    "file": "file-based cache in the data dir (the default, CACHE_URL unset)",
                    "locmem": "per-process LocMemCache (comparison only, not a production setting)",
                }[args.cache],
                "note": "wrk and the server share the same cores; compare ratios within this run",
            },
            "setup_seconds": setup,
            "busy_processes_at_start": busy_at_start,
            "busy_processes_at_end": other_processes_cpu(exclude=f"--port {port}"),
            "cache_files_at_end": len(list((tmp / "data" / "cache").glob("*.djcache"))),
            "demo": {"days": len(days)},
            "target": {"daily_rps_min": TARGET_RPS, "daily_p99_ms_max": TARGET_P99_MS, "met": target_met},
            "daily_over_bare_median_of_round_ratios": round(statistics.median(ratios), 3) if ratios else None,
            "urls": summary,
        }
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(report, indent=2) + "\n")

        print()
        print(f"{'url':12s} {'path':28s} {'req/s':>9s} {'p50 ms':>8s} {'p99 ms':>8s} {'/bare':>6s}")
        for name, s in summary.items():
            print(
                f"{name:12s} {s['path'][:28]:28s} {s['rps_median']:9.1f} {s['p50_ms_median']:8.2f}"
                f" {s['p99_ms_median']:8.2f} {s['ratio_to_bare']:6.2f}"
            )
        print(
            f"\ndaily page: {daily['rps_median']:.0f} req/s, p99 {daily['p99_ms_median']:.1f} ms"
            f" (target >= {TARGET_RPS} req/s, p99 < {TARGET_P99_MS:g} ms): {'MET' if target_met else 'NOT MET'}"
        )
        print(f"daily/bare (median of per-round ratios): {report['daily_over_bare_median_of_round_ratios']}")
        print(f"medians of {args.rounds} rounds; written to {args.output}")
        return 0
    finally:
        if server:
            server.stop()
        if args.keep:
            print(f"bench: kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    # SIGTERM/SIGHUP become SystemExit, so the finally above still stops the server.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, frame: sys.exit(128 + signum))
    sys.exit(main())
