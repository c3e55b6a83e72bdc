"""The task queue in the web process: submissions answered at once and fetched by the queue,
claimed embedding, /healthz, `dailypapers status` and the admin's status page.

Tasks here go through a real huey SQLite queue (the default storage) and are run by hand,
one at a time, where a worker would run them (tests/test_worker.py runs real workers)."""

import json
import re
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from dailypapers.community.models import Comment, PendingSubmission
from dailypapers.papers.models import DailyEntry, Paper
from dailypapers.search import tasks as search_tasks
from dailypapers.search.models import PaperVector

from .helpers import client_for, make_user

pytestmark = pytest.mark.django_db
RECORDED = "1605.08386"  # in tests/fixtures/arxiv_api, "Heat-bath random walks with Markov bases"


@pytest.fixture
def queue(monkeypatch):
    """The site's huey on its real SQLite storage instead of immediate mode: enqueued tasks wait."""
    from huey.contrib import djhuey
    from huey.contrib.djhuey import HUEY

    # A worker closes its stale database connections around each task; here the task runs inside
    # the test's transaction, on the test's connection.
    monkeypatch.setattr(djhuey, "close_old_connections", lambda: None)
    HUEY.immediate = False
    HUEY.flush()
    yield HUEY
    HUEY.flush()
    HUEY.immediate = True


def run_queued(huey) -> list[str]:
    """Run what is waiting, as a worker would; returns the task names run."""
    names = []
    while (task := huey.dequeue()) is not None:
        names.append(task.name)
        huey.execute(task)
    return names


def poll(client: Client, pending: PendingSubmission) -> str:
    response = client.get(f"/papers/submit/{pending.pk}", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


def test_an_unknown_paper_is_fetched_by_the_queue_and_the_page_follows_it(arxiv, queue, settings):
    settings.SUBMIT_MAX_AGE_DAYS = 100_000  # the recorded paper is from 2016
    client = client_for(make_user())
    started = time.monotonic()
    response = client.post("/papers/submit", {"paper": f"https://arxiv.org/abs/{RECORDED}", "comment": "Nice"})
    assert time.monotonic() - started < 3
    pending = PendingSubmission.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/papers/submit/{pending.pk}"
    assert not arxiv.requests  # nothing asked of arXiv inside the request
    page = client.get(response["Location"]).content.decode()
    assert f"Fetching {RECORDED} from arXiv…" in page
    # htmx polls the fragment: a plain attribute trigger, nothing the CSP (no eval, no inline script) forbids.
    assert f'hx-get="/papers/submit/{pending.pk}" hx-trigger="every 1s" hx-swap="outerHTML"' in page
    assert "<script>" not in page
    assert "Fetching" in poll(client, pending)

    assert run_queued(queue)[0] == "community.fetch_submission"
    fragment = poll(client, pending)
    assert "Added" in fragment and "Heat-bath random walks with Markov bases" in fragment
    assert "hx-trigger" not in fragment  # done: the polling stops
    entry = DailyEntry.objects.get(paper__arxiv_id=RECORDED)
    assert entry.submitted_by == pending.user and Comment.objects.get(paper=entry.paper).body == "Nice"
    # The queued index upkeep made the fetched paper searchable and gave it a vector.
    assert PaperVector.objects.filter(paper=entry.paper).exists()
    assert client.get("/papers", {"q": "Heat-bath random walks"}).content.decode().count(f"/papers/{RECORDED}") >= 1


def test_arxiv_unreachable_the_form_answers_at_once_and_the_failure_offers_a_retry(arxiv, queue, settings):
    settings.SUBMIT_MAX_AGE_DAYS = 100_000
    settings.HTTP_RETRIES = 0
    good_url = settings.ARXIV_API_URL
    settings.ARXIV_API_URL = "http://127.0.0.1:9/api/query"  # the discard port: connection refused
    client = client_for(make_user())
    started = time.monotonic()
    response = client.post("/papers/submit", {"paper": RECORDED})
    assert response.status_code == 302 and time.monotonic() - started < 3
    pending = PendingSubmission.objects.get()
    run_queued(queue)
    fragment = poll(client, pending)
    assert f"{RECORDED} could not be submitted: Could not fetch {RECORDED} from arXiv" in fragment
    assert 'role="alert"' in fragment and "Try again" in fragment
    assert f'<input type="hidden" name="paper" value="{RECORDED}">' in fragment
    assert not DailyEntry.objects.exists()

    # arXiv hangs (longer than the client's timeout): the form still answers at once.
    settings.ARXIV_API_URL = good_url
    settings.HTTP_TIMEOUT_SECONDS = 5
    arxiv.hang_next(1, seconds=6)  # a fetch in the request would take 5 s (the client's timeout)
    started = time.monotonic()
    retry = client.post("/papers/submit", {"paper": RECORDED})
    assert retry.status_code == 302 and time.monotonic() - started < 3
    assert not arxiv.requests  # arXiv is only asked by the queued job
    settings.HTTP_TIMEOUT_SECONDS = 1
    run_queued(queue)
    assert "could not be submitted" in poll(client, PendingSubmission.objects.latest("pk"))
    # arXiv is back: "Try again" posts the same form, and this time it is on the list.
    client.post("/papers/submit", {"paper": RECORDED})
    run_queued(queue)
    assert "Added" in poll(client, PendingSubmission.objects.latest("pk"))
    assert DailyEntry.objects.filter(paper__arxiv_id=RECORDED).count() == 1


def test_a_paper_arxiv_does_not_have_and_a_too_old_paper_are_explained(arxiv, queue):
    client = client_for(make_user())
    client.post("/papers/submit", {"paper": "0000.0000"})
    client.post("/papers/submit", {"paper": RECORDED})  # published 2016: fetched, then refused
    run_queued(queue)
    missing, old = PendingSubmission.objects.order_by("pk")
    assert "arXiv has no paper 0000.0000" in poll(client, missing)
    text = poll(client, old)
    assert "only papers from the last 14 days" in text and f'href="/papers/{RECORDED}"' in text
    assert Paper.objects.filter(arxiv_id=RECORDED).exists() and not DailyEntry.objects.exists()


def test_a_submission_page_is_its_submitters_only_and_double_clicks_share_one_fetch(arxiv, queue):
    ada = client_for(make_user("ada"))
    ada.post("/papers/submit", {"paper": RECORDED})
    ada.post("/papers/submit", {"paper": RECORDED})
    assert PendingSubmission.objects.count() == 1 and len(queue) == 1
    pending = PendingSubmission.objects.get()
    assert client_for(make_user("bob")).get(f"/papers/submit/{pending.pk}").status_code == 404
    assert Client().get(f"/papers/submit/{pending.pk}").status_code == 302  # to the login page


def test_a_known_paper_is_still_submitted_in_the_request(queue, settings):
    from django.utils import timezone

    from dailypapers.papers.records import PaperRecord
    from dailypapers.papers.services import upsert_papers

    upsert_papers(records=[PaperRecord(arxiv_id="2611.00001", title="Fresh", abstract="x", authors=["A B"],
                                       published_at=timezone.now())])
    response = client_for(make_user()).post("/papers/submit", {"paper": "2611.00001"})
    assert response.status_code == 302 and response["Location"] == "/papers/2611.00001"
    assert DailyEntry.objects.filter(paper__arxiv_id="2611.00001").exists() and len(queue) == 0


# --- embedding -----------------------------------------------------------------------------------

def _papers(count: int) -> None:
    from dailypapers.papers.records import PaperRecord
    from dailypapers.papers.services import upsert_papers

    upsert_papers(records=[PaperRecord(arxiv_id=f"2612.{i:05d}", title=f"Paper number {i} on graphs",
                                       abstract="We study graphs.", authors=["Ada Lovelace"]) for i in range(count)])


def test_embedding_is_claimed_a_batch_at_a_time_and_a_second_run_on_sqlite_stands_aside(settings):
    from dailypapers.queue import exclusive

    _papers(10)
    if connection.vendor == "sqlite":  # PostgreSQL claims rows instead (tests/test_worker.py: two workers)
        with exclusive("embed") as mine:
            assert mine
            assert search_tasks.embed_new_papers.call_local() == 0  # another run holds the machine's lock
    settings.EMBED_BATCH_SIZE = 4
    assert search_tasks.embed_new_papers.call_local() == 10
    assert PaperVector.objects.count() == 10
    assert search_tasks.embed_new_papers.call_local() == 0  # nothing twice
    # A batch that is done again (a retried job) overwrites the paper's one vector row.
    PaperVector.objects.filter(paper__arxiv_id="2612.00003").update(text_hash="stale")
    assert search_tasks.embed_claimed() == 1 and PaperVector.objects.count() == 10


# --- health and status ---------------------------------------------------------------------------

def test_healthz_reports_each_check():
    response = Client().get("/healthz")
    assert response.status_code == 200 and response["Cache-Control"].startswith("max-age=0")
    body = response.json()
    assert body["status"] == "ok" and set(body["checks"]) == {"database", "cache", "queue"}
    assert all(check["ok"] and check["ms"] >= 0 for check in body["checks"].values())


def test_healthz_is_503_naming_an_unreachable_redis_cache(settings):
    working = settings.CACHES
    settings.CACHES = {**working, "default": {
        "BACKEND": "dailypapers.cache.FailSoftRedisCache", "LOCATION": "redis://127.0.0.1:9/0",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
    try:
        started = time.monotonic()
        response = Client().get("/healthz")
        assert time.monotonic() - started < 5
    finally:
        settings.CACHES = working  # before the fixtures' own teardown clears the cache
    body = response.json()
    assert response.status_code == 503 and body["status"] == "error"
    assert body["checks"]["cache"]["ok"] is False and "Connection" in body["checks"]["cache"]["error"]
    assert body["checks"]["database"]["ok"] and body["checks"]["queue"]["ok"]


def test_healthz_is_503_naming_an_unreachable_redis_queue(monkeypatch):
    from huey import RedisHuey

    from dailypapers.ops import health

    unreachable = RedisHuey("dailypapers", url="redis://127.0.0.1:9/0?socket_connect_timeout=1")
    monkeypatch.setattr(health, "huey", lambda: unreachable)
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["queue"]["ok"] is False and response.json()["checks"]["cache"]["ok"]


def test_status_command_and_the_admin_status_page(queue, settings):
    from dailypapers.digests.tasks import send_due

    _papers(3)
    send_due()  # enqueued, not run
    out = StringIO()
    call_command("status", stdout=out)
    text = out.getvalue()
    for line in ("health             ok", "papers             3", "vectors pending    3",
                 "queue              1 pending, 0 scheduled", "failed jobs        0 failed tries",
                 "last day digest    none sent", "scheduled ingests  none ran yet"):
        assert line in text, text
    run_queued(queue)
    out = StringIO()
    call_command("status", "--json", stdout=out)
    status = json.loads(out.getvalue())
    assert status["queue"] == "0 pending, 0 scheduled" and status["checks"]["queue"]["ok"]

    staff = client_for(make_user("root", staff=True))
    index = staff.get("/admin/").content.decode()
    assert '<a href="/admin/status/" class="section">Site status</a>' in index
    page = staff.get("/admin/status/").content.decode()
    assert "vectors pending</th><td>3" in page and "digests.send_due" in page and "Health: ok" in page
    assert client_for(make_user("reader")).get("/admin/status/").status_code == 302  # staff only


def test_status_shows_the_job_ledger_worker_beats_and_failing_jobs(settings):
    """The ledger as workers write it (ops.services: a row per job started, a beat per worker): status
    says which workers are live and which went silent, what runs where and for how long, whose worker
    is gone, and which jobs failed last."""
    import os
    import subprocess
    import sys
    from datetime import timedelta

    from django.utils import timezone

    from dailypapers.ops import selectors
    from dailypapers.ops.models import JobStat, RunningJob, WorkerBeat

    now = timezone.now()
    exited = subprocess.Popen([sys.executable, "-c", "pass"])
    exited.wait()
    here = f"{selectors.HOST}:{os.getpid()}"
    WorkerBeat.objects.create(worker=here, beat_at=now - timedelta(seconds=3))
    WorkerBeat.objects.create(worker="lost-machine:77", beat_at=now - timedelta(seconds=selectors.LEASE_SECONDS + 90))

    def running(name, *, worker, host, pid, seconds):
        RunningJob.objects.create(task_id=name, name=name, message=b"", worker=worker, host=host, pid=pid,
                                  started_at=now - timedelta(seconds=seconds))

    running("search.update_indexes", worker=here, host=selectors.HOST, pid=os.getpid(), seconds=42)
    running("digests.send_due", worker=here, host=selectors.HOST, pid=exited.pid, seconds=300)
    running("ops.import_hf_daily", worker="lost-machine:77", host="lost-machine", pid=77, seconds=4000)
    JobStat.objects.create(name="ops.harvest_arxiv_oai", runs=3, failures=2, last_ok_at=now - timedelta(hours=2),
                           last_error_at=now - timedelta(minutes=5), last_error="HTTPError: 503")
    JobStat.objects.create(name="digests.send_due", runs=5, failures=1, last_ok_at=now,
                           last_error_at=now - timedelta(hours=1), last_error="SMTP: refused")  # since succeeded

    def status_lines():
        out = StringIO()
        call_command("status", stdout=out)
        return {line.split("  ", 1)[0]: line.split("  ", 1)[1].strip() for line in out.getvalue().splitlines()}

    lines = status_lines()
    # Ages as the command rounds them (a slow machine may take a second or two between the rows and it).
    assert re.fullmatch(rf"{here} live \(beat [3-9] s ago\); lost-machine:77 DEAD \(beat 2 min ago\)",
                        lines["workers"]), lines
    gone = r" \(its worker is gone: put back on the queue at the next beat\)"
    assert re.fullmatch(  # the longest running first
        rf"ops.import_hf_daily on lost-machine:77 for 67 min{gone}; digests.send_due on {here} for 5 min{gone}; "
        rf"search.update_indexes on {here} for 4[2-9] s", lines["running jobs"]), lines
    assert lines["failed jobs"].startswith("3 failed tries; ops.harvest_arxiv_oai failed "), lines
    assert "HTTPError: 503" in lines["failed jobs"] and "SMTP" not in lines["failed jobs"]

    out = StringIO()
    call_command("status", "--json", stdout=out)
    status = json.loads(out.getvalue())
    assert [(w["worker"], w["alive"]) for w in status["worker_beats"]] == [(here, True), ("lost-machine:77", False)]
    assert [(j["name"], j["worker_alive"], j["seconds_running"] // 10) for j in status["running_jobs"]] == [
        ("ops.import_hf_daily", False, 400), ("digests.send_due", False, 30), ("search.update_indexes", True, 4)]
    assert [j["name"] for j in status["failing_jobs"]] == ["ops.harvest_arxiv_oai"]

    page = client_for(make_user("root", staff=True)).get("/admin/status/").content.decode()
    assert f"<td>{here}</td><td>live</td>" in page and "<td>lost-machine:77</td><td>DEAD</td>" in page
    assert "<td>ops.import_hf_daily</td><td>lost-machine:77</td><td>77</td>" in page
    assert page.count("GONE: put back on the queue") == 2
    assert "Failing jobs" in page and "HTTPError: 503" in page

    RunningJob.objects.all().delete()
    WorkerBeat.objects.all().delete()
    lines = status_lines()
    assert lines["workers"] == "none running" and lines["running jobs"] == "none"


def test_status_reads_the_index_lag_of_the_configured_search_backend(settings):
    """Each backend keeps its own keyword mark (search.services): with the postgres backend the status
    reads the postgres one, not the local index's."""
    from datetime import timedelta

    from django.utils import timezone

    from dailypapers.ops import selectors
    from dailypapers.search.models import IndexState

    _papers(2)
    local_mark, postgres_mark = timezone.now() + timedelta(seconds=5), timezone.now() - timedelta(days=1)
    IndexState.objects.create(name="keyword", indexed_until=local_mark)
    IndexState.objects.create(name="postgres-keyword", indexed_until=postgres_mark)
    settings.SEARCH_BACKEND = "local"
    status = selectors.site_status()
    assert status.keyword_indexed_until == local_mark and status.papers_changed_since_index == 0
    settings.SEARCH_BACKEND = "postgres"  # read from the database alone: no connection to the backend made
    status = selectors.site_status()
    assert status.keyword_indexed_until == postgres_mark and status.papers_changed_since_index == 2
    assert status.index_lag_seconds > 86_000


def test_the_api_answers_202_with_a_status_url_for_an_unknown_paper(arxiv, queue, settings):
    from dailypapers.api.services import create_token

    settings.SUBMIT_MAX_AGE_DAYS = 100_000
    user = make_user()
    _, token = create_token(user=user, name="test")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    response = Client().post("/api/v1/submissions", {"arxiv_id": RECORDED}, content_type="application/json", **auth)
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "fetching" and body["paper_id"] is None
    assert body["status_url"] == f"/api/v1/submissions/{body['id']}"
    run_queued(queue)
    done = Client().get(body["status_url"], **auth).json()
    assert done["status"] == "done" and done["paper_id"] == RECORDED and done["error"] == ""
    _, other = create_token(user=make_user("bob"), name="test")
    assert Client().get(body["status_url"], HTTP_AUTHORIZATION=f"Bearer {other}").status_code == 404
