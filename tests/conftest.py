import socket
from datetime import date, datetime, timezone

import pytest
from django.core.cache import cache, caches

from dailypapers.papers.records import DailyRecord, OrganizationRecord, PaperRecord
from dailypapers.papers.services import upsert_papers


def pytest_report_header(config):
    from django.conf import settings

    return f"database: {settings.DATABASES['default']['ENGINE']}, search backend: {settings.SEARCH_BACKEND}"


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path, request):
    """Each test gets its own search index files (or empty search tables) and an empty cache."""
    settings.DATA_DIR = tmp_path
    for each in (cache, caches["local"]):
        each.clear()
    if settings.SEARCH_BACKEND == "postgres" and ("db" in request.fixturenames or request.node.get_closest_marker("django_db")):
        _empty_search_tables(request)
    yield
    for each in (cache, caches["local"]):
        each.clear()


def _empty_search_tables(request) -> None:
    # The postgres backend's tables are not Django models, so a transactional test's flush leaves them
    # as they were: empty them at the start of every database test (inside its transaction, if it has one).
    request.getfixturevalue("_django_db_helper")
    from django.db import connection

    from dailypapers.search.backends.postgres import PREFIX

    from dailypapers.search import backends

    with connection.cursor() as cursor:
        for table in ("document", "word", "state", "vector", "posting"):
            cursor.execute(f"DELETE FROM {PREFIX}{table}")
    for backend in backends._instances.values():  # what a process remembers of the tables (rolled back since)
        if hasattr(backend, "_hnsw"):
            backend._cached = None
            backend._hnsw.clear()


def local_backend_only(reason: str):
    """A test of the local backend's own files (generations, memory maps): skipped with the postgres backend."""
    from django.conf import settings

    return pytest.mark.skipif(settings.SEARCH_BACKEND != "local", reason=f"local search backend only: {reason}")


def postgres_backend_only(reason: str):
    from django.conf import settings

    return pytest.mark.skipif(settings.SEARCH_BACKEND != "postgres", reason=f"postgres search backend only: {reason}")


def _at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=timezone.utc)


def make_paper(arxiv_id: str, *, day: str | None, upvotes: int, hour: int = 12, **fields) -> PaperRecord:
    return PaperRecord(
        arxiv_id=arxiv_id,
        title=fields.pop("title", f"Paper {arxiv_id}"),
        abstract=fields.pop("abstract", f"Abstract of {arxiv_id} about attention and $x^2$ math."),
        authors=fields.pop("authors", ["Ada Lovelace", "Alan Turing"]),
        categories=fields.pop("categories", ["cs.CL", "cs.LG"]),
        published_at=fields.pop("published_at", _at("2026-03-10")),
        upvotes=upvotes,
        daily=DailyRecord(day=date.fromisoformat(day), submitted_at=_at(day, hour), submitter_name="akhaliq") if day else None,
        **fields,
    )


def load_three_days() -> None:
    """Lists on Fri 2026-03-13, Mon 2026-03-16 and Tue 2026-03-17 (a weekend gap between)."""
    upsert_papers(records=[
        make_paper("2603.00001", day="2026-03-13", upvotes=5),
        make_paper("2603.00002", day="2026-03-16", upvotes=40, hour=9, title="Top paper with $\\alpha$ math",
                   organization=OrganizationRecord(slug="acme-ai", name="ACME AI"),
                   github_repo="https://github.com/acme/top", github_stars=1234),
        make_paper("2603.00003", day="2026-03-16", upvotes=12, hour=8),
        make_paper("2603.00004", day="2026-03-16", upvotes=12, hour=10),
        make_paper("2603.00005", day="2026-03-17", upvotes=3),
        make_paper("hep-th/9901001", day=None, upvotes=0, title="An old-style paper"),
    ])


@pytest.fixture
def three_days(db):
    load_three_days()


class _Inbox:
    """What a real SMTP server on loopback (aiosmtpd) received, parsed with the email package."""

    def __init__(self):
        self.messages = []
        self.refuse: dict[str, str] = {}  # address -> SMTP reply to RCPT TO, e.g. "550 5.1.1 No such user"
        self.before_accepting = None  # called with the message count before each DATA is accepted

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        import email
        from email import policy

        if self.before_accepting is not None and (reply := self.before_accepting(len(self.messages))):
            return reply
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((envelope.rcpt_tos, message))
        return "250 OK"

    def to(self, address: str) -> list:
        return [m for rcpt, m in self.messages if address in rcpt]


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
