"""For you in a real browser (htmx, CSP on): Not interested hides a card in place, Save marks it,
and the next visit leaves both out (the saved paper has joined the profile)."""

import pytest

from .helpers import BROWSER_MARKS, BROWSER_PASSWORD, make_user, signed_in_page
from .test_for_you import world  # noqa: F401 - RL and speech profile papers, this week's list

pytestmark = BROWSER_MARKS


@pytest.fixture
def ada(world):  # noqa: F811
    from dailypapers.collections.services import toggle_saved
    from dailypapers.community.services import toggle_vote

    user = make_user("ada", password=BROWSER_PASSWORD)
    for paper in world["profile"]["rl"]:
        toggle_vote(user=user, paper=paper)
    for paper in world["profile"]["speech"]:
        toggle_saved(user=user, paper=paper)
    return user


def test_not_interested_and_save_on_for_you(live_server, world, ada):  # noqa: F811
    unwanted = world["listed"]["rl"][0].arxiv_id
    keeper = world["listed"]["speech"][0].arxiv_id
    with signed_in_page(live_server.url, "ada") as page:
        page.click("header >> text=For you")
        page.wait_for_url("**/papers/for-you")
        assert page.locator("h1").inner_text() == "For you"
        item = page.locator(f".for-you-item[data-arxiv-id='{unwanted}']")
        assert "which you upvoted" in item.locator(".why").inner_text()

        item.locator("form.not-interested button").click()
        # htmx swaps the card for a note in place: no page load.
        page.locator(f".for-you-item.hidden-note[data-arxiv-id='{unwanted}']").wait_for()
        assert page.url.endswith("/papers/for-you")
        assert page.locator(f"article.card[data-arxiv-id='{unwanted}']").count() == 0

        saved = page.locator(f"article.card[data-arxiv-id='{keeper}']")
        assert "which you saved" in saved.locator(".why").inner_text()
        saved.locator("form.save button").click()
        saved.locator("form.save.saved button[aria-pressed=true]").wait_for()

        page.reload()
        assert page.locator(f"article.card[data-arxiv-id='{unwanted}']").count() == 0
        assert page.locator(f"article.card[data-arxiv-id='{keeper}']").count() == 0
        assert page.locator("article.card").count() == 14  # 16 listed, one hidden, one saved
