"""Phones: no page scrolls sideways at 320-390 px, signed out or in (the header wraps)."""

import pytest

from .helpers import BROWSER_MARKS, launch_chromium, sign_in

pytestmark = BROWSER_MARKS

PAGES = ["/papers", "/papers/trending", "/papers/date/2026-03-16", "/papers/week/2026-W12",
         "/papers/2603.00002", "/papers?q=attention", "/organizations/acme-ai", "/digest/subscribe"]


@pytest.mark.parametrize("width", [320, 390])
def test_no_page_scrolls_sideways_on_a_phone(live_server, three_days_live, carol, width):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": width, "height": 800})
        too_wide = {}
        for signed_in in (False, True):
            if signed_in:
                sign_in(page, live_server.url, "carol_with_a_long_name")
                assert page.locator("text=Log out").count() == 1
            for path in PAGES + (["/papers/submit", "/organizations/new"] if signed_in else ["/accounts/login/"]):
                page.goto(f"{live_server.url}{path}")
                if (scroll := page.evaluate("document.documentElement.scrollWidth")) > width:
                    too_wide[(path, signed_in)] = scroll
        browser.close()
    assert too_wide == {}


# Every node of a card's meta row (elements and bare text) as laid out: its line, left, right and text.
_META_LINES = """() => [...document.querySelectorAll('.card .meta')].map(meta => {
  const boxes = [];
  for (const node of meta.childNodes) {
    const text = node.textContent.trim();
    if (node.nodeType === Node.TEXT_NODE && !text) continue;
    let rects;
    if (node.nodeType === Node.TEXT_NODE) {
      const range = document.createRange(); range.selectNodeContents(node); rects = [...range.getClientRects()];
    } else {
      rects = [node.getBoundingClientRect()];
    }
    for (const r of rects) if (r.width > 0) boxes.push({top: Math.round(r.top), left: r.left, right: r.right, text});
  }
  const lines = [];
  for (const box of boxes.sort((a, b) => a.top - b.top || a.left - b.left)) {
    const line = lines.find(l => Math.abs(l[0].top - box.top) <= 4);
    line ? line.push(box) : lines.push([box]);
  }
  return lines.map(line => line.sort((a, b) => a.left - b.left));
})"""


@pytest.mark.parametrize("width", [320, 390, 1280])
def test_no_line_of_a_card_meta_row_ends_or_starts_with_a_separator(live_server, three_days_live, width):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": width, "height": 800})
        rows = []
        for path in ("/papers/date/2026-03-16", "/papers/trending", "/papers?q=attention"):
            page.goto(f"{live_server.url}{path}")
            rows += [(path, lines) for lines in page.evaluate(_META_LINES)]
        browser.close()
    assert rows, "no cards were drawn"
    bad_ends = [(path, [b["text"] for b in line]) for path, lines in rows for line in lines
                if line[-1]["text"].endswith("·") or line[0]["text"].startswith("·")]
    assert bad_ends == []
    # Neighbours on a line stay apart (the row's gap is the separator).
    cramped = [(path, left["text"], right["text"]) for path, lines in rows for line in lines
               for left, right in zip(line, line[1:], strict=False) if right["left"] - left["right"] < 8]
    assert cramped == []
    if width == 320:  # the narrow screen makes rows wrap: the case this is about
        assert any(len(lines) > 1 for _, lines in rows)


def test_the_signed_out_header_is_one_row_of_links_on_a_phone(live_server, three_days_live):
    """At 390 px the brand, Trending, Log in and Sign up share one row (the search box has its own);
    the Daily link is left out there, as the brand leads to the same page."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 390, "height": 800})
        page.goto(f"{live_server.url}/papers")
        rows = page.evaluate("""() => [...document.querySelectorAll('.site-header nav > a')]
            .filter(a => a.getBoundingClientRect().width > 0)
            .map(a => [a.textContent.trim(), Math.round(a.getBoundingClientRect().top)])""")
        assert page.locator(".site-header .brand").get_attribute("href") == "/papers"
        browser.close()
    assert [name for name, _ in rows] == ["dailypapers", "Trending", "Log in", "Sign up"]
    assert len({top for _, top in rows}) == 1, rows
