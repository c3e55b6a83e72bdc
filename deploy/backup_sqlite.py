"""A consistent copy of a live SQLite database, with SQLite's online backup API: readers and the
site's writers go on while it runs (WAL mode), and the copy is a database as of one instant.

    python deploy/backup_sqlite.py /var/lib/dailypapers/dailypapers.sqlite3 /backups/dailypapers-$(date +%F).sqlite3

(`sqlite3 SRC ".backup DEST"` does the same, where the sqlite3 shell is installed.) Copying the
file with cp while the site runs can give a torn copy: don't.
"""

import sqlite3
import sys
from pathlib import Path


def backup(source: Path, target: Path) -> int:
    if not source.is_file():
        sys.exit(f"backup_sqlite: no such database: {source}")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30) as src, sqlite3.connect(partial) as dst:
        # 1024 pages a step, so the site's writers get the lock in between.
        src.backup(dst, pages=1024, sleep=0.005)
        check = dst.execute("PRAGMA integrity_check").fetchone()[0]
        papers = dst.execute("SELECT count(*) FROM papers_paper").fetchone()[0]
    if check != "ok":
        partial.unlink()
        sys.exit(f"backup_sqlite: the copy failed its integrity check: {check}")
    partial.rename(target)
    return papers


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: backup_sqlite.py SOURCE.sqlite3 TARGET.sqlite3")
    count = backup(Path(sys.argv[1]), Path(sys.argv[2]))
    print(f"backup_sqlite: {sys.argv[2]}: {count} papers")
