"""Accessibility in a real browser: axe-core (vendored from npm, served as one of our static files)
on the main pages at 1280 and 390 px, signed out and in, light and dark; and the things axe cannot
judge alone: a skip link that moves focus, a visible focus ring, the vote arrow's contrast, the
anonymous vote control's name, dark mode, the favicon."""

import pytest

from .helpers import BROWSER_MARKS, launch_chromium, sign_in

pytestmark = BROWSER_MARKS


PAGES = ["/papers", "/papers/2603.00002", "/papers?q=attention", "/papers/trending",
         "/accounts/login/", "/organizations/acme-ai", "/papers/week/2026-W12"]
SIGNED_IN_ONLY = ["/papers/submit", "/notifications"]
AXE = "/static/vendor/axe-core/axe.min.js"


def _serious(page) -> list[dict]:
    # A script element with a same-origin src: the page's CSP allows it (an inline one would not run).
    page.add_script_tag(url=AXE)
    results = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact,
                                        nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    return [v for v in results if v["impact"] in ("serious", "critical")]


@pytest.fixture
def carol_mentioned(three_days_live, carol):
    """An unread notification: the header's badge and /notifications' unread item are checked too."""
    from dailypapers.community.services import post_comment
    from dailypapers.papers.models import Paper

    from .helpers import make_user

    post_comment(user=make_user("dave"), paper=Paper.objects.get(arxiv_id="2603.00002"),
                 body=f"@{carol.username} have a look")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_or_critical_axe_violations(live_server, three_days_live, carol, carol_mentioned, scheme):
    from playwright.sync_api import sync_playwright

    found = {}
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        for width in (1280, 390):
            context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
            page = context.new_page()
            for signed_in in (False, True):
                if signed_in:
                    sign_in(page, live_server.url, carol.username)
                for path in PAGES + (SIGNED_IN_ONLY if signed_in else []):
                    page.goto(f"{live_server.url}{path}")
                    page.wait_for_load_state("networkidle")
                    if violations := _serious(page):
                        found[(width, signed_in, path)] = violations
            context.close()
        browser.close()
    assert found == {}, "\n".join(f"{k}: {v}" for k, v in found.items())


def test_skip_link_focus_ring_vote_control_favicon_and_dark_mode(live_server, three_days_live):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{live_server.url}/papers/date/2026-03-16")

        # The first Tab reaches the skip link, which shows itself and jumps to the content.
        page.keyboard.press("Tab")
        skip = page.locator("a.skip-link")
        assert page.evaluate("document.activeElement.className") == "skip-link"
        assert skip.is_visible() and skip.bounding_box()["height"] > 10
        page.keyboard.press("Enter")
        assert page.evaluate("location.hash") == "#content"
        assert page.evaluate("document.activeElement.id") == "content"
        # The focus ring is drawn (an outline of at least 2 px) on the next focused control.
        page.keyboard.press("Tab")
        outline = page.evaluate("(() => { const s = getComputedStyle(document.activeElement);"
                                " return [s.outlineStyle, parseFloat(s.outlineWidth)]; })()")
        assert outline[0] != "none" and outline[1] >= 2

        # The anonymous vote control says what it does, and its arrow has at least 3:1 contrast.
        # (Its accessible name, as chromium computes it for assistive technology.)
        assert page.get_by_role("link", name="Log in to upvote: 40 upvotes").count() == 1
        ratio = page.evaluate(CONTRAST, "article.card .votes .arrow")
        assert ratio >= 3.0, ratio

        # The favicon is ours, served by the app.
        href = page.evaluate("document.querySelector('link[rel=icon]').href")
        assert href.startswith(live_server.url)
        assert page.request.get(href).status == 200
        assert page.request.get(f"{live_server.url}/favicon.ico").status == 200

        # Dark mode follows the system setting.
        light_bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
        page.emulate_media(color_scheme="dark")
        dark_bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert light_bg == "rgb(255, 255, 255)" and dark_bg != light_bg
        assert page.evaluate(CONTRAST, "article.card .votes .arrow") >= 3.0
        browser.close()


# WCAG contrast of an element's text colour against the first opaque background behind it.
CONTRAST = """(selector) => {
  const el = document.querySelector(selector);
  const rgb = s => s.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => { const f = c => { c /= 255;
                                                 return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
                               return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  let bg = null;
  for (let node = el; node && !bg; node = node.parentElement) {
    const c = rgb(getComputedStyle(node).backgroundColor);
    if (c.length === 3 || c[3] === 1) bg = c.slice(0, 3);
  }
  bg = bg || [255, 255, 255];
  const fg = rgb(getComputedStyle(el).color).slice(0, 3);
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""
