"""A real browser (Debian's chromium, driven by Playwright) against a live test server."""

import os
import shutil

import pytest

from .conftest import load_three_days

CHROMIUM = os.environ.get("DAILYPAPERS_CHROMIUM", "/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM), reason=f"no chromium at {CHROMIUM}"),
]


@pytest.fixture
def three_days_live():
    load_three_days()


@pytest.fixture
def page():
    # Playwright's sync API switches greenlets, and with them Django's per-context
    # database connections: no ORM calls while it runs (data fixtures come first).
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-background-networking"]
        )
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        yield page
        browser.close()
        assert errors == [], f"JavaScript errors: {errors}"


def test_daily_list_paper_page_math_and_next_day(live_server, three_days_live, page):
    page.goto(f"{live_server.url}/papers")
    assert page.locator("h1").first.inner_text() == "Daily Papers"
    assert page.locator("article.card").count() == 1

    page.goto(f"{live_server.url}/papers/date/2026-03-13")
    page.locator("a[rel=next]").click()
    page.wait_for_url("**/papers/date/2026-03-16")
    cards = page.locator("article.card")
    assert cards.count() == 3
    assert cards.first.get_attribute("data-arxiv-id") == "2603.00002"
    # KaTeX rendered the title's $\alpha$ on the card.
    assert cards.first.locator(".title .katex").count() == 1

    cards.first.locator(".title a").click()
    page.wait_for_url("**/papers/2603.00002")
    assert page.locator(".rank-badge").inner_text().startswith("#1 paper of the day")
    assert page.locator("h1 .katex .katex-mathml").count() == 1
    assert page.locator(".abstract .katex").count() == 1  # the abstract's $x^2$
    # The KaTeX stylesheet and fonts came from our own static files.
    assert page.evaluate("getComputedStyle(document.querySelector('.katex')).fontFamily").startswith("KaTeX_Main")


@pytest.fixture
def indexed_papers():
    from .test_search import load_papers

    load_papers()


def test_search_as_you_type_updates_results_in_place(live_server, indexed_papers, page):
    from playwright.sync_api import expect

    page.goto(f"{live_server.url}/papers?q=attention")
    assert page.locator("article.card").first.get_attribute("data-arxiv-id") == "2601.00001"
    page.evaluate("window.marker = 'same page'")
    page.locator("#id_q").fill("diffusion synthesis")
    expect(page.locator("article.card").first).to_have_attribute("data-arxiv-id", "2601.00003")
    assert "q=diffusion%20synthesis" in page.url  # pushed, so the address can be shared
    assert page.evaluate("window.marker") == "same page"  # htmx swapped the results, no reload
    assert page.locator("#results mark").first.inner_text().lower().startswith("diffusion")
