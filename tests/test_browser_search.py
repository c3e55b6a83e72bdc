"""The search page in a real browser: history while typing, clean addresses with and without JavaScript,
narrow screens."""

import os
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from .helpers import BROWSER_MARKS

pytestmark = BROWSER_MARKS

SCREENSHOTS = os.environ.get("DAILYPAPERS_SCREENSHOTS")  # a folder: save the page at 390 and 1280 px there


def params(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query)


def test_typing_replaces_the_history_entry_so_back_leaves_the_search(live_server, indexed_papers, page):
    from playwright.sync_api import expect

    page.goto(f"{live_server.url}/papers")
    assert page.locator("h1").first.inner_text() == "Daily Papers"
    page.locator(".header-search input").fill("attention")
    page.locator(".header-search input").press("Enter")  # the first search is a new page: one history entry
    page.wait_for_url("**/papers?q=attention")
    entries = page.evaluate("history.length")
    searches: list[str] = []
    page.on("request", lambda request: searches.append(request.url) if "q=" in request.url else None)

    page.evaluate("window.marker = 'same page'")
    box = page.locator("#id_q")
    box.press("End")
    for letter in " mechanisms":
        box.press(letter if letter != " " else "Space")
        page.wait_for_timeout(350)  # longer than the 300 ms debounce: every keystroke searches
    expect(page).to_have_url(f"{live_server.url}/papers?q=attention+mechanisms")
    expect(page.locator("article.card").first).to_have_attribute("data-arxiv-id", "2601.00001")
    assert len(searches) >= 5 and page.evaluate("window.marker") == "same page"  # htmx, no reloads
    assert page.evaluate("history.length") == entries  # replaced, not one entry per keystroke

    box.fill("diffusion synthesis")
    expect(page.locator("article.card").first).to_have_attribute("data-arxiv-id", "2601.00003")
    expect(page).to_have_url(f"{live_server.url}/papers?q=diffusion+synthesis")
    box.press("Enter")  # with JavaScript, Enter searches in place too
    page.wait_for_timeout(400)
    assert page.evaluate("history.length") == entries and page.evaluate("window.marker") == "same page"

    page.evaluate("history.back()")
    page.wait_for_url(f"{live_server.url}/papers")
    assert page.locator("h1").first.inner_text() == "Daily Papers"


def test_filters_and_an_emptied_box_keep_a_clean_address(live_server, indexed_papers, page):
    from playwright.sync_api import expect

    page.goto(f"{live_server.url}/papers?q=networks")
    page.locator("details.filters summary").click()
    page.locator("input[name=category]").fill("cs.CV")
    page.locator("input[name=category]").press("Tab")  # change
    expect(page).to_have_url(f"{live_server.url}/papers?q=networks&category=cs.CV")
    assert {c.get_attribute("data-arxiv-id") for c in page.locator("article.card").all()} == {
        "2601.00002",
        "2601.00005",
    }
    page.locator("select[name=sort]").select_option("date")
    expect(page).to_have_url(f"{live_server.url}/papers?q=networks&category=cs.CV&sort=date")

    # Clearing the box doesn't fetch the daily list into the results (which would leave nothing to update).
    page.locator("#id_q").fill("")
    page.wait_for_timeout(500)
    assert page.locator("#results article.card").count() == 2
    page.locator("#id_q").fill("residual")
    expect(page).to_have_url(f"{live_server.url}/papers?q=residual&category=cs.CV&sort=date")
    expect(page.locator("#results mark").first).to_have_text("Residual")


def test_without_javascript_the_form_lands_on_a_clean_address(live_server, indexed_papers, page):
    context = page.context.browser.new_context(java_script_enabled=False)
    plain = context.new_page()
    plain.goto(f"{live_server.url}/papers?q=attention")
    plain.locator("#id_q").fill("diffusion")
    plain.locator(".search-form button[type=submit]").click()
    plain.wait_for_load_state()
    assert params(plain.url) == [("q", "diffusion")]  # the form sent every field; the server redirected
    assert plain.locator("article.card").first.get_attribute("data-arxiv-id") == "2601.00003"
    plain.locator("details.filters summary").click()
    plain.locator("input[name=category]").fill("cs.CV")
    plain.locator(".search-form button[type=submit]").click()
    plain.wait_for_load_state()
    assert params(plain.url) == [("q", "diffusion"), ("category", "cs.CV")]
    context.close()


@pytest.mark.parametrize("width", [390, 1280])
def test_the_search_page_fits_the_screen(live_server, indexed_papers, page, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/papers?q=image+networks")
    page.locator("details.filters summary").click()  # the widest state: filters open
    assert page.locator("article.card").count() >= 2
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / f"search-{width}.png"), full_page=False)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    box = page.locator("#id_q").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
