"""RSS 2.0 and Atom feeds, parsed with feedparser, and their autodiscovery links on the pages."""

import re
from datetime import date
from html import unescape

import feedparser
import pytest
from django.core.cache import cache

from dailypapers.papers.models import Author
from dailypapers.papers.records import DailyRecord, OrganizationRecord, PaperRecord
from dailypapers.papers.services import upsert_papers
from dailypapers.search.keyword import Filters
from dailypapers.search.selectors import search_papers

from .helpers import _at, load_papers, load_three_days

pytestmark = pytest.mark.django_db

FORMATS = ["rss", "atom"]
ACME = OrganizationRecord(slug="acme-ai", name="ACME AI")


def load_data() -> None:
    """The three days of conftest, plus two unlisted papers: one by ACME AI, both by Grace Hopper."""
    load_three_days()
    upsert_papers(records=[
        PaperRecord(
            arxiv_id="2603.00010", title="Compilers <for> \"all\" & more",
            abstract="A \x0bcontrol character & <b>markup</b>.",
            authors=["Grace Hopper", "Ada Lovelace"], categories=["cs.PL", "cs.AI"], published_at=_at("2026-03-12"),
            upvotes=2, organization=ACME,
        ),
        PaperRecord(
            arxiv_id="2603.00011", title="Later work", abstract="Abstract eleven.", authors=["Grace Hopper"],
            categories=["cs.PL"], published_at=_at("2026-03-14"), upvotes=0,
        ),
    ])


@pytest.fixture
def data(db):
    load_data()


def parse(client, url: str, fmt: str, *, status: int = 200):
    response = client.get(url)
    assert response.status_code == status, response.content[:500]
    kind = "application/rss+xml" if fmt == "rss" else "application/atom+xml"
    assert response["Content-Type"] == f"{kind}; charset=utf-8"
    feed = feedparser.parse(response.content)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == ("rss20" if fmt == "rss" else "atom10")
    return feed


def entry_ids(feed) -> list[str]:
    return [e.link.removeprefix("http://testserver/papers/") for e in feed.entries]


@pytest.mark.parametrize("fmt", FORMATS)
def test_daily_feed_latest_and_given_day(client, data, fmt):
    latest = parse(client, f"/feeds/daily.{fmt}", fmt)
    assert latest.feed.title == "Daily Papers: Daily papers"
    assert latest.feed.link == "http://testserver/papers"
    assert entry_ids(latest) == ["2603.00005"]

    day = parse(client, f"/feeds/date/2026-03-16.{fmt}", fmt)
    assert day.feed.title == "Daily Papers: Daily papers of Mar 16, 2026"
    assert day.feed.link == "http://testserver/papers/date/2026-03-16"
    assert entry_ids(day) == ["2603.00002", "2603.00003", "2603.00004"]  # upvotes, then first submitted
    top = day.entries[0]
    assert top.title == "Top paper with $\\alpha$ math"
    assert top.link == "http://testserver/papers/2603.00002"
    assert top.id == "http://testserver/papers/2603.00002"
    assert unescape(top.summary) == "Abstract of 2603.00002 about attention and $x^2$ math."
    assert [a.name for a in top.authors] == ["Ada Lovelace", "Alan Turing"]
    assert [t.term for t in top.tags] == ["cs.CL", "cs.LG"]
    # The listing time, not the arXiv date.
    assert tuple(top.published_parsed[:5]) == (2026, 3, 16, 9, 0)

    assert entry_ids(parse(client, f"/feeds/date/2026-03-14.{fmt}", fmt)) == []  # a Saturday: empty, still valid


@pytest.mark.parametrize("fmt", FORMATS)
def test_daily_feed_of_an_empty_site(client, db, fmt):
    feed = parse(client, f"/feeds/daily.{fmt}", fmt)
    assert feed.entries == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_trending_feed(client, data, fmt):
    feed = parse(client, f"/feeds/trending.{fmt}", fmt)
    # upvotes / (hours since listed + 2)^1.5, as of the newest listing (Tue 12:00).
    assert entry_ids(feed) == ["2603.00005", "2603.00002", "2603.00004", "2603.00003", "2603.00001"]
    assert feed.feed.link == "http://testserver/papers/trending"


@pytest.mark.parametrize("fmt", FORMATS)
def test_organization_feed(client, data, fmt):
    feed = parse(client, f"/feeds/organizations/acme-ai.{fmt}", fmt)
    assert feed.feed.title == "Daily Papers: ACME AI"
    assert feed.feed.link == "http://testserver/organizations/acme-ai"
    assert entry_ids(feed) == ["2603.00010", "2603.00002"]  # newest published first
    unlisted = feed.entries[0]
    # Special characters survive; the control character is dropped rather than breaking the XML.
    assert unlisted.title == 'Compilers <for> "all" & more'
    assert unescape(unlisted.summary) == "A control character & <b>markup</b>."  # plain text, not markup
    assert "&lt;b&gt;" in unlisted.summary
    assert tuple(unlisted.published_parsed[:3]) == (2026, 3, 12)  # never listed: the arXiv date
    assert [a.name for a in unlisted.authors] == ["Grace Hopper", "Ada Lovelace"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_author_feed(client, data, fmt):
    grace = Author.objects.get(name="Grace Hopper")
    feed = parse(client, f"/feeds/authors/{grace.pk}.{fmt}", fmt)
    assert feed.feed.title == "Daily Papers: Grace Hopper"
    assert feed.feed.link == f"http://testserver/authors/{grace.pk}"
    assert entry_ids(feed) == ["2603.00011", "2603.00010"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_search_feed(client, db, fmt):
    load_papers()
    feed = parse(client, f"/feeds/search.{fmt}?q=diffusion+image+synthesis", fmt)
    assert feed.feed.title == "Daily Papers: Search: diffusion image synthesis"
    assert feed.feed.link == "http://testserver/papers?q=diffusion+image+synthesis"
    expected = [
        c.paper.arxiv_id for c in search_papers(query="diffusion image synthesis", filters=Filters(), per_page=50).cards
    ]
    assert entry_ids(feed)[0] == "2601.00003" and entry_ids(feed) == expected
    assert entry_ids(parse(client, f"/feeds/search.{fmt}?q=2601.00006", fmt)) == ["2601.00006"]


def test_an_old_style_id_links_to_its_page(client, db):
    upsert_papers(records=[PaperRecord(
        arxiv_id="hep-th/9901001", title="Old", authors=["P. Dirac"], published_at=_at("1999-01-01"), upvotes=0,
        organization=ACME,
    )])
    feed = parse(client, "/feeds/organizations/acme-ai.atom", "atom")
    assert feed.entries[0].link == "http://testserver/papers/hep-th/9901001"
    assert client.get(feed.entries[0].link).status_code == 200


@pytest.mark.parametrize("url, status, words", [
    ("/feeds/search.rss", 400, "needs a query"),
    ("/feeds/search.atom?q=+++", 400, "needs a query"),
    ("/feeds/search.rss?q=" + "x" * 251, 400, "too long"),
    ("/feeds/date/2026-02-30.rss", 400, "is not a date"),
    ("/feeds/date/yesterday.atom", 400, "is not a date"),
    ("/feeds/organizations/nobody.rss", 404, "No organization"),
    ("/feeds/authors/999999.atom", 404, "No author 999999"),
    ("/feeds/authors/99999999999999999999999.rss", 404, "No author"),
    ("/feeds/daily.json", 404, ""),
])
def test_bad_input_is_a_clear_400_or_404(client, data, url, status, words):
    response = client.get(url)
    assert response.status_code == status
    assert words in response.content.decode()


def test_feeds_are_cached_until_content_changes(client, data, django_assert_num_queries):
    first = client.get("/feeds/date/2026-03-16.rss")
    with django_assert_num_queries(0):
        again = client.get("/feeds/date/2026-03-16.rss")
    assert again.content == first.content and again["Last-Modified"] == first["Last-Modified"]
    upsert_papers(records=[PaperRecord(
        arxiv_id="2603.00030", title="New", upvotes=99,
        daily=DailyRecord(day=date(2026, 3, 16), submitted_at=_at("2026-03-16", 13)),
    )])
    assert entry_ids(feedparser.parse(client.get("/feeds/date/2026-03-16.rss").content))[0] == "2603.00030"


# --- Autodiscovery ------------------------------------------------------------


def alternates(html: str) -> list[tuple[str, str, str]]:
    links = re.findall(r'<link rel="alternate" type="([^"]+)" title="([^"]*)" href="([^"]+)">', html)
    return [(kind, unescape(title), unescape(href)) for kind, title, href in links]


def feed_links(client, url: str) -> list[tuple[str, str]]:
    response = client.get(url)
    assert response.status_code == 200
    return [(kind, href) for kind, _, href in alternates(response.content.decode())]


def both(path: str) -> list[tuple[str, str]]:
    base, _, query = path.partition("?")
    suffix = f"?{query}" if query else ""
    return [("application/rss+xml", f"{base}.rss{suffix}"), ("application/atom+xml", f"{base}.atom{suffix}")]


def test_autodiscovery_links_on_the_matching_pages(client, data):
    grace = Author.objects.get(name="Grace Hopper")
    assert feed_links(client, "/papers") == both("/feeds/daily")
    assert feed_links(client, "/papers/date/2026-03-16") == both("/feeds/date/2026-03-16")
    assert feed_links(client, "/papers/trending") == both("/feeds/trending")
    assert feed_links(client, "/organizations/acme-ai") == both("/feeds/organizations/acme-ai")
    assert feed_links(client, f"/authors/{grace.pk}") == both(f"/feeds/authors/{grace.pk}")
    # A page without a feed of its own.
    assert feed_links(client, "/papers/2603.00002") == []
    # Every advertised feed is a valid feed.
    pages = ["/papers", "/papers/date/2026-03-16", "/papers/trending", "/organizations/acme-ai", f"/authors/{grace.pk}"]
    for url in pages:
        for kind, href in feed_links(client, url):
            parse(client, href, "rss" if kind == "application/rss+xml" else "atom")


def test_autodiscovery_titles(client, data):
    titles = [title for _, title, _ in alternates(client.get("/papers/trending").content.decode())]
    assert titles == ["Trending papers (RSS)", "Trending papers (Atom)"]


def test_autodiscovery_on_a_search(client, db):
    load_papers(embed=False)
    cache.clear()
    links = feed_links(client, "/papers?q=diffusion+%26+more")
    assert links == both("/feeds/search?q=diffusion+%26+more")
    response = client.get(links[0][1])
    assert response.status_code == 200 and feedparser.parse(response.content).bozo == 0
