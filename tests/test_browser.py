"""A real browser (Debian's chromium, driven by Playwright) against a live test server."""

import re

import pytest

from .helpers import BROWSER_MARKS

pytestmark = BROWSER_MARKS


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


def test_search_as_you_type_updates_results_in_place(live_server, indexed_papers, page):
    from playwright.sync_api import expect

    page.goto(f"{live_server.url}/papers?q=attention")
    assert page.locator("article.card").first.get_attribute("data-arxiv-id") == "2601.00001"
    page.evaluate("window.marker = 'same page'")
    page.locator("#id_q").fill("diffusion synthesis")
    expect(page.locator("article.card").first).to_have_attribute("data-arxiv-id", "2601.00003")
    expect(page).to_have_url(
        re.compile(r"/papers\?q=diffusion\+synthesis$")
    )  # the address follows, so it can be shared
    assert page.evaluate("window.marker") == "same page"  # htmx swapped the results, no reload
    assert page.locator("#results mark").first.inner_text().lower().startswith("diffusion")


@pytest.fixture
def fresh_paper():
    from datetime import datetime, timedelta, timezone

    from dailypapers.papers.records import PaperRecord
    from dailypapers.papers.services import upsert_papers

    upsert_papers(records=[PaperRecord(arxiv_id="2611.00001", title="A fresh paper", abstract="About $x$.",
                                       authors=["Ada Lovelace"],
                                       published_at=datetime.now(timezone.utc) - timedelta(days=1))])


def test_sign_up_upvote_and_comment_in_the_browser(live_server, fresh_paper, page, mailoutbox):
    from playwright.sync_api import expect

    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{live_server.url}/accounts/signup/")
    page.fill("input[name=email]", "grace@example.org")
    page.fill("input[name=username]", "grace")
    page.fill("input[name=password1]", "a-long-pass-phrase-9")
    page.fill("input[name=password2]", "a-long-pass-phrase-9")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()
    assert page.locator("header").get_by_text("grace").count() == 0  # signed in only once the address is verified
    (mail,) = mailoutbox
    page.goto(live_server.url + "/accounts/confirm-email/" + mail.body.split("/accounts/confirm-email/")[1].split()[0])
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()
    assert page.locator("header").get_by_text("grace").count() == 1

    page.goto(f"{live_server.url}/papers/2611.00001")
    vote = page.locator(".big-vote form.votes")
    expect(vote.locator(".count")).to_have_text("0")
    page.evaluate("window.marker = 'no reload'")
    vote.locator("button").click()
    expect(page.locator(".big-vote form.votes .count")).to_have_text("1")
    assert page.evaluate("window.marker") == "no reload"  # htmx swapped the button in place

    payload = '<img src=x onerror="alert(1)"> <script>alert(2)</script> [x](javascript:alert(3)) **bold**'
    page.fill("#new-comment", payload)
    page.get_by_role("button", name="Comment").click()
    page.wait_for_url("**/papers/2611.00001#comment-*")
    comment = page.locator(".comment .comment-body").first
    expect(comment.locator("strong")).to_have_text("bold")
    links = page.locator(".comment-body a")
    for i in range(links.count()):
        links.nth(i).click()  # a javascript: link would run here; it was stripped
    page.wait_for_timeout(300)
    assert dialogs == [], f"script from a comment ran: {dialogs}"
    assert page.locator(".comment-body img, .comment-body script").count() == 0


def test_the_date_picker_takes_a_day_and_a_day_without_a_list_goes_to_the_earlier_one(
    live_server, three_days_live, page
):
    page.goto(f"{live_server.url}/papers")
    picker = page.locator("#pick-day")
    assert (picker.get_attribute("min"), picker.get_attribute("max")) == ("2026-03-13", "2026-03-17")
    picker.fill("2026-03-16")
    page.locator(".date-picker button").click()
    page.wait_for_url("**/papers/date/2026-03-16")
    assert page.locator("article.card").count() == 3
    page.locator("#pick-day").fill("2026-03-15")  # a Sunday
    page.locator(".date-picker button").click()
    page.wait_for_url("**/papers/date/2026-03-13")
    assert page.locator(".messages").inner_text() == "No list on Mar 15, 2026: this is the nearest earlier one."
    # Out of range: the browser's own check keeps the form from being sent.
    page.locator("#pick-day").fill("2026-03-20")
    page.locator(".date-picker button").click()
    assert page.url.endswith("/papers/date/2026-03-13")
    assert page.evaluate("document.querySelector('#pick-day').validity.rangeOverflow")


def test_the_account_menu_opens_closes_and_logs_out(live_server, three_days_live, carol, page):
    """The signed-in header keeps the account's pages in one menu: it opens on a click, closes on Escape
    and on a click elsewhere, and its Log out signs out."""
    from .helpers import sign_in

    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, live_server.url, "carol_with_a_long_name")
    header = page.locator(".site-header nav")
    assert header.evaluate("nav => nav.getBoundingClientRect().height") < 60  # one row at 1280 px
    menu_link = page.locator(".user-menu-items a", has_text="Follows")
    assert not menu_link.is_visible()
    page.click(".user-menu summary")
    assert menu_link.is_visible()
    page.keyboard.press("Escape")
    assert not menu_link.is_visible()
    page.click(".user-menu summary")
    page.click("h1")
    assert not menu_link.is_visible()
    page.click(".user-menu summary")
    menu_link.click()
    page.wait_for_url("**/follows")
    page.click(".user-menu summary")
    page.locator(".user-menu-items button", has_text="Log out").click()
    page.wait_for_load_state()
    assert page.locator(".site-header a", has_text="Log in").is_visible()
