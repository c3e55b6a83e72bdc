"""Real processes for the scale-out tests: `dailypapers` commands (serve, worker, shell) started the
way an operator starts them, bounded in time (the redis-server and PostgreSQL database fixtures
are in conftest.py)."""

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
    env.update(DAILYPAPERS_DATA_DIR=str(data_dir), SECRET_KEY="scale-out-tests-" + "k" * 40,
               PYTHONPATH=str(REPO), DAILYPAPERS_LOG_LEVEL="INFO", **extra)
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
