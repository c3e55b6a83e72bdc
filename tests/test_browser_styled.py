"""Every page in the site's own look (issue 12 item 5): allauth's pages (log in, sign up, email
confirmation, passwords, email addresses) and the CSRF failure page carry the site's header, its
card and its buttons, in a real browser; buttons look alike site-wide."""

from .helpers import BROWSER_MARKS, launch_chromium, sign_in

pytestmark = BROWSER_MARKS


SIGNED_OUT = ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/",
              "/accounts/confirm-email/not-a-real-key/", "/accounts/password/reset/key/1-set-password/"]
SIGNED_IN = ["/accounts/email/", "/accounts/password/change/"]

# The primary button's look, and what a page's own form controls look like.
LOOK = """() => {
  const button = document.querySelector('main button[type=submit]');
  const s = button && getComputedStyle(button);
  const input = document.querySelector('main input:not([type=hidden]):not([type=checkbox]):not([type=radio])');
  return {
    header: !!document.querySelector('header.site-header nav a.brand'),
    card: !!document.querySelector('main .auth'),
    stylesheet: [...document.styleSheets].some(x => (x.href || '').endsWith('/dailypapers/site.css')),
    button: s && [s.borderRadius, s.backgroundColor, s.color, button.className],
    input: input && getComputedStyle(input).borderTopColor,
    font: getComputedStyle(document.body).fontFamily,
  };
}"""


def test_account_pages_and_buttons_in_the_sites_look(live_server, three_days_live, carol):
    from playwright.sync_api import sync_playwright

    looks = {}
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        for path in SIGNED_OUT:
            page.goto(f"{live_server.url}{path}")
            looks[path] = page.evaluate(LOOK)
        sign_in(page, live_server.url, "carol_with_a_long_name")
        for path in SIGNED_IN:
            page.goto(f"{live_server.url}{path}")
            looks[path] = page.evaluate(LOOK)
        # The site's own forms: the same primary button as allauth's.
        page.goto(f"{live_server.url}/papers/submit")
        submit_button = page.evaluate(LOOK)["button"]
        page.goto(f"{live_server.url}/papers/2603.00002")
        comment_button = page.evaluate("(() => {"
                                       " const s = getComputedStyle(document.querySelector('.comment-form button'));"
                                       " return [s.borderRadius, s.backgroundColor, s.color]; })()")
        browser.close()

    login_button = looks["/accounts/login/"]["button"]
    assert login_button[:3] == ["8px", "rgb(17, 24, 39)", "rgb(255, 255, 255)"], login_button
    assert "button" in login_button[3]
    for path, look in looks.items():
        assert look["header"] and look["card"] and look["stylesheet"], (path, look)
        assert look["font"].startswith("system-ui"), (path, look)
        if look["input"]:
            assert look["input"] == "rgb(156, 163, 175)", (path, look)  # the site's field border, not the UA's
        if look["button"] and "secondary" not in look["button"][3]:
            assert look["button"][:3] == login_button[:3], (path, look)
    assert submit_button[:3] == login_button[:3] and comment_button == login_button[:3]


def test_the_csrf_failure_page_is_the_sites_own(three_days):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"login": "x", "password": "y"})
    assert response.status_code == 403
    html = response.content.decode()
    assert 'class="site-header"' in html and "403 · Not allowed" in html
    assert "reload the page and send it again" in html
    assert "CSRF cookie not set" not in html  # Django's reason is for developers



def test_copy_markdown_and_delete_asks_first(live_server, three_days_live, carol):
    from playwright.sync_api import sync_playwright

    from dailypapers.community.services import post_comment
    from dailypapers.papers.models import Paper

    post_comment(user=carol, paper=Paper.objects.get(arxiv_id="2603.00002"), body="A comment to keep")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
        page = context.new_page()
        sign_in(page, live_server.url, "carol_with_a_long_name")
        page.goto(f"{live_server.url}/papers/2603.00002")
        page.get_by_role("button", name="Copy markdown").click()
        page.get_by_role("button", name="Copied").wait_for()
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied == page.request.get(f"{live_server.url}/papers/2603.00002.md").text()
        assert "Top paper with $\\alpha$ math" in copied

        # Delete asks first; saying no keeps the comment.
        asked = []
        page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
        page.locator(".comment-actions button", has_text="Delete").click()
        page.wait_for_timeout(300)
        assert asked == ["Delete this comment? This cannot be undone."]
        assert page.locator(".comment-body", has_text="A comment to keep").count() == 1
        browser.close()
