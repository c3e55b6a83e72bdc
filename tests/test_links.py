"""Links from outside reach an href only as http(s) with a host (issue 8, item 1).

One rule (records.clean_url) for every URL field a record carries, from every
source; refused links are dropped and counted, the paper still imported. Links
stored before the rule existed are blanked by a migration. Comment links are
nh3's job (community/markdown.py), checked here too.
"""

import json
import re
from html.parser import HTMLParser
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from dailypapers.community.markdown import render
from dailypapers.papers.models import Organization, Paper
from dailypapers.papers.records import PaperRecord, clean_url, find_github_repo, organization_slug

from .replay import ReplayServer

BAD_LINKS = [
    "javascript:alert(document.domain)//github.com/a/b",
    "JAVASCRIPT:alert(1)",
    " javascript:alert(1)",
    "\tjavascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "\x01javascript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "//evil.example/a",
    "http://",
    "https://",
    "http:///etc/passwd",
    "ftp://example.org/file",
    "file:///etc/passwd",
    "https://user:secret@github.com/a/b",
    "https://github.com/a b",
    "https://github.com/a\x00b",
    "https://github.com:99999/a/b",
    "https://github.com/" + "a" * 500,
    "github.com/a/b",
]
GOOD_LINKS = ["https://github.com/a/b", "http://example.org", "HTTPS://Example.org/x?y=1#z", "https://[::1]:8000/"]


@pytest.mark.parametrize("url", BAD_LINKS)
def test_the_url_rule_refuses_everything_but_http_with_a_host(url):
    with pytest.raises(ValueError):
        clean_url(url)


@pytest.mark.parametrize("url", GOOD_LINKS)
def test_the_url_rule_keeps_http_links(url):
    assert clean_url(url) == url
    assert clean_url(f"  {url}\n") == url  # surrounding whitespace is not part of a link


def test_a_record_made_anywhere_drops_its_bad_links():
    record = PaperRecord(arxiv_id="2401.00001", title="T", github_repo="javascript:alert(1)", project_page="data:,x")
    assert (record.github_repo, record.project_page) == (None, None)
    assert set(record.skipped_fields) == {"github_repo", "project_page"}


def _hf_item(arxiv_id: str, link: str) -> dict:
    return {
        "paper": {"id": arxiv_id, "title": f"Paper {arxiv_id}", "summary": "S.", "authors": [{"name": "Ada"}],
                  "publishedAt": "2025-01-02T00:00:00.000Z", "upvotes": 2, "githubRepo": link, "projectPage": link},
        "organization": {"name": "acme", "fullname": "ACME", "avatar": link},
    }


def _ingest(*args: str) -> str:
    out = StringIO()
    call_command("ingest", *args, "--quiet", stdout=out)
    return out.getvalue().strip()


@pytest.mark.django_db
@pytest.mark.parametrize("link", BAD_LINKS)
def test_hf_daily_file_bad_links_are_dropped_and_counted(tmp_path, link):
    path = tmp_path / "2025-01-03.json"
    path.write_text(json.dumps([_hf_item("2501.00001", link), _hf_item("2501.00002", "https://github.com/a/b")]))
    assert _ingest("hf-daily", str(path)) == "2 new / 0 updated / 0 unchanged / 0 skipped / 3 skipped fields"
    paper = Paper.objects.select_related("organization").get(arxiv_id="2501.00001")
    assert (paper.github_repo, paper.project_page) == ("", "")
    good = Paper.objects.get(arxiv_id="2501.00002")
    assert (good.github_repo, good.project_page) == ("https://github.com/a/b", "https://github.com/a/b")
    assert paper.organization.avatar_url == "https://github.com/a/b"  # the good item's avatar, not the bad one


@pytest.mark.django_db
def test_a_bad_link_does_not_replace_a_good_stored_one(tmp_path):
    path = tmp_path / "2025-01-03.json"
    path.write_text(json.dumps([_hf_item("2501.00001", "https://github.com/a/b")]))
    _ingest("hf-daily", str(path))
    path.write_text(json.dumps([_hf_item("2501.00001", "javascript:alert(1)")]))
    assert _ingest("hf-daily", str(path)).endswith("/ 3 skipped fields")
    assert Paper.objects.get().github_repo == "https://github.com/a/b"
    assert Organization.objects.get().avatar_url == "https://github.com/a/b"


# arXiv's sources have no link fields: the GitHub link is found in the comments or abstract,
# and only a real github.com URL counts.
PAYLOAD = (
    "Code: javascript:alert(1)//github.com/a/b data:text/html,x //github.com/c/d vbscript:x https:// github.com/e/f"
)


def test_a_github_link_is_only_found_as_an_http_url():
    assert find_github_repo(PAYLOAD) is None
    assert find_github_repo(f"{PAYLOAD} see https://github.com/org/repo.") == "https://github.com/org/repo"
    assert find_github_repo("https://github.com/org/" + "r" * 500) is None  # longer than the column


@pytest.mark.django_db
@pytest.mark.parametrize("row", [
    {"id": "0704.0001", "title": "Snapshot", "abstract": PAYLOAD, "comments": PAYLOAD, "authors": "A. Author",
     "categories": "hep-th", "versions": [{"version": "v1", "created": "Mon, 2 Apr 2007 10:00:00 GMT"}]},
    {"id": "2503.00001", "title": "Listing", "abstract": PAYLOAD, "comment": PAYLOAD, "authors": ["A. Author"],
     "categories": ["cs.CL"], "listing_date": "2025-03-18", "githubRepo": "javascript:alert(1)"},
])
def test_jsonl_lines_never_yield_a_bad_link(tmp_path, row):
    path = tmp_path / "papers.jsonl"
    path.write_text(json.dumps(row) + "\n")
    assert _ingest("jsonl", str(path)) == "1 new / 0 updated / 0 unchanged / 0 skipped"
    assert Paper.objects.get().github_repo == ""


@pytest.fixture
def replay(settings):
    server = ReplayServer().start()
    settings.ARXIV_API_URL = f"{server.url}/api/query"
    settings.ARXIV_OAI_URL = f"{server.url}/oai"
    settings.ARXIV_REQUEST_PAUSE_SECONDS = 0
    yield server
    server.stop()


@pytest.mark.django_db
def test_arxiv_api_entries_never_yield_a_bad_link(replay):
    feed = (
        '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">'
        "<opensearch:totalResults>1</opensearch:totalResults><entry><id>http://arxiv.org/abs/2501.00001v1</id>"
        f"<title>T</title><summary>{PAYLOAD}</summary><arxiv:comment>{PAYLOAD}</arxiv:comment>"
        "<published>2025-01-02T00:00:00Z</published></entry></feed>"
    )
    replay.add("/api/query", {"id_list": "2501.00001", "sortBy": "relevance", "sortOrder": "descending",
                              "start": "0", "max_results": "100"}, feed.encode())
    assert _ingest("arxiv-api", "--id-list", "2501.00001") == "1 new / 0 updated / 0 unchanged / 0 skipped"
    assert Paper.objects.get().github_repo == ""


@pytest.mark.django_db
def test_oai_records_never_yield_a_bad_link(replay):
    page = (
        '<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords>'
        "<record><header><identifier>oai:arXiv.org:0704.0001</identifier></header><metadata>"
        '<arXivRaw xmlns="http://arxiv.org/OAI/arXivRaw/"><id>0704.0001</id><title>T</title>'
        f"<comments>{PAYLOAD}</comments><abstract>{PAYLOAD}</abstract></arXivRaw></metadata></record>"
        "</ListRecords></OAI-PMH>"
    )
    replay.add("/oai", {"verb": "ListRecords", "metadataPrefix": "arXivRaw", "from": "2014-10-01"}, page.encode())
    assert _ingest("arxiv-oai", "--from", "2014-10-01") == "1 new / 0 updated / 0 unchanged / 0 skipped"
    assert Paper.objects.get().github_repo == ""


@pytest.mark.parametrize("markdown", [
    "[x](javascript:alert(1))", "[x](JaVaScRiPt:alert(1))", "[x]( javascript:alert(1))",
    "[x](java&#x73;cript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD4=)", "[x](vbscript:msgbox(1))", "<javascript:alert(1)>",
    "[x][r]\n\n[r]: javascript:alert(1)", '<a href="data:text/html,x">raw</a>',
])
def test_comment_links_keep_only_safe_schemes(markdown):
    links = _links(render(markdown))
    assert all(not re.match(r"\s*(javascript|data|vbscript):", link, re.I) for link in links), links


def test_comment_links_keep_http_links():
    assert _links(render("[ok](https://example.org) [bad](javascript:alert(1))")) == ["https://example.org"]


def _links(html: str) -> list[str]:
    """Every href and src in the html, as a browser would read them (entities decoded)."""
    links = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            links.extend(value or "" for name, value in attrs if name in ("href", "src"))

    Parser().feed(html)
    return links


@pytest.mark.django_db(transaction=True)
def test_migration_blanks_stored_bad_links_and_fixes_slugs():
    before, after = [("papers", "0003_organization_hf_name")], [("papers", "0004_refuse_stored_bad_links_and_slugs")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    OldOrganization, OldPaper = old.get_model("papers", "Organization"), old.get_model("papers", "Paper")  # noqa: N806 - classes
    bad_org = OldOrganization.objects.create(slug="foo.bar", name="Foo", avatar_url="javascript:alert(1)")
    good_org = OldOrganization.objects.create(slug="acme", name="ACME", avatar_url="https://example.org/a.png")
    OldPaper.objects.create(arxiv_id="2401.00001", title="Bad", github_repo="javascript:alert(1)//github.com/a/b",
                            project_page="data:text/html,x", organization=bad_org)
    OldPaper.objects.create(arxiv_id="2401.00002", title="Good", github_repo="https://github.com/a/b",
                            project_page="https://example.org", organization=good_org)

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    # Then the later migrations, so the current models below read the rows (and later tests find the
    # whole schema).
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    bad, good = Paper.objects.select_related("organization").order_by("arxiv_id")
    assert (bad.github_repo, bad.project_page) == ("", "")
    assert (good.github_repo, good.project_page) == ("https://github.com/a/b", "https://example.org")
    assert (bad.organization.slug, bad.organization.hf_name, bad.organization.avatar_url) == (
        organization_slug("foo.bar"), "foo.bar", "")
    assert (good.organization.slug, good.organization.hf_name, good.organization.avatar_url) == (
        "acme", "", "https://example.org/a.png")
    assert bad.organization.get_absolute_url().startswith("/organizations/foo-bar-")
