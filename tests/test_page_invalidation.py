"""Scoped invalidation of cached pages (issue 10 item 2): a write refreshes the pages that show what it
changed, on every node (the scope tokens live in the shared cache), and leaves the others cached.

"Still cached" is seen by changing a paper behind the services' back (a bare UPDATE, which refreshes
nothing): a page that still shows the old text was served from the cache."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

from dailypapers import pagecache
from dailypapers.community import services as community
from dailypapers.papers.models import DailyEntry, Paper
from dailypapers.search import selectors as search_selectors
from dailypapers.search import services as search_services
from dailypapers.search.keyword import Filters

pytestmark = pytest.mark.django_db


def _retitle_behind_the_cache(arxiv_id: str, title: str) -> None:
    Paper.objects.filter(arxiv_id=arxiv_id).update(title=title)


def _shows(client, url: str, text: str) -> bool:
    return text in client.get(url).content.decode()


def _rank(client, arxiv_id: str) -> str:
    return re.search(r"#(\d+) paper of the day", client.get(f"/papers/{arxiv_id}").content.decode())[1]


def test_a_vote_refreshes_the_papers_pages_and_lists_and_leaves_unrelated_pages_cached(client, three_days):
    voter = get_user_model().objects.create_user("voter", password="pw-for-tests-only")
    related = ["/papers/2603.00004", "/papers/2603.00003", "/papers/date/2026-03-16", "/papers/week/2026-W12",
               "/papers/month/2026-03", "/papers/trending"]
    unrelated = ["/papers/2603.00001", "/papers/hep-th/9901001", "/papers/date/2026-03-13", "/papers"]
    for url in related + unrelated:
        assert client.get(url).status_code == 200  # now cached
    assert _rank(client, "2603.00003") == "2" and _rank(client, "2603.00004") == "3"  # 12 votes each, 00003 first in
    for arxiv_id in ("2603.00001", "2603.00003", "2603.00005", "hep-th/9901001"):
        _retitle_behind_the_cache(arxiv_id, f"Retitled {arxiv_id}")

    voted, upvotes = community.toggle_vote(user=voter, paper=Paper.objects.get(arxiv_id="2603.00004"))

    assert (voted, upvotes) == (True, 13)
    # The voted paper's page, and the page of a paper on the same day (its rank moved behind it).
    assert _rank(client, "2603.00004") == "2" and _rank(client, "2603.00003") == "3"
    assert _shows(client, "/papers/2603.00003", "Retitled 2603.00003")
    # The lists it is on: its day, week and month, and trending.
    for url in related[2:]:
        assert _shows(client, url, "Retitled 2603.00003"), url
    # Pages that do not show it stay cached: another day's paper, a paper on no list, another day's
    # list, and the newest list (Mar 17, which it is not on).
    assert _shows(client, "/papers/2603.00001", "Paper 2603.00001")
    assert _shows(client, "/papers/hep-th/9901001", "An old-style paper")
    assert _shows(client, "/papers/date/2026-03-13", "Paper 2603.00001")
    assert _shows(client, "/papers", "Paper 2603.00005")


def test_a_comment_refreshes_its_papers_page_and_count_on_its_lists(client, three_days):
    author = get_user_model().objects.create_user("writer", password="pw-for-tests-only")
    paper = Paper.objects.get(arxiv_id="2603.00005")
    assert client.get("/papers").status_code == client.get("/papers/2603.00001").status_code == 200
    _retitle_behind_the_cache("2603.00001", "Retitled 2603.00001")
    community.post_comment(user=author, paper=paper, body="A first comment, on the newest list.")
    assert _shows(client, "/papers/2603.00005", "A first comment, on the newest list.")
    assert _shows(client, "/papers", '> 1<span class="sr-only"> comment')  # the newest list is refreshed
    assert _shows(client, "/papers/2603.00001", "Paper 2603.00001")  # another day's paper stays cached


def test_removing_an_entry_in_the_admin_stamps_modified_at_so_the_listed_filter_follows(client, three_days):
    staff = get_user_model().objects.create_user("mod", password="pw-for-tests-only", is_staff=True, is_superuser=True)
    search_services.index_keywords(rebuild=True)
    paper = Paper.objects.get(arxiv_id="2603.00005")
    listed = Filters(listed_only=True)
    found = [c.paper.arxiv_id for c in search_selectors.search_papers(query="Paper", filters=listed).cards]
    assert "2603.00005" in found
    assert _shows(client, "/papers/date/2026-03-17", 'data-arxiv-id="2603.00005"')  # cached
    before = paper.modified_at

    admin = client.__class__()
    admin.force_login(staff)
    entry = DailyEntry.objects.get(paper=paper)
    response = admin.post("/admin/papers/dailyentry/", {"action": "remove_from_list", "_selected_action": [entry.pk]})

    assert response.status_code == 302 and not DailyEntry.objects.filter(paper=paper).exists()
    paper.refresh_from_db()
    assert paper.modified_at > before
    search_services.index_keywords()  # what the background indexer runs
    found = [c.paper.arxiv_id for c in search_selectors.search_papers(query="Paper", filters=listed).cards]
    assert "2603.00005" not in found and "2603.00002" in found
    # The emptied day's cached page is refreshed, and the newest list is now Mar 16.
    assert not _shows(client, "/papers/date/2026-03-17", 'data-arxiv-id="2603.00005"')
    assert _shows(client, "/papers", "Mar 16, 2026")


def test_an_evicted_scope_token_never_brings_back_an_older_page(client, three_days):
    assert _shows(client, "/papers/2603.00001", "Paper 2603.00001")
    _retitle_behind_the_cache("2603.00001", "Retitled 2603.00001")
    paper = Paper.objects.get(arxiv_id="2603.00001")
    # The shared cache loses the paper's token (evicted, culled); this node's memory still has the page.
    cache.delete(pagecache._key(pagecache.paper_scope(paper.pk)))
    assert _shows(client, "/papers/2603.00001", "Retitled 2603.00001")


def test_bibtex_exports_follow_their_pages_scopes(client, three_days):
    voter = get_user_model().objects.create_user("voter", password="pw-for-tests-only")

    def eprints(url: str) -> list[str]:
        return re.findall(r"eprint\s*=\s*\{([^}]+)\}", client.get(url).content.decode())

    assert eprints("/papers/date/2026-03-16.bib") == ["2603.00002", "2603.00003", "2603.00004"]
    assert "Paper 2603.00001" in client.get("/papers/2603.00001.bib").content.decode()
    _retitle_behind_the_cache("2603.00001", "Retitled 2603.00001")
    community.toggle_vote(user=voter, paper=Paper.objects.get(arxiv_id="2603.00004"))
    assert eprints("/papers/date/2026-03-16.bib") == ["2603.00002", "2603.00004", "2603.00003"]  # the list's order
    assert "Paper 2603.00001" in client.get("/papers/2603.00001.bib").content.decode()  # another day's: cached
