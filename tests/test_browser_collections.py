"""Save on a card, the Reading list, and the Cite box, in a real browser (htmx, CSP on)."""

import pytest

from .helpers import BROWSER_MARKS, BROWSER_PASSWORD, make_user, signed_in_page

pytestmark = BROWSER_MARKS


@pytest.fixture
def ada(db):
    return make_user("ada", password=BROWSER_PASSWORD)


def test_save_from_a_card_then_read_cite_and_export(live_server, three_days_live, ada):
    with signed_in_page(live_server.url, "ada") as page:
        page.goto(f"{live_server.url}/papers/date/2026-03-16")
        card = page.locator("article.card[data-arxiv-id='2603.00003']")
        card.locator("form.save button").click()
        # htmx swaps the control in place: no page load, the card now says Saved.
        card.locator("form.save.saved button[aria-pressed=true]").wait_for()
        assert page.url.endswith("/papers/date/2026-03-16")

        page.goto(f"{live_server.url}/collections")
        page.click("text=Reading list")
        assert page.locator("ol.collection-items li").count() == 1
        assert "Paper 2603.00003" in page.locator("ol.collection-items").inner_text()
        page.click("text=Add a note")
        page.fill("textarea[name=note]", "Compare with the top paper")
        page.click("text=Save note")
        assert page.locator("ol.collection-items .note").inner_text() == "Compare with the top paper"

        page.goto(f"{live_server.url}/papers/2603.00002")
        page.click(".cite summary")
        assert page.locator("pre.bibtex").inner_text().startswith("@misc{lovelace2026top")
        page.select_option("select[name=collection]", label="Reading list")
        page.click(".add-to-collection button")
        assert "Added to “Reading list”." in page.locator(".messages").inner_text()
        page.click(".cite summary")
        with page.expect_download() as download:
            page.click("text=Download .bib")
        assert download.value.suggested_filename == "2603.00002.bib"
