"""Real queue workers in their own processes: `serve` restarts its worker, a worker killed in the
middle of the digest job and the job run again sends nobody twice, and two workers on PostgreSQL
split the embedding work without doing any paper twice."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from django.utils import timezone

from dailypapers.digests import selection as digests
from dailypapers.digests.models import DigestDelivery, Subscription
from dailypapers.papers.services import upsert_papers

from .helpers import database_url, make_paper
from .live import REPO, Process, cli, free_port, get, shell, site_env, wait_http


def test_serve_restarts_its_worker_when_it_dies_and_says_so(tmp_path):
    env = site_env(tmp_path / "data")
    cli("migrate", "--no-input", env=env)
    port = free_port()
    serve = Process("serve", "--port", str(port), "--workers", "1", env=env, log=tmp_path / "serve.log")
    try:
        first = int(
            serve.wait_for("background worker started (pid ").split("background worker started (pid ")[1].split(")")[0]
        )
        serve.wait_for("dailypapers worker: 2 threads")
        wait_http(f"http://127.0.0.1:{port}/healthz")
        os.kill(first, signal.SIGKILL)
        text = serve.wait_for("background worker started (pid ", count=2, timeout=30)
        assert f"background worker (pid {first}) exited with code" in text and "restarting it in 1 s" in text
        second = int(text.split("background worker started (pid ")[2].split(")")[0])
        assert second != first
        serve.wait_for("dailypapers worker: 2 threads", count=2)
        os.kill(second, 0)  # alive
        status, body = get(f"http://127.0.0.1:{port}/healthz")
        assert status == 200 and '"status": "ok"' in body
    finally:
        stopping = time.monotonic()
        serve.stop()
    assert serve.process.returncode == 0 and time.monotonic() - stopping < 20  # no graceful-timeout wait
    with pytest.raises(ProcessLookupError):  # serve stopped its worker with it
        for _ in range(50):
            os.kill(second, 0)
            time.sleep(0.1)


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_digest_and_the_job_run_again_sends_nobody_twice(smtp, settings):
    period = digests.closed_periods(now=timezone.now())[0]  # what the periodic job sends now
    upsert_papers(records=[make_paper(f"2612.0000{i}", day=period.start.isoformat(), upvotes=i) for i in range(1, 4)])
    addresses = [f"reader{i}@example.org" for i in range(8)]
    for address in addresses:
        Subscription.objects.create(email=address, frequency="daily", confirmed_at=timezone.now())
    env = site_env(
        settings.DATA_DIR, DATABASE_URL=database_url(), EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(settings.EMAIL_PORT)
    )
    enqueue = "from dailypapers.digests.tasks import send_due; send_due()"

    worker = Process("worker", "--no-periodic", "--workers", "1", env=env, log=settings.DATA_DIR / "worker1.log")
    smtp.kill_the_sender_at_the_fourth_mail(pid=worker.pid)
    try:
        shell(enqueue, env=env)
        worker.process.wait(timeout=60)
    finally:
        worker.stop()
    assert worker.process.returncode == -signal.SIGKILL
    assert len(smtp.messages) == 3 and DigestDelivery.objects.filter(status="sent").count() == 3

    # The job runs again (the periodic schedule's next tick, enqueued here at once).
    smtp.before_accepting = None
    again = Process("worker", "--no-periodic", "--workers", "2", env=env, log=settings.DATA_DIR / "worker2.log")
    try:
        shell(enqueue + "; send_due()", env=env)  # twice: the second run stands aside or finds all sent
        deadline = time.monotonic() + 60
        while DigestDelivery.objects.filter(status="sent").count() < 8:
            assert time.monotonic() < deadline, again.text()[-3000:]
            time.sleep(0.2)
        again.wait_for("digests.send_due", count=4)  # both runs finished ("Executing" and "executed" each)
        time.sleep(1)
    finally:
        again.stop()
    assert sorted(r[0] for r, _ in smtp.messages) == sorted(addresses)  # each exactly once


def test_two_workers_on_postgresql_split_the_embedding_and_embed_no_paper_twice(postgres_url, tmp_path):
    log = tmp_path / "embedded.tsv"
    env = site_env(
        tmp_path / "data",
        DATABASE_URL=postgres_url,
        DAILYPAPERS_EMBEDDER="tests.embedders.Recording",
        DAILYPAPERS_TEST_EMBED_LOG=str(log),
    )
    cli("migrate", "--no-input", env=env)
    shell(
        "from dailypapers.papers.records import PaperRecord; from dailypapers.papers.services import upsert_papers; "
        "upsert_papers(records=[PaperRecord(arxiv_id=f'2612.{i:05d}', title=f'Paper {i}', abstract='About graphs.', "
        "authors=['Ada Lovelace']) for i in range(300)])",
        env=env,
    )
    run = (
        "from dailypapers.search.tasks import embed_claimed; import sys; "
        "print('embedded', embed_claimed(batch_size=8), file=sys.stderr)"
    )
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "dailypapers.cli", "shell", "--no-imports", "-c", run],
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=120) for w in workers]
    assert all(w.returncode == 0 for w in workers), outputs
    counts = [int(err.split("embedded ")[-1].split()[0]) for _, err in outputs]
    lines = [line.split("\t") for line in log.read_text().splitlines()]
    per_text = Counter(text for _, text in lines)
    assert len(per_text) == 300 and max(per_text.values()) == 1  # every paper, none twice
    per_process = Counter(pid for pid, _ in lines)
    assert len(per_process) == 2 and min(per_process.values()) >= 30, per_process  # both did a share
    assert sum(counts) == 300
    stored = shell("from dailypapers.search.models import PaperVector; print(PaperVector.objects.count())", env=env)
    assert stored.strip() == "300"
