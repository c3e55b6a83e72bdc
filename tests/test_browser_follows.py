"""Follows in a real browser (htmx, CSP on): follow an author from the author page, see the
"followed author" badge on the daily list, unfollow on /follows, and the badge is gone."""

import pytest

from .helpers import BROWSER_MARKS, BROWSER_PASSWORD, make_paper, make_user, signed_in_page

pytestmark = BROWSER_MARKS
DAY = "2026-03-16"


@pytest.fixture
def grace(db):
    from dailypapers.papers.models import Author
    from dailypapers.papers.services import upsert_papers

    upsert_papers(records=[
        make_paper("2603.00201", day=DAY, upvotes=9, title="Compilers for everyone", authors=["Grace Hopper"]),
        make_paper("2603.00202", day=DAY, upvotes=5, title="Analytical engines", authors=["Ada Lovelace"]),
    ])
    make_user("ada", password=BROWSER_PASSWORD)
    return Author.objects.get(name="Grace Hopper")


def test_follow_an_author_see_the_badge_then_unfollow(live_server, grace):
    author_page = f"{live_server.url}/authors/{grace.pk}"
    with signed_in_page(live_server.url, "ada") as page:
        page.goto(author_page)
        page.locator("form.follow button", has_text="Follow this author").click()
        # htmx swaps the button in place: no page load.
        page.locator("form.follow.following button[aria-pressed=true]").wait_for()
        assert page.url == author_page

        page.goto(f"{live_server.url}/papers/date/{DAY}")
        followed = page.locator("article.card[data-arxiv-id='2603.00201'] .followed-badge")
        assert followed.inner_text() == "followed author"
        assert page.locator("article.card[data-arxiv-id='2603.00202'] .followed-badge").count() == 0

        page.click(".user-menu summary")  # the account's pages are in the header's menu
        page.click(".user-menu-items >> text=Follows")
        page.wait_for_url("**/follows")
        section = page.locator("section.follow-section[data-kind=author]")
        assert "Grace Hopper" in section.locator("h2").inner_text()
        assert "Compilers for everyone" in section.locator("ol.follow-papers").inner_text()
        section.locator("form.unfollow button").click()
        page.wait_for_url("**/follows")
        assert "Unfollowed Grace Hopper." in page.locator(".messages").inner_text()
        assert page.locator("section.follow-section").count() == 0

        page.goto(f"{live_server.url}/papers/date/{DAY}")
        assert page.locator(".followed-badge").count() == 0
