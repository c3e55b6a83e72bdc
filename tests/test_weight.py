"""Page weight (issue 12 item 3): pages are compressed (with BREACH in mind), week and month lists
come in pages of the top N, KaTeX is fetched only by pages with marked maths."""

import gzip
from datetime import date, timedelta

import pytest

from dailypapers.papers.services import upsert_papers

from .helpers import BROWSER_MARKS, launch_chromium, make_paper


def browser_test(test):
    """The browser tests' marks (live server ready, skipped without chromium) on one test."""
    for mark in BROWSER_MARKS:
        test = mark(test)
    return test



def test_pages_are_gzipped_with_a_random_length(client, three_days):
    sizes = set()
    for _ in range(12):
        response = client.get("/papers/date/2026-03-16", HTTP_ACCEPT_ENCODING="gzip, br")
        assert response["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in response["Vary"]
        sizes.add(len(response.content))
        html = gzip.decompress(response.content).decode()
        assert html.count('<article class="card"') == 3
    # Django's GZipMiddleware pads each stream with a random-length name (a BREACH mitigation).
    assert len(sizes) > 1
    plain = client.get("/papers/date/2026-03-16")
    assert not plain.has_header("Content-Encoding") and b"<article" in plain.content


def test_no_store_responses_are_not_compressed(client, three_days):
    # allauth's pages are never_cache (no-store): the login form holds a CSRF token next to the
    # reflected ?next=, so it goes out uncompressed; so would a one-time secret (a new API token).
    response = client.get("/accounts/login/?next=/papers", HTTP_ACCEPT_ENCODING="gzip")
    assert "no-store" in response["Cache-Control"]
    assert not response.has_header("Content-Encoding")
    assert b'name="csrfmiddlewaretoken"' in response.content


@pytest.fixture
def big_month(db, settings):
    settings.LIST_PAGE_SIZE = 50
    first = date(2026, 7, 1)
    upsert_papers(records=[
        make_paper(f"2607.{i:05d}", day=(first + timedelta(days=i % 28)).isoformat(), upvotes=i) for i in range(1, 121)
    ])


def test_month_and_week_lists_come_in_pages(client, big_month):
    response = client.get("/papers/month/2026-07")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('<article class="card"') == 50
    assert "The top 50 of 120 papers, by upvotes" in html
    assert 'data-arxiv-id="2607.00120"' in html  # the most upvoted first
    assert '<a class="more-link" href="?page=2">More: papers 51–100 →</a>' in html

    html = client.get("/papers/month/2026-07?page=3").content.decode()
    assert html.count('<article class="card"') == 20
    assert "Papers 101–120 of 120, by upvotes" in html and 'href="?page=2">← Papers 51–100' in html
    assert "more-link" not in html and 'data-arxiv-id="2607.00001"' in html

    week = client.get("/papers/week/2026-W27")  # Jun 29 – Jul 5: days 1-5 of the month
    assert week.status_code == 200 and week.content.decode().count('<article class="card"') <= 50

    missing = client.get("/papers/month/2026-07?page=4")
    assert missing.status_code == 404 and "There is no page 4: the 120 papers fill 3 pages." in missing.content.decode()
    bad = client.get("/papers/month/2026-07?page=first")
    assert bad.status_code == 400 and "is not a page number" in bad.content.decode()
    # A day's list is not paged.
    assert client.get("/papers/date/2026-07-02").content.decode().count('<article class="card"') == 5


def test_pages_do_not_link_katex_themselves(client, three_days):
    html = client.get("/papers/date/2026-03-16").content.decode()
    assert "katex.min.js" not in html.split("data-katex-js")[0]  # only as site.js's data attribute
    assert 'rel="stylesheet" href="/static/vendor/katex' not in html


@browser_test
def test_katex_is_fetched_only_where_maths_is_marked(live_server, three_days_live):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page()
        fetched = []
        page.on("request", lambda request: fetched.append(request.url))
        for path in ("/accounts/login/", "/digest/subscribe"):
            page.goto(f"{live_server.url}{path}")
            page.wait_for_load_state("networkidle")
        assert fetched and not [url for url in fetched if "katex" in url]
        page.goto(f"{live_server.url}/papers/2603.00002")
        page.wait_for_load_state("networkidle")
        assert [url for url in fetched if url.endswith("katex.min.js")]
        assert page.locator("h1 .katex").count() == 1
        browser.close()



def test_json_and_markdown_are_sent_as_they_are_feeds_compressed(client, three_days):
    api = client.get("/api/daily_papers?date=2026-03-16", HTTP_ACCEPT_ENCODING="gzip")
    assert api.status_code == 200 and not api.has_header("Content-Encoding")
    md = client.get("/papers/2603.00002.md", HTTP_ACCEPT_ENCODING="gzip")
    assert md.status_code == 200 and not md.has_header("Content-Encoding")
    feed = client.get("/feeds/date/2026-03-16.rss", HTTP_ACCEPT_ENCODING="gzip")
    assert feed.status_code == 200 and feed["Content-Encoding"] == "gzip"
