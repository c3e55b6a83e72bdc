"""deploy/: the SQLite backup script copies a live database consistently, and gunicorn accepts the
shipped config."""

import sqlite3
import subprocess
import sys
import threading

from .live import REPO, cli, site_env


def test_backup_sqlite_copies_a_database_being_written(tmp_path):
    env = site_env(tmp_path / "data")
    cli("migrate", "--no-input", env=env)
    database = tmp_path / "data" / "dailypapers.sqlite3"
    stop = threading.Event()

    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE probe (n INTEGER PRIMARY KEY)")

    def write() -> None:  # a writer keeps committing during the backup, as the site does
        with sqlite3.connect(database, timeout=20) as conn:
            n = 0
            while not stop.is_set():
                n += 1
                conn.execute("INSERT INTO probe (n) VALUES (?)", (n,))
                conn.commit()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        result = subprocess.run([sys.executable, str(REPO / "deploy" / "backup_sqlite.py"), str(database),
                                 str(tmp_path / "backup" / "copy.sqlite3")], capture_output=True, text=True, timeout=60)
    finally:
        stop.set()
        writer.join()
    assert result.returncode == 0, result.stderr
    copied = int(result.stdout.split(": ")[-1].split()[0])
    with sqlite3.connect(tmp_path / "backup" / "copy.sqlite3") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM papers_paper").fetchone()[0] == copied == 0
        rows = conn.execute("SELECT count(*), max(n) FROM probe").fetchone()
        assert rows[0] == rows[1]  # a copy as of one instant: every row up to the last one, no gap
    assert not (tmp_path / "backup" / "copy.sqlite3.partial").exists()
    missing = subprocess.run([sys.executable, str(REPO / "deploy" / "backup_sqlite.py"), str(tmp_path / "nope"),
                              str(tmp_path / "x")], capture_output=True, text=True)
    assert missing.returncode == 1 and "no such database" in missing.stderr and "Traceback" not in missing.stderr


def test_gunicorn_accepts_the_shipped_config(tmp_path):
    env = site_env(tmp_path / "data")
    result = subprocess.run([str(REPO / ".venv" / "bin" / "gunicorn") if (REPO / ".venv").exists() else "gunicorn",
                             "--check-config", "--config", str(REPO / "deploy" / "gunicorn.conf.py"),
                             "dailypapers.wsgi:application"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
