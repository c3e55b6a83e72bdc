"""Faults, each with nothing lost (README, "From one machine to several"): a service the site needs
that is down answers a 503 page at once, never a 500 or a hang."""

import json
import os
import signal
import time
from collections import Counter

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import path
from redis.exceptions import ConnectionError as RedisConnectionError

from .live import Load, Process, cli, serve_nodes, shell, site_env, wait_until

# bench/faults.py runs these with longer load windows and collects what each one measured.
SCALE = float(os.environ.get("DAILYPAPERS_FAULTS_SCALE", "1"))


def record(fault: str, **numbers: float) -> None:
    numbers = {k: round(v, 3) if isinstance(v, float) else v for k, v in numbers.items()}
    print(f"{fault}: {numbers}")
    if path := os.environ.get("DAILYPAPERS_FAULTS_RESULTS"):
        with open(path, "a") as out:
            out.write(json.dumps({"fault": fault, **numbers}) + "\n")


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

@pytest.mark.processes
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
    # (papers only: a search's query embedded by a job is logged too)
    per_text = Counter(t for line in log.read_text().splitlines() if (t := line.split("\t")[1]).startswith("Paper "))
    assert len(per_text) == 200
    assert sum(n - 1 for n in per_text.values()) <= 8  # at most the batch in hand when killed was redone
    record("worker killed mid-embedding", finished_after_kill_s=recovered, papers=200,
           embedded_twice=sum(n - 1 for n in per_text.values()))


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


@pytest.mark.processes
def test_a_worker_killed_mid_digest_nobody_is_mailed_twice_and_nobody_skipped(postgres_url, smtp, settings, tmp_path):
    env = site_env(tmp_path / "data", DATABASE_URL=postgres_url, EMAIL_HOST="127.0.0.1",
                   EMAIL_PORT=str(settings.EMAIL_PORT))
    cli("migrate", "--no-input", env=env)
    shell(DIGEST_SETUP, env=env)
    first = Process("worker", "--no-periodic", "--workers", "1", env=env, log=tmp_path / "worker1.log")
    smtp.kill_the_sender_at_the_fourth_mail(pid=first.pid)
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
    mailed = Counter(r[0] for r, _ in smtp.messages)
    record("worker killed mid-digest", finished_after_kill_s=recovered, subscribers=8,
           mailed_twice=sum(n - 1 for n in mailed.values()), skipped=8 - len(mailed))


# --- web nodes under load ---------------------------------------------------------------------------------

SITE_SETUP = """
from django.contrib.auth import get_user_model
from django.utils import timezone
from dailypapers.api.services import create_token
from dailypapers.papers.records import DailyRecord, PaperRecord
from dailypapers.papers.services import upsert_papers

day = timezone.now().date()
upsert_papers(records=[PaperRecord(
    arxiv_id=f"2612.{i:05d}", title=f"Fault paper {i}", abstract="About failing well.", authors=["Ada Lovelace"],
    upvotes=i, daily=DailyRecord(day=day, submitted_at=timezone.now(), submitter_name="ak")) for i in range(1, 6)])
user = get_user_model().objects.create_user("reader", email="reader@example.org", password="a-long-pass-phrase-9")
print("TOKEN", create_token(user=user, name="fault test")[1])
"""


def _setup(env: dict) -> str:
    cli("migrate", "--no-input", env=env)
    return shell(SITE_SETUP, env=env).split("TOKEN ")[1].strip()


def _warm_up(request, *, count: int) -> None:
    """Every kind of request a few times on every web worker first: their first requests load the site."""
    from .live import get

    for n in range(count):
        _, url, method, headers = request(n)
        get(url, method=method, headers=headers, timeout=30)


def _errors(records, *, ok=(200,)) -> list:
    return [r for r in records if r[3] not in ok]


@pytest.mark.processes
def test_a_web_worker_killed_under_load_is_replaced_and_the_other_node_never_fails(postgres_url, redis_url, tmp_path):
    def env(node: str) -> dict:
        return site_env(tmp_path / node, DATABASE_URL=postgres_url, CACHE_URL=f"{redis_url}/1")

    _setup(env("a"))
    nodes = serve_nodes("ab", env_for=env, logs=tmp_path, workers=2)
    try:
        paths = ["/papers", "/papers/2612.00001", "/papers/2612.00002", "/api/v1/papers/2612.00003"]

        def request(n: int):
            node = "ab"[n % 2]
            return node, nodes[node].url + paths[(n // 2) % len(paths)], "GET", {}

        before = nodes["a"].web_workers()
        assert len(before) == 2
        _warm_up(request, count=16)
        load = Load(request, threads=6).start()
        time.sleep(3 * SCALE)
        killed_at = load.now()
        os.kill(before[0], signal.SIGKILL)
        replaced = wait_until(lambda: [p for p in nodes["a"].web_workers() if p not in before], timeout=30,
                              what="gunicorn starts a new web worker")
        replaced_at = load.now()
        time.sleep(2 * SCALE)
        records = load.stop()
    finally:
        for node in nodes.values():
            node.stop()
    on_b = [r for r in records if r[0] == "b"]
    on_a = [r for r in records if r[0] == "a"]
    assert len(on_b) > 10 and _errors(on_b) == []  # the other node: every request answered
    assert len(_errors(on_a)) <= 1  # at most the one request the killed worker had in hand
    assert [r for r in on_a if r[1] > replaced_at and r[3] != 200] == []
    assert len(replaced) == 1
    record("web worker killed under load", replaced_after_s=replaced_at - killed_at, node_a_requests=len(on_a),
           node_a_failed=len(_errors(on_a)), node_b_requests=len(on_b), node_b_failed=len(_errors(on_b)))


@pytest.mark.processes
def test_postgresql_restarted_under_load_answers_503_at_once_and_recovers_within_seconds(own_postgres, tmp_path):
    url = own_postgres.create_database("dailypapers")
    env = site_env(tmp_path / "node", DATABASE_URL=url, DAILYPAPERS_DB_CONNECT_TIMEOUT="2",
                   DAILYPAPERS_EMBEDDER="tests.embedders.Recording")
    token = _setup(env)
    node = serve_nodes(["node"], env_for=lambda _: env, logs=tmp_path, workers=2)["node"]
    try:
        def request(n: int):
            if n % 2:  # an API read with a token: the database, every time
                return "api", f"{node.url}/api/v1/papers/2612.00001", "GET", {"Authorization": f"Bearer {token}"}
            # a paper page no cache holds (a new, unknown id each time: 404 while the database is up)
            return "page", f"{node.url}/papers/2611.{n:05d}", "GET", {}

        _warm_up(request, count=8)
        load = Load(request, threads=4).start()
        time.sleep(2 * SCALE)
        own_postgres.stop(mode="fast")  # closes every connection, as a restart does
        down_at = load.now()
        time.sleep(0.5)
        status, headers, body = _fetch(f"{node.url}/papers/2611.99999")
        assert status == 503 and headers["Retry-After"] == "5" and "503 · Temporarily unavailable" in body
        time.sleep(2.5 * SCALE)
        own_postgres.start()
        up_at = load.now()
        time.sleep(5 * SCALE)
        records = load.stop()
    finally:
        node.stop()
    expected = {"api": 200, "page": 404}
    assert [r for r in records if r[3] not in (expected[r[0]], 503)] == []  # never a 500, never a hang (0)
    during = [r for r in records if down_at + 0.2 < r[1] < up_at - 0.2]
    assert during and {r[3] for r in during} == {503}
    # Failed fast: connect_timeout is 2 s and a refused connection fails at once (the margin is for a busy machine).
    assert max(r[2] for r in during) < 5
    recovered = {kind: min((r[1] + r[2] for r in records if r[0] == kind and r[1] > up_at and r[3] == ok),
                           default=None) for kind, ok in expected.items()}
    assert all(at is not None and at - up_at < 5 for at in recovered.values()), recovered
    assert all(r[3] == expected[r[0]] for r in records if r[1] > max(recovered.values()))  # and stays so
    record("PostgreSQL restarted under load", down_s=up_at - down_at, requests_while_down=len(during),
           answered_503_while_down=len(during), slowest_while_down_ms=max(r[2] for r in during) * 1000,
           serving_again_after_s=max(recovered.values()) - up_at, requests=len(records))


def _fetch(url: str) -> tuple[int, dict, str]:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


@pytest.mark.processes
def test_redis_restarted_under_load_the_site_keeps_serving_and_jobs_resume(postgres_url, redis_server, tmp_path):
    def env(node: str) -> dict:
        return site_env(tmp_path / node, DATABASE_URL=postgres_url, CACHE_URL=f"{redis_server.url}/1",
                        DAILYPAPERS_QUEUE_URL=f"{redis_server.url}/2")

    _setup(env("a"))
    nodes = serve_nodes("ab", env_for=env, logs=tmp_path, workers=2)
    worker = Process("worker", "--no-periodic", "--workers", "1", env=env("w"), log=tmp_path / "worker.log")
    try:
        worker.wait_for("dailypapers worker:")
        paths = ["/papers", "/papers/2612.00001", "/papers/2612.00002", "/papers/trending"]

        def request(n: int):
            node = "ab"[n % 2]
            return node, nodes[node].url + paths[(n // 2) % len(paths)], "GET", {}

        _warm_up(request, count=16)
        load = Load(request, threads=4).start()
        time.sleep(2 * SCALE)
        redis_server.stop()
        down_at = load.now()
        time.sleep(3 * SCALE)
        redis_server.start()  # the same port, empty (no persistence): every cached page and queued job gone
        up_at = load.now()
        time.sleep(3 * SCALE)
        records = load.stop()
        enqueue = "from dailypapers.ops.tasks import ping; import time; ping(time.time())"
        shell(enqueue, env=env("b"))  # a job enqueued after the restart runs: the worker reconnected
        worker.wait_for("ops.ping: ", count=2, timeout=60)  # "Executing ..." and "... executed in"
    finally:
        for process in (*nodes.values(), worker):
            process.stop()
    during = [r for r in records if down_at < r[1] < up_at]
    assert len(during) > 20 and _errors(records) == []  # every request answered, with Redis gone or not
    assert max(r[2] for r in during) < 8  # no request waited on Redis for long (the client gives up at 10 s)
    record("Redis restarted under load", down_s=up_at - down_at, requests_while_down=len(during),
           failed=len(_errors(records)), slowest_while_down_ms=max(r[2] for r in during) * 1000, requests=len(records))


@pytest.mark.django_db
def test_the_ledger_puts_back_a_job_once_when_its_process_exited_or_its_machine_went_silent():
    import subprocess
    import sys
    from datetime import timedelta

    from django.utils import timezone

    from dailypapers.ops import services
    from dailypapers.ops.models import RunningJob, WorkerBeat
    from dailypapers.ops.tasks import ping
    from dailypapers.queue import huey

    exited = subprocess.Popen([sys.executable, "-c", "pass"])
    exited.wait()

    def running(task_id: str, *, host: str, pid: int) -> None:
        RunningJob.objects.create(task_id=task_id, name="ops.ping", message=huey().serialize_task(ping.s(0.0)),
                                  worker=f"{host}:{pid}", host=host, pid=pid, started_at=timezone.now())

    running("here-alive", host=services.HOST, pid=os.getpid())
    running("here-exited", host=services.HOST, pid=exited.pid)
    running("there-beating", host="elsewhere", pid=1)
    running("there-silent", host="elsewhere", pid=2)
    WorkerBeat.objects.create(worker="elsewhere:1", beat_at=timezone.now())
    silent_since = timezone.now() - timedelta(seconds=services.LEASE_SECONDS + 1)
    WorkerBeat.objects.create(worker="elsewhere:2", beat_at=silent_since)

    assert services.requeue_abandoned() == ["ops.ping", "ops.ping"]
    assert sorted(RunningJob.objects.values_list("task_id", flat=True)) == ["here-alive", "there-beating"]
    assert services.requeue_abandoned() == []  # put back once
