"""Faults, each with nothing lost (README, "From one machine to several"): a service the site needs
that is down answers a 503 page at once, never a 500 or a hang."""

import os
import signal
import time
from collections import Counter

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import path
from redis.exceptions import ConnectionError as RedisConnectionError

from .live import Process, cli, shell, site_env


def _raises(exception: Exception):
    def view(request):
        raise exception

    return view


urlpatterns = [
    path("database-down", _raises(OperationalError('connection to server at "127.0.0.1" failed: Connection refused'))),
    path("api/database-down", _raises(OperationalError("the database system is starting up"))),
    path("cache-down", _raises(RedisConnectionError("Error 111 connecting to 127.0.0.1:6390. Connection refused."))),
    path("bug", _raises(ValueError("a bug"))),
]
handler500 = "dailypapers.views.server_error"


@pytest.fixture
def client(settings):
    settings.ROOT_URLCONF = __name__
    return Client(raise_request_exception=False)


def test_a_database_that_is_down_is_a_503_page_with_retry_after_not_a_500(client):
    response = client.get("/database-down")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    page = response.content.decode()
    assert "503 · Temporarily unavailable" in page and "The database is not reachable right now." in page
    assert "127.0.0.1" not in page and "Connection refused" not in page  # the reason in words, no internals
    response = client.get("/api/database-down")
    assert response.status_code == 503 and response.json() == {
        "error": "The database is not reachable right now. Try again in 5 seconds."}


def test_a_cache_that_is_down_is_a_503_and_a_bug_is_still_a_500(client):
    response = client.get("/cache-down")
    assert response.status_code == 503 and "The cache is not reachable right now." in response.content.decode()
    response = client.get("/bug")
    assert response.status_code == 500 and "Retry-After" not in response
    assert "500 · Server error" in response.content.decode() and "a bug" not in response.content.decode()


# --- a queue worker killed mid-job: the ledger puts the job back, a new worker finishes it --------------

def test_a_worker_killed_mid_embedding_leaves_no_vector_missing_once_a_new_worker_runs(postgres_url, tmp_path):
    log = tmp_path / "embedded.tsv"
    env = site_env(tmp_path / "data", DATABASE_URL=postgres_url, DAILYPAPERS_EMBEDDER="tests.embedders.Recording",
                   DAILYPAPERS_TEST_EMBED_LOG=str(log), DAILYPAPERS_EMBED_BATCH_SIZE="8")
    cli("migrate", "--no-input", env=env)
    shell(
        "from dailypapers.papers.records import PaperRecord; from dailypapers.papers.services import upsert_papers; "
        "upsert_papers(records=[PaperRecord(arxiv_id=f'2612.{i:05d}', title=f'Paper {i}', abstract='About graphs.', "
        "authors=['Ada Lovelace']) for i in range(200)])",
        env=env,
    )
    # No periodic jobs on either worker: only the ledger can bring the killed job back.
    first = Process("worker", "--no-periodic", "--workers", "1", env=env, log=tmp_path / "worker1.log")
    try:
        first.wait_for("dailypapers worker:")
        shell("from dailypapers.search.tasks import after_new_papers; after_new_papers()", env=env)
        deadline = time.monotonic() + 60
        while not log.exists() or len(log.read_text().splitlines()) < 40:  # five batches in
            assert time.monotonic() < deadline, first.text()[-3000:]
            time.sleep(0.05)
        os.kill(first.pid, signal.SIGKILL)
        first.process.wait(timeout=10)
    finally:
        first.stop()
    count = "from dailypapers.search.models import PaperVector; print(PaperVector.objects.count())"
    assert 0 < int(shell(count, env=env)) < 200  # killed mid-way

    killed_at = time.monotonic()
    second = Process("worker", "--no-periodic", "--workers", "1", env=env, log=tmp_path / "worker2.log")
    try:
        second.wait_for(" executed in ", timeout=90)  # put back on the queue, and run to the end
        recovered = time.monotonic() - killed_at
    finally:
        second.stop()
    assert "was running on" in second.text() and "put back on the queue" in second.text()
    assert int(shell(count, env=env)) == 200
    indexed = shell(
        "from dailypapers.search.backends import get_backend; from dailypapers.papers.models import Paper; "
        "keys = set(get_backend().vector_keys().tolist()); "
        "print(len(keys), set(Paper.objects.values_list('pk', flat=True)) == keys)", env=env)
    assert indexed.split() == ["200", "True"]  # no vector missing from this machine's index
    per_text = Counter(line.split("\t")[1] for line in log.read_text().splitlines())
    assert len(per_text) == 200
    assert sum(n - 1 for n in per_text.values()) <= 8  # at most the batch in hand when killed was redone
    print(f"killed mid-embedding: finished by the next worker {recovered:.1f} s after the kill")


DIGEST_SETUP = """
from datetime import timedelta
from django.utils import timezone
from dailypapers.digests.models import Subscription
from dailypapers.digests.selection import closed_periods
from dailypapers.papers.records import DailyRecord, PaperRecord
from dailypapers.papers.services import upsert_papers

day = closed_periods(now=timezone.now())[0].start
upsert_papers(records=[PaperRecord(
    arxiv_id=f"2612.0000{i}", title=f"Digest paper {i}", abstract="About mail.", authors=["Ada Lovelace"],
    upvotes=i, daily=DailyRecord(day=day, submitted_at=timezone.now() - timedelta(days=1), submitter_name="ak"))
    for i in range(1, 4)])
for n in range(8):
    Subscription.objects.create(email=f"reader{n}@example.org", frequency="daily", confirmed_at=timezone.now())
"""


def test_a_worker_killed_mid_digest_nobody_is_mailed_twice_and_nobody_skipped(postgres_url, smtp, settings, tmp_path):
    env = site_env(tmp_path / "data", DATABASE_URL=postgres_url, EMAIL_HOST="127.0.0.1",
                   EMAIL_PORT=str(settings.EMAIL_PORT))
    cli("migrate", "--no-input", env=env)
    shell(DIGEST_SETUP, env=env)
    first = Process("worker", "--no-periodic", "--workers", "1", env=env, log=tmp_path / "worker1.log")

    def kill_on_the_fourth(count: int):
        if count == 3:  # three delivered; the worker dies while handing over the fourth
            os.kill(first.pid, signal.SIGKILL)
            return "451 4.3.0 Sender went away"
        return None

    smtp.before_accepting = kill_on_the_fourth
    try:
        first.wait_for("dailypapers worker:")
        shell("from dailypapers.digests.tasks import send_due; send_due()", env=env)  # enqueued once, ever
        first.process.wait(timeout=60)
    finally:
        first.stop()
    assert first.process.returncode == -signal.SIGKILL and len(smtp.messages) == 3
    smtp.before_accepting = None

    killed_at = time.monotonic()
    second = Process("worker", "--no-periodic", "--workers", "2", env=env, log=tmp_path / "worker2.log")
    try:
        second.wait_for(" executed in ", timeout=60)  # the ledger put the digest job back; it ran to the end
        recovered = time.monotonic() - killed_at
        time.sleep(1)
    finally:
        second.stop()
    assert "digests.send_due" in second.text() and "put back on the queue" in second.text()
    assert sorted(r[0] for r, _ in smtp.messages) == [f"reader{n}@example.org" for n in range(8)]  # once each
    print(f"killed mid-digest: finished by the next worker {recovered:.1f} s after the kill")
