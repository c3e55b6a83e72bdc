"""The Content-Security-Policy in a real browser (Debian's chromium, Playwright): the main pages
break no directive, maths still renders and htmx still swaps; KaTeX caps absurd sizes."""

import pytest

from .helpers import BROWSER_MARKS, launch_chromium, load_papers, load_three_days, make_paper

pytestmark = BROWSER_MARKS

VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sourceFile || ""));
});
"""


@pytest.fixture
def site():
    from dailypapers.papers.services import upsert_papers

    load_three_days()
    upsert_papers(records=[make_paper(
        "2603.00009", day="2026-03-18", upvotes=1, title="Huge rule",
        abstract=r"A rule that asks for a huge box: $$\rule{100000em}{100000em}$$ and $\alpha$.",
    )])
    load_papers()


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.add_init_script(VIOLATIONS)
        console: list[str] = []
        errors: list[str] = []
        page.on("console", lambda message: console.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.console_errors = console
        yield page
        browser.close()
        assert errors == [], f"JavaScript errors: {errors}"


def _visit(page, url: str) -> None:
    response = page.goto(url)
    assert "default-src 'self'" in response.headers["content-security-policy"], url
    page.wait_for_load_state("load")


def _assert_no_violations(page, url: str) -> None:
    assert page.evaluate("window.__csp") == [], url
    csp_console = [text for text in page.console_errors if "Content Security Policy" in text]
    assert csp_console == [], url


def test_main_pages_break_no_csp_directive(live_server, site, browser_page):
    from playwright.sync_api import expect

    page = browser_page
    _visit(page, f"{live_server.url}/papers/date/2026-03-16")
    assert page.locator("article.card .title .katex").count() == 1  # $\alpha$ rendered under the CSP
    _assert_no_violations(page, "daily")

    _visit(page, f"{live_server.url}/papers/2603.00002")
    assert page.locator("h1 .katex .katex-mathml").count() == 1
    # KaTeX's own stylesheet and fonts load from our static files.
    expect(page.locator("h1 .katex").first).to_have_css("font-family", "KaTeX_Main, \"Times New Roman\", serif")
    _assert_no_violations(page, "paper")

    _visit(page, f"{live_server.url}/papers?q=attention")
    assert page.locator("article.card").first.get_attribute("data-arxiv-id") == "2601.00001"
    page.evaluate("window.marker = 'same page'")
    page.locator("#id_q").fill("diffusion synthesis")
    expect(page.locator("article.card").first).to_have_attribute("data-arxiv-id", "2601.00003")
    assert page.evaluate("window.marker") == "same page"  # htmx swapped the results in place
    # htmx added no <style> element of its own (the CSP would have refused it).
    assert page.evaluate("document.querySelectorAll('style').length") == 0
    _assert_no_violations(page, "search")

    for path in ("/admin/login/", "/accounts/login/", "/accounts/signup/", "/api/docs", "/digest/subscribe"):
        _visit(page, f"{live_server.url}{path}")
        _assert_no_violations(page, path)
    # Swagger UI (local assets) drew the API under the same policy.
    page.goto(f"{live_server.url}/api/docs")
    expect(page.locator(".swagger-ui .info .title")).to_be_visible()
    _assert_no_violations(page, "/api/docs rendered")


def test_the_csp_stops_an_injected_inline_script(live_server, site, browser_page):
    """The policy is enforced, not just sent: inline script added to a served page does not run."""
    page = browser_page
    _visit(page, f"{live_server.url}/papers")
    page.evaluate("""() => {
        const s = document.createElement('script');
        s.textContent = 'window.__ran = true';
        document.body.appendChild(s);
    }""")
    assert page.evaluate("window.__ran === undefined")
    assert any(v.startswith("script-src") for v in page.evaluate("window.__csp"))


def test_a_huge_katex_rule_leaves_the_page_width_sane(live_server, site, browser_page):
    page = browser_page
    _visit(page, f"{live_server.url}/papers/2603.00009")
    assert page.locator(".abstract .katex-display, .abstract .katex").count() >= 1
    width = page.evaluate("document.documentElement.scrollWidth")
    height = page.evaluate("document.documentElement.scrollHeight")
    assert width <= 1280, width
    assert height < 5000, height
    _assert_no_violations(page, "huge rule")


@pytest.fixture
def staff(site):
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_superuser("root", "root@example.org", "correct horse battery")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    from dailypapers.papers.models import Paper

    return Paper.objects.get(arxiv_id="2603.00002").pk


def test_signed_in_and_admin_pages_break_no_csp_directive(live_server, staff, browser_page):
    from playwright.sync_api import expect

    page = browser_page
    # The admin signs in through the site's (throttled) login page.
    _visit(page, f"{live_server.url}/admin/login/?next=/admin/")
    page.wait_for_url("**/accounts/login/**")
    page.fill("#id_login", "root")
    page.fill("#id_password", "correct horse battery")
    page.click("form[action*='login'] button[type=submit]")  # form-action 'self': the POST and its redirect stay here
    page.wait_for_url("**/admin/")
    _assert_no_violations(page, "admin index")
    for path in ("/admin/papers/paper/", f"/admin/papers/paper/{staff}/change/", "/accounts/email/",
                 "/settings/tokens", "/organizations/new"):
        _visit(page, f"{live_server.url}{path}")
        _assert_no_violations(page, path)

    _visit(page, f"{live_server.url}/papers/2603.00002")
    page.evaluate("window.marker = 'no reload'")
    page.locator("form.votes button").first.click()  # htmx posts the vote and swaps the button
    expect(page.locator("form.votes").first).to_have_class("votes voted")
    assert page.evaluate("window.marker") == "no reload"
    _assert_no_violations(page, "vote")
