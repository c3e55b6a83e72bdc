"""Several machines, as README's "From one machine to several" sets them up: two web nodes
(`serve --no-background`, separate data directories and ports) and one `dailypapers worker`, on
one PostgreSQL database, with the cache and the queue on Redis (a redis-server of the test's own:
cache on DB 1, queue on DB 2). They behave as one site: a vote on node A shows on node B's next
page, and a digest is sent once however many times its job runs.

Then a SQLite site moves to PostgreSQL with its data (deploy/README.md: dumpdata / loaddata)."""

import json
import re
import time

from .live import Process, cli, get, serve_nodes, shell, site_env

SETUP = """
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.utils import timezone
from allauth.account.models import EmailAddress
from dailypapers.api.services import create_token
from dailypapers.digests.models import Subscription
from dailypapers.digests.selection import closed_periods
from dailypapers.papers.records import DailyRecord, PaperRecord
from dailypapers.papers.services import upsert_papers

day = closed_periods(now=timezone.now())[0].start
upsert_papers(records=[PaperRecord(
    arxiv_id=f"2612.0000{i}", title=f"Scale-out paper {i}", abstract="About many machines.", authors=["Ada Lovelace"],
    upvotes=10 * i, daily=DailyRecord(day=day, submitted_at=timezone.now() - timedelta(days=1), submitter_name="ak"))
    for i in range(1, 4)])
user = get_user_model().objects.create_user("voter", email="voter@example.org", password="a-long-pass-phrase-9")
EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
for n in range(6):
    Subscription.objects.create(email=f"reader{n}@example.org", frequency="daily", confirmed_at=timezone.now())
print("TOKEN", create_token(user=user, name="scale-out test")[1])
"""


def _count(html: str) -> int:
    return int(re.search(r'<span class="count">(\d+)</span>', html).group(1))


def test_two_web_nodes_and_a_worker_on_postgresql_and_redis_are_one_site(postgres_url, redis_url, smtp, tmp_path):
    started = time.monotonic()

    def env(node: str) -> dict:
        return site_env(
            tmp_path / node,
            DATABASE_URL=postgres_url,
            CACHE_URL=f"{redis_url}/1",
            DAILYPAPERS_QUEUE_URL=f"{redis_url}/2",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(smtp_port),
        )

    smtp_port = _smtp_port(smtp)
    cli("migrate", "--no-input", env=env("a"))
    token = shell(SETUP, env=env("a")).split("TOKEN ")[1].strip()
    nodes = serve_nodes("ab", env_for=env, logs=tmp_path)
    worker = Process("worker", "--no-periodic", "--workers", "2", env=env("w"), log=tmp_path / "worker.log")
    try:
        url = {n: node.url for n, node in nodes.items()}
        for n in nodes:
            status, body = get(url[n] + "/healthz")
            checks = json.loads(body)["checks"]
            assert status == 200 and checks["cache"]["detail"] == "FailSoftRedisCache", body
            assert checks["queue"]["detail"].startswith("RedisStorage") and checks["database"]["detail"] == "postgresql"

        # Node B caches the anonymous paper page (its own memory and Redis); a vote on node A...
        status, page = get(url["b"] + "/papers/2612.00002")
        assert status == 200 and _count(page) == 20
        assert _count(get(url["b"] + "/papers/2612.00002")[1]) == 20  # served from the cache
        status, body = get(
            url["a"] + "/api/v1/papers/2612.00002/vote", method="POST", headers={"Authorization": f"Bearer {token}"}
        )
        assert status == 200 and json.loads(body)["upvotes"] == 21, body
        # ...shows on node B's next page, and on node A's: the invalidation is shared through Redis.
        assert _count(get(url["b"] + "/papers/2612.00002")[1]) == 21
        assert _count(get(url["a"] + "/papers/2612.00002")[1]) == 21

        # The digest job, enqueued twice from node B: the worker's two threads may run both at
        # once; each subscriber gets the digest once.
        enqueue = "from dailypapers.digests.tasks import send_due; send_due(); send_due()"
        shell(enqueue, env=env("b"))
        deadline = time.monotonic() + 60
        while len(smtp.messages) < 6:
            assert time.monotonic() < deadline, worker.text()[-3000:]
            time.sleep(0.2)
        worker.wait_for("digests.send_due", count=4)  # both runs over ("Executing ..." and "... executed" each)
        time.sleep(1)
        assert sorted(r[0] for r, _ in smtp.messages) == [f"reader{n}@example.org" for n in range(6)]
        out = cli("status", env=env("b")).stdout
        assert "health             ok" in out and "last day digest    day:" in out
    finally:
        for process in (*nodes.values(), worker):
            process.stop()
    assert time.monotonic() - started < 180


def _smtp_port(inbox) -> int:
    from django.conf import settings

    return settings.EMAIL_PORT


def test_a_sqlite_site_moves_to_postgresql_with_its_data(postgres_url, tmp_path):
    sqlite_env = site_env(tmp_path / "old")
    cli("migrate", "--no-input", env=sqlite_env)
    cli("demo", env=sqlite_env, timeout=300)
    count = (
        "from dailypapers.papers.models import Paper, DailyEntry; from dailypapers.search.models import PaperVector; "
        "print(Paper.objects.count(), DailyEntry.objects.count(), PaperVector.objects.count())"
    )
    # A tenth of the demo keeps this test short (loaddata writes row by row: the whole demo takes
    # minutes on a busy machine); the procedure is the same at any size.
    shell(
        "from dailypapers.papers.models import Paper; "
        "Paper.objects.filter(pk__gt=Paper.objects.order_by('pk').values_list('pk', flat=True)[300]).delete()",
        env=sqlite_env,
    )
    before = shell(count, env=sqlite_env).split()
    assert before[0] == "301" and int(before[1]) > 100 and int(before[2]) == 301
    dump = tmp_path / "site.json.gz"
    # deploy/README.md, "Moving from SQLite to PostgreSQL", step by step.
    cli(
        "dumpdata",
        "--natural-foreign",
        "--natural-primary",
        "--exclude",
        "contenttypes",
        "--exclude",
        "auth.permission",
        "--exclude",
        "admin.logentry",
        "--exclude",
        "sessions",
        "--output",
        str(dump),
        env=sqlite_env,
        timeout=300,
    )
    pg_env = site_env(tmp_path / "new", DATABASE_URL=postgres_url)
    cli("migrate", "--no-input", env=pg_env)
    cli("loaddata", str(dump), env=pg_env, timeout=300)
    assert shell(count, env=pg_env).split() == before
    # The site runs on it: sequences were reset, so new rows get new ids.
    shell(
        "from dailypapers.papers.records import PaperRecord; from dailypapers.papers.services import upsert_papers; "
        "print(upsert_papers(records=[PaperRecord(arxiv_id='2612.99999', title='After the move', abstract='x', "
        "authors=['New Author'])]))",
        env=pg_env,
    )
    cli("index", "--rebuild", "--quiet", env=pg_env, timeout=300)
    assert shell(count, env=pg_env).split()[0] == "302"
