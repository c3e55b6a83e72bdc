"""Helpers the test modules share: data builders, search shortcuts, users, the CLI and the browser.
Fixtures live in conftest.py; test modules import from here, never from one another."""

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime, timezone

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.test import Client

from dailypapers.papers.records import DailyRecord, OrganizationRecord, PaperRecord
from dailypapers.papers.services import upsert_papers
from dailypapers.search import selectors, services
from dailypapers.search.keyword import Filters

User = get_user_model()

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
        daily=DailyRecord(day=date.fromisoformat(day), submitted_at=_at(day, hour), submitter_name="akhaliq")
        if day
        else None,
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


# --- search: a small corpus, loaded into the real indexes with the real embedder ------------------------------

PAPERS = [
    ("2601.00001", "Attention Is All You Need for Machine Translation",
     "We propose the Transformer, a network architecture based solely on attention mechanisms for translating "
     "sentences.",
     ["Ashish Vaswani", "Noam Shazeer"], ["cs.CL", "cs.LG"], "2026-01-05", 50, "google"),
    ("2601.00002", "Deep Residual Learning for Image Recognition",
     "Residual networks ease the training of very deep convolutional networks for classifying photographs of objects.",
     ["Kaiming He"], ["cs.CV"], "2026-01-10", 30, None),
    ("2601.00003", "Denoising Diffusion Probabilistic Models",
     "High quality image synthesis using diffusion probabilistic models, a class of latent variable models.",
     ["Jonathan Ho"], ["cs.LG"], "2026-01-15", 80, None),
    ("2601.00004", "Proximal Policy Optimization Algorithms",
     "A family of policy gradient methods for reinforcement learning that alternate between sampling and optimizing.",
     ["John Schulman"], ["cs.LG"], "2026-01-20", 10, None),
    ("2601.00005", "Canine Breed Identification from Pictures",
     "We classify dog breeds in pet photos with a convolutional network trained on labelled puppy images.",
     ["Ada Lovelace"], ["cs.CV"], "2026-01-25", 5, None),
    ("2601.00006", "Retrieval-Augmented Generation for Knowledge-Intensive Tasks",
     "Language models that retrieve documents from a dense index before generating answers to open-domain questions.",
     ["Patrick Lewis"], ["cs.CL"], "2026-02-01", 40, "meta"),
]


def load(records: list[PaperRecord], *, embed: bool = True) -> None:
    """Upsert the records, rebuild the keyword index and (unless told not to) embed them."""
    upsert_papers(records=records)
    services.index_keywords(rebuild=True)
    if embed:
        services.embed_pending()


def load_papers(*, embed: bool = True):
    records = []
    for arxiv_id, title, abstract, authors, cats, published, upvotes, org in PAPERS:
        at = datetime.fromisoformat(published).replace(tzinfo=timezone.utc)
        records.append(PaperRecord(
            arxiv_id=arxiv_id, title=title, abstract=abstract, authors=authors, categories=cats,
            published_at=at, upvotes=upvotes, doi=f"10.1234/dp.{arxiv_id}",
            organization=OrganizationRecord(slug=org, name=org.title()) if org else None,
            daily=DailyRecord(day=date.fromisoformat(published), submitted_at=at) if upvotes >= 30 else None,
        ))
    load(records, embed=embed)


def ids(results) -> list[str]:
    return [c.paper.arxiv_id for c in results.cards]


def search(query: str, **filters) -> selectors.SearchResults:
    return selectors.search_papers(query=query, filters=Filters(**filters))


# --- users ------------------------------------------------------------------------------------------------------

def make_user(username="ada", *, verified=True, staff=False, password="pw-long-enough-1") -> User:
    user = User.objects.create_user(username=username, email=f"{username}@example.org", password=password,
                                    is_staff=staff, is_superuser=staff)
    EmailAddress.objects.create(user=user, email=user.email, verified=verified, primary=True)
    return user


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- the command line ---------------------------------------------------------------------------------------------

def database_url() -> str:
    """The test database as a DATABASE_URL, for a `dailypapers` process of the test's own."""
    from django.db import connection

    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    return (
        f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"
    )


def run_cli(*args: str, data_dir, **env) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    environ.update(DAILYPAPERS_DATA_DIR=str(data_dir), **env)
    return subprocess.run(
        [sys.executable, "-m", "dailypapers.cli", *args], env=environ, capture_output=True, text=True, timeout=120
    )


# --- the browser --------------------------------------------------------------------------------------------------

CHROMIUM = os.environ.get("DAILYPAPERS_CHROMIUM", "/usr/bin/chromium")

# `pytestmark = BROWSER_MARKS` in each browser test module: marked, live-server ready, skipped without chromium.
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM), reason=f"no chromium at {CHROMIUM}"
    ),
]


def launch_chromium(playwright):
    return playwright.chromium.launch(
        executable_path=CHROMIUM, args=["--no-sandbox", "--disable-background-networking"]
    )


BROWSER_PASSWORD = "correct horse battery"  # the browser tests' users sign in with it


def sign_in(page, base_url: str, username: str, password: str = BROWSER_PASSWORD) -> None:
    """Sign in through the site's login form, as a visitor does; it lands on the daily list."""
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_login", username)
    page.fill("#id_password", password)
    page.click("form[action*='login'] button[type=submit]")
    page.wait_for_url("**/papers")


@contextlib.contextmanager
def signed_in_page(base_url: str, username: str, *, password: str = BROWSER_PASSWORD) -> Iterator:
    """A page in Chromium signed in as `username` (sign_in); the test fails if the page's console
    reported a Content Security Policy violation meanwhile."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page()
        violations: list[str] = []
        page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        sign_in(page, base_url, username, password)
        yield page
        browser.close()
    assert violations == []


def local_backend_only(reason: str):
    """A test of the local backend's own files (generations, memory maps): skipped with the postgres backend."""
    from django.conf import settings

    return pytest.mark.skipif(settings.SEARCH_BACKEND != "local", reason=f"local search backend only: {reason}")


def postgres_backend_only(reason: str):
    from django.conf import settings

    return pytest.mark.skipif(settings.SEARCH_BACKEND != "postgres", reason=f"postgres search backend only: {reason}")
