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
