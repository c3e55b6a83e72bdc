"""In a real browser: a javascript: link imported from Hugging Face never reaches a page (issue 8, item 1)."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from .helpers import BROWSER_MARKS

pytestmark = BROWSER_MARKS

DAY = "2026-03-16"
BAD = {
    "2603.00001": "javascript:alert(document.domain)//github.com/a/b",
    "2603.00002": " JaVaScRiPt:alert(2)",
    "2603.00003": "data:text/html,<script>alert(3)</script>",
    "2603.00004": "\tvbscript:msgbox(4)",
}
GOOD = "2603.00009"

# Every link and image on the page that a browser would not resolve to http(s) or mailto,
# and every href that starts, after any whitespace or control characters, with a script scheme.
UNSAFE_LINKS_JS = r"""() => [
    ...[...document.querySelectorAll('a[href], area[href]')]
        .filter(a => !['http:', 'https:', 'mailto:'].includes(a.protocol)).map(a => a.getAttribute('href')),
    ...[...document.querySelectorAll('img[src]')]
        .filter(i => !['http:', 'https:'].includes(new URL(i.src).protocol)).map(i => i.getAttribute('src')),
    ...[...document.querySelectorAll('[href], [src], [action], [formaction]')]
        .flatMap(e => ['href', 'src', 'action', 'formaction'].map(n => e.getAttribute(n) || ''))
        .filter(v => /^[\s\x00-\x20]*(javascript|data|vbscript):/i.test(v)),
]"""


def _item(arxiv_id: str, link: str) -> dict:
    return {
        "paper": {"id": arxiv_id, "title": f"Attention paper {arxiv_id}", "summary": "About attention.",
                  "authors": [{"name": "Ada Lovelace"}], "publishedAt": f"{DAY}T00:00:00.000Z", "upvotes": 5,
                  "githubRepo": link, "githubStars": 3, "projectPage": link},
        "organization": {"name": f"org-{arxiv_id[-1]}", "fullname": "An org", "avatar": link},
    }


@pytest.fixture
def imported_links(tmp_path):
    path = tmp_path / f"{DAY}.json"
    items = [_item(arxiv_id, link) for arxiv_id, link in BAD.items()] + [_item(GOOD, "https://github.com/a/b")]
    path.write_text(json.dumps(items))
    out = StringIO()
    call_command("ingest", "hf-daily", str(path), "--quiet", stdout=out)  # the real CLI, as in the report
    assert out.getvalue().strip() == f"5 new / 0 updated / 0 unchanged / 0 skipped / {3 * len(BAD)} skipped fields"


def test_no_javascript_link_reaches_any_page(live_server, imported_links, page):
    pages = [f"/papers/{arxiv_id}" for arxiv_id in [*BAD, GOOD]] + [
        f"/papers/date/{DAY}", "/papers/week/2026-W12", "/papers?q=attention", "/organizations/org-1",
    ]
    for path in pages:
        page.goto(f"{live_server.url}{path}")
        assert page.locator("article.card, h1").count() > 0, path
        assert page.locator('a[href^="javascript" i], a[href*="javascript:" i], a[href^="data:" i]').count() == 0, path
        assert page.evaluate(UNSAFE_LINKS_JS) == [], path
    # The good paper's links are there, so the checks above looked at real cards.
    page.goto(f"{live_server.url}/papers/{GOOD}")
    assert page.locator('a.github[href="https://github.com/a/b"]').count() == 1
    page.goto(f"{live_server.url}/papers/date/{DAY}")
    assert page.locator("article.card").count() == 5
    assert page.locator("a.github").count() == 1
    page.goto(f"{live_server.url}/papers?q=attention")
    assert page.locator("article.card").count() == 5 and page.locator("a.github").count() == 1
