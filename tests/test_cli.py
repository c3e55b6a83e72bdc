"""The `dailypapers` command as a user runs it, and the bundled demo."""

import sqlite3
from io import StringIO

import pytest
from django.core.management import call_command

from dailypapers.papers.models import DailyEntry, Organization, Paper

from .helpers import run_cli


def test_no_secret_key_is_a_clear_error_not_a_default(tmp_path):
    result = run_cli("check", data_dir=tmp_path)
    assert result.returncode != 0
    assert "dailypapers: error: SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_secret_key_file_in_the_data_dir_is_used(tmp_path):
    (tmp_path / "secret_key").write_text("k" * 50)
    result = run_cli("check", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr


def test_sqlite_runs_in_wal_mode(tmp_path):
    result = run_cli("migrate", "--no-input", data_dir=tmp_path, SECRET_KEY="k" * 50)
    assert result.returncode == 0, result.stderr


    with sqlite3.connect(tmp_path / "dailypapers.sqlite3") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.django_db
def test_demo_loads_real_days_once():
    out = StringIO()
    call_command("demo", "--if-empty", stdout=out)
    assert out.getvalue().splitlines() == [
        "demo: 2863 new / 4 updated / 0 unchanged / 0 skipped",
        "demo: 2863 precomputed vectors loaded; search indexes built",
    ]
    assert Paper.objects.count() == 2863
    assert DailyEntry.objects.values("day").distinct().count() == 120
    assert DailyEntry.objects.latest("day").day.isoformat() == "2026-08-21"
    assert Organization.objects.exists()
    assert Paper.objects.exclude(github_repo="").exists()
    out = StringIO()
    call_command("demo", "--if-empty", stdout=out)
    assert "already has papers" in out.getvalue()
    out = StringIO()
    call_command("demo", stdout=out)
    assert out.getvalue().splitlines()[0] == "demo: 0 new / 0 updated / 2867 unchanged / 0 skipped"
