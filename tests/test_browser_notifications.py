"""Notifications in a real browser (CSP on): the header's unread badge, a reply's link to its
comment, mark one read and mark all read."""

import pytest

from .helpers import BROWSER_MARKS, BROWSER_PASSWORD, make_user, signed_in_page

pytestmark = BROWSER_MARKS


@pytest.fixture
def discussion(fresh_papers):
    from dailypapers.community.services import post_comment
    from dailypapers.papers.models import Paper

    paper = Paper.objects.get(arxiv_id="2611.00001")
    ada, bob = make_user("ada", password=BROWSER_PASSWORD), make_user("bob")
    top = post_comment(user=ada, paper=paper, body="Where is the proof?")
    reply = post_comment(user=bob, paper=paper, body="In the appendix", parent=top)
    post_comment(user=bob, paper=paper, body="@ada see also section 4")
    return {"reply": reply}


def test_unread_badge_and_mark_read(live_server, discussion):
    with signed_in_page(live_server.url, "ada") as page:
        badge = page.locator("header .notifications-link .unread-count")
        assert badge.text_content() == "2 unread"  # "unread" for screen readers

        page.click("header .notifications-link")
        page.wait_for_url("**/notifications")
        items = page.locator("li.notification")
        assert items.count() == 2 and page.locator("li.notification.unread").count() == 2
        assert "bob mentioned you on “Fresh paper 1”" in items.nth(0).inner_text()  # newest first
        items.nth(1).locator("form.mark-read button").click()
        page.wait_for_url("**/notifications")
        assert page.locator("li.notification.unread").count() == 1
        assert page.locator("header .unread-count").text_content() == "1 unread"

        page.locator("form.mark-all button").click()
        page.wait_for_url("**/notifications")
        assert page.locator("li.notification.unread").count() == 0
        assert page.locator("header .unread-count").count() == 0

        page.locator("li.notification a", has_text="replied to your comment").click()
        page.wait_for_url(f"**/papers/2611.00001#comment-{discussion['reply'].pk}")
        assert page.locator(f"#comment-{discussion['reply'].pk}").is_visible()
