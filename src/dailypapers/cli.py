"""The `dailypapers` command: Django's management commands, plus `serve`.

    dailypapers serve [--host H] [--port P] [--workers N]   gunicorn, plus one supervised queue worker
    dailypapers worker [--workers N] [--processes]           a task-queue worker (background jobs)
    dailypapers status                                       papers, vectors pending, queue, jobs, digests
    dailypapers index [--rebuild] [--watch]                  search indexes and paper vectors, now
    dailypapers ingest SOURCE ...                            see `dailypapers ingest --help`
    dailypapers demo [--if-empty]                            load the bundled demo days
    dailypapers migrate | createsuperuser | ...              any Django management command
"""

import argparse
import os
import signal
import subprocess
import sys
import time


def gunicorn_argv(*, host: str, port: int, workers: int, access_log: bool) -> list[str]:
    return [
        "gunicorn", "dailypapers.wsgi:application",
        "--bind", f"{host}:{port}",
        "--workers", str(workers),
        # gunicorn's control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl), so
        # every `serve` on the host would share (and take over) it; nothing here uses it.
        "--no-control-socket",
        # Access logs cost ~5% of a cached page; DAILYPAPERS_ACCESS_LOG=1 turns them on.
        *(["--access-logfile", "-"] if access_log else []),
    ]


def _die_with_parent() -> None:
    """In a child, before exec: Linux sends it SIGTERM when its parent dies, even by SIGKILL, so
    no worker outlives the `serve` that started it."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the supervisor still stops its worker on an orderly stop


class Supervisor:
    """Runs `dailypapers worker` and starts it again whenever it ends (a crash, a kill, an
    out-of-memory), with a log line each time and a growing pause (1 s, 2 s, ... 30 s) while it
    keeps dying within a minute. The worker's jobs are built to be re-run: nothing is lost or done
    twice. It runs in a process of its own beside gunicorn's master (`serve` starts it), not in a
    thread of the master: gunicorn forks its web workers from there."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = argv
        self.process: subprocess.Popen | None = None
        self.stopping = False

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        pause = 1.0
        while not self.stopping:
            started = time.monotonic()
            self.process = subprocess.Popen(self.argv, preexec_fn=_die_with_parent)
            print(f"dailypapers: background worker started (pid {self.process.pid})", file=sys.stderr, flush=True)
            code = self.process.wait()
            if self.stopping:
                return
            if time.monotonic() - started > 60:
                pause = 1.0  # it had been running: not a crash loop
            print(f"dailypapers: background worker (pid {self.process.pid}) exited with code {code}; "
                  f"restarting it in {pause:.0f} s", file=sys.stderr, flush=True)
            time.sleep(pause)
            pause = min(pause * 2, 30.0)

    def _stop(self, signum, frame) -> None:
        self.stopping = True
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # the worker finishes its jobs' current step and exits


def _supervise_worker() -> None:
    Supervisor([sys.executable, "-m", "dailypapers.cli", "worker", "--workers", "2"]).run()


def _serve(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="dailypapers serve", description="Serve the site with gunicorn.")
    parser.add_argument("--host", default=os.environ.get("DAILYPAPERS_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("DAILYPAPERS_PORT", "8000")))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
    parser.add_argument(
        "--no-background", action="store_true",
        help="don't run a queue worker beside the web workers (run `dailypapers worker` elsewhere)",
    )
    args = parser.parse_args(argv)
    # One BLAS thread per web worker, set before numpy loads: each request's matrix work is small,
    # and OpenBLAS's threads only stall on a busy machine (For you's ranking took ~50 ms of CPU
    # with them against ~28 ms without, bench/recommend.py). An operator's own value wins.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    # Settings fail early (e.g. no SECRET_KEY) with their own message, not inside a worker.
    import django

    django.setup()
    # The embedder's models, built once per machine before any worker needs them: otherwise every web
    # worker would build its own copy on its first search (~20 s of CPU each, that search without its
    # semantic side meanwhile). In a process of its own: onnxruntime is never loaded where gunicorn forks.
    prepared = subprocess.run([sys.executable, "-m", "dailypapers.cli", "index", "--models"])
    if prepared.returncode:
        print("dailypapers: warning: the embedder's models could not be built; search runs on keywords "
              "until a worker builds them", file=sys.stderr)
    from gunicorn.app.wsgiapp import run

    sys.argv = gunicorn_argv(
        host=args.host, port=args.port, workers=args.workers,
        access_log=os.environ.get("DAILYPAPERS_ACCESS_LOG") == "1",
    )
    print(f"dailypapers: serving on http://{args.host}:{args.port}/papers", file=sys.stderr)
    # One queue worker (two job threads) runs every background job: embedding, index upkeep,
    # digests, submitted papers' fetches, scheduled ingests. With several machines, give each web
    # node --no-background and run `dailypapers worker` where the work should happen.
    supervisor = None if args.no_background else subprocess.Popen(
        [sys.executable, "-m", "dailypapers.cli", "_supervise-worker"], preexec_fn=_die_with_parent)
    try:
        run()
    finally:
        if supervisor is not None:
            supervisor.terminate()
            try:
                supervisor.wait(timeout=60)
            except subprocess.TimeoutExpired:
                supervisor.kill()


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dailypapers.settings")
    from django.core.exceptions import ImproperlyConfigured

    try:
        if argv and argv[0] == "serve":
            _serve(argv[1:])
            return
        if argv == ["_supervise-worker"]:  # started by serve
            _supervise_worker()
            return
        from django.core.management import execute_from_command_line

        execute_from_command_line(["dailypapers", *argv])
    except ImproperlyConfigured as exc:
        sys.exit(f"dailypapers: error: {exc}")


if __name__ == "__main__":
    main()
