"""What Hugging Face's client sees of our HF-compatible API, compared with Hugging Face's own recorded
responses (tests/fixtures/hf: real /api/daily_papers days): key sets and value types per object,
the values an import carries through, and the HTTP details (issue 12, items 10-14)."""

import json
import os
import re
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
from django.contrib.auth import get_user_model
from django.db import connection
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError

from dailypapers.api.serializers import CLIENT_TOP_LEVEL_KEYS, highlighted, object_id
from dailypapers.community.models import AuthorshipClaim, Comment
from dailypapers.papers.models import HubUser, Paper
from dailypapers.papers.records import DailyRecord, HubUserRecord, PaperRecord
from dailypapers.papers.services import list_paper, upsert_papers
from dailypapers.papers.sources import hf_daily
from dailypapers.search import services as search_services
from dailypapers.security import CollapseLeadingSlashesMiddleware

from .helpers import _at, load_three_days


def load_searchable() -> None:
    load_three_days()
    search_services.index_keywords(rebuild=True)

FIXTURES = Path(__file__).parent / "fixtures" / "hf"
HEX24 = re.compile(r"[0-9a-f]{24}")


def recorded(day: str) -> list[dict]:
    return json.loads((FIXTURES / f"{day}.json").read_text())


def import_day(day: str) -> None:
    stats = upsert_papers(records=hf_daily.read_files(paths=[FIXTURES / f"{day}.json"]))
    assert stats.skipped == 0


def types(obj: dict) -> dict:
    return {key: type(value).__name__ for key, value in obj.items()}


# --- Shapes, through Django's test client --------------------------------------


def test_daily_items_have_hugging_faces_shape_and_values(client, db):
    """2026-08-21, imported and served back: every object has Hugging Face's keys (the thumbnail we
    have none of is left out; the documented client extras are added) with the same types, and the
    values an import carries are Hugging Face's own."""
    import_day("2026-08-21")
    ours = {i["paper"]["id"]: i for i in client.get("/api/daily_papers?date=2026-08-21&limit=100").json()}
    theirs = {i["paper"]["id"]: i for i in recorded("2026-08-21")}
    assert set(ours) == set(theirs)
    for arxiv_id, hf in theirs.items():
        item = ours[arxiv_id]
        paper, hf_paper = item["paper"], hf["paper"]
        extras = {k for k in CLIENT_TOP_LEVEL_KEYS if k in paper}
        assert set(item) == set(hf) - {"thumbnail"} | extras, arxiv_id
        assert types(item) == {k: v for k, v in types(hf).items() if k != "thumbnail"} | types(
            {k: item[k] for k in extras}
        )
        assert set(paper) == set(hf_paper) and types(paper) == types(hf_paper), arxiv_id
        # Item 11: the top-level publishedAt is Hugging Face's, to the millisecond.
        assert item["publishedAt"] == hf["publishedAt"]
        for key in ("publishedAt", "submittedOnDailyAt", "title", "upvotes", "ai_summary", "ai_keywords",
                    "ai_summary_model", "githubRepo", "githubRepoAddedBy", "githubStars", "projectPage", "mediaUrls"):
            assert paper.get(key) == hf_paper.get(key), (arxiv_id, key)
        assert item.get("mediaUrls") == hf.get("mediaUrls")
        # Item 12: ids are 24 hex digits; the discussion's is ours, not the arXiv id.
        assert HEX24.fullmatch(paper["discussionId"]) and paper["discussionId"] == object_id("discussion", arxiv_id)
        # Item 10: the submitter as Hugging Face described them, id included.
        by, hf_by = paper["submittedOnDailyBy"], hf_paper["submittedOnDailyBy"]
        assert set(by) == set(hf_by) and types(by) == types(hf_by)
        assert {k: by[k] for k in ("_id", "fullname", "user", "name", "isPro")} == {
            k: hf_by[k] for k in ("_id", "fullname", "user", "name", "isPro")
        }
        # HF's default avatars are paths on its site: we send them whole, or they would resolve to us.
        assert by["avatarUrl"] == urljoin("https://huggingface.co/", hf_by["avatarUrl"])
        top_by, hf_top_by = item["submittedBy"], {k: v for k, v in hf["submittedBy"].items() if k != "followerCount"}
        assert set(top_by) == set(hf_top_by) and types(top_by) == types(hf_top_by)
        assert top_by["fullname"] == hf_top_by["fullname"] and top_by["_id"] == hf_top_by["_id"]
        assert set(item["organization"]) == set(hf["organization"]) and HEX24.fullmatch(item["organization"]["_id"])
        for author, hf_author in zip(paper["authors"], hf_paper["authors"], strict=True):
            if "user" not in hf_author:  # HF's claims are HF's; ours come from claims made here
                assert set(author) == set(hf_author) and types(author) == types(hf_author)
                assert author["name"] == hf_author["name"] and HEX24.fullmatch(author["_id"])


def test_optional_keys_are_left_out_not_null(client, db):
    load_three_days()
    for item in client.get("/api/daily_papers").json():
        assert None not in item.values() and None not in item["paper"].values(), item["paper"]["id"]
        assert "thumbnail" not in item
    p1 = client.get("/api/papers/2603.00001").json()
    assert not {"githubRepo", "githubStars", "projectPage", "ai_summary", "mediaUrls", "organization"} & set(p1)
    org = client.get("/api/papers/2603.00002").json()["organization"]
    assert set(org) == {"_id", "name", "fullname"}  # no avatar: no key
    # Stable ids: the same on every request.
    assert client.get("/api/papers/2603.00002").json()["authors"] == client.get("/api/papers/2603.00002").json()[
        "authors"
    ]


def test_top_level_published_at_is_the_arxiv_time_on_a_new_york_clock(client, db):
    """Hugging Face's rule, in winter (UTC-5) and summer (UTC-4); the listing's time is in paper.submittedOnDailyAt."""
    load_three_days()
    item = client.get("/api/daily_papers?date=2026-03-16").json()[0]
    assert item["paper"]["publishedAt"] == "2026-03-10T12:00:00.000Z"  # New York on EDT (UTC-4) since 03-08
    assert item["publishedAt"] == "2026-03-10T08:00:00.000Z"
    assert item["paper"]["submittedOnDailyAt"] == "2026-03-16T09:00:00.000Z"
    winter = datetime(2026, 3, 2, 17, 51, 45, tzinfo=timezone.utc)
    Paper.objects.filter(arxiv_id="2603.00002").update(published_at=winter)
    assert client.get("/api/daily_papers?date=2026-03-16").json()[0]["publishedAt"] == "2026-03-02T12:51:45.000Z"


def test_highlighting_marks_query_words_and_escapes_the_rest():
    assert highlighted("Diffusion <b>models</b> & diffusers", query="diffus model") == (
        '<span class="highlight">Diffusion</span> &lt;b&gt;<span class="highlight">models</span>&lt;/b&gt; '
        '&amp; <span class="highlight">diffusers</span>'
    )
    assert highlighted("<script>x</script>", query="a") == "&lt;script&gt;x&lt;/script&gt;"
    assert highlighted('a "quoted" <img src=x onerror=1>', query="img") == (
        'a &quot;quoted&quot; &lt;<span class="highlight">img</span> src=x onerror=1&gt;'
    )


def test_search_items_and_empty_query(client, db):
    load_searchable()
    assert client.get("/api/papers/search").json() == []
    assert client.get("/api/papers/search?q=").json() == []
    items = client.get("/api/papers/search?q=Top paper").json()
    top = items[0]
    assert top["paper"]["id"] == "2603.00002"
    assert top["submittedOnDailyAt"] == "2026-03-16T09:00:00.000Z" and top["submittedBy"]["name"] == "akhaliq"
    assert top["highlightedTitle"] == (
        '<span class="highlight">Top</span> <span class="highlight">paper</span> with $\\alpha$ math'
    )
    assert top["highlightedSummary"].startswith("Abstract of 2603.00002")
    old = client.get("/api/papers/search?q=An old-style paper").json()[0]
    assert old["paper"]["id"] == "hep-th/9901001" and "submittedBy" not in old and "submittedOnDailyAt" not in old


def test_markdown_refusals_are_plain_text(client, db):
    load_three_days()
    Paper.objects.filter(arxiv_id="2603.00002").update(version=1)
    for path in ("/papers/2699.99999.md", "/papers/not-an-id.md", "/papers/2603.00002v99.md", "/papers/1399.00001.md"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"] == "text/plain; charset=utf-8" and b"<" not in response.content


def test_version_beyond_the_latest_is_refused(client, db):
    """A version beyond the latest we know is refused; when we know none, any version names the paper."""
    load_three_days()
    Paper.objects.filter(arxiv_id="2603.00002").update(version=2)
    assert client.get("/papers/2603.00002v2").status_code == 301
    for path in ("/papers/2603.00002v3", "/api/papers/2603.00002v99"):
        response = client.get(path)
        assert response.status_code == 404 and b"latest arXiv version known here is v2" in response.content, path
    assert "no version 99" in client.get("/api/papers/2603.00002v99").json()["error"]


def test_accept_markdown_on_the_paper_page(client, db):
    load_three_days()
    html = client.get("/papers/2603.00002")  # cached for anonymous visitors from now on
    assert html["Content-Type"].startswith("text/html") and "Accept" in html["Vary"]
    markdown = client.get("/papers/2603.00002", HTTP_ACCEPT="text/markdown")
    assert markdown["Content-Type"] == "text/markdown; charset=utf-8" and "Accept" in markdown["Vary"]
    assert markdown.content.decode() == client.get("/papers/2603.00002.md").content.decode()
    again = client.get("/papers/2603.00002", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert again["Content-Type"].startswith("text/html") and b"<html" in again.content
    assert client.get("/papers/2603.00002", HTTP_ACCEPT="text/markdown")["Content-Type"].startswith("text/markdown")


def test_leading_double_slashes_are_collapsed_in_the_request(rf):
    seen = []
    middleware = CollapseLeadingSlashesMiddleware(lambda request: seen.append(request) or HttpResponse())
    for raw, routed in (("//api/daily_papers", "/api/daily_papers"), ("///evil.example/x", "/evil.example/x"),
                        ("/papers//x", "/papers//x")):
        request = rf.get("/")
        request.path_info = request.path = raw
        assert "Location" not in middleware(request)
        assert seen[-1].path_info == seen[-1].path == routed


# --- The real huggingface_hub client and `hf papers` CLI against a live server --


@pytest.fixture
def hf(live_server, transactional_db):
    return HfApi(endpoint=live_server.url, token=False)


@pytest.mark.django_db(transaction=True)
def test_client_sees_submitters_full_names(hf, live_server):
    """Hugging Face's own client test: submitter="akhaliq" is "AK" (recorded 2024-09-16 list)."""
    import_day("2024-09-16")
    papers = list(hf.list_daily_papers(date="2024-09-16", submitter="akhaliq"))
    assert papers and {p.submitted_by.fullname for p in papers} == {"AK"}
    assert papers[0].submitted_by.avatar_url.startswith("https://cdn-avatars.huggingface.co/")
    # A user of this site: their name as they gave it, or their user name.
    user = get_user_model().objects.create_user("ada", first_name="Ada", last_name="Lovelace")
    paper = Paper.objects.get(arxiv_id=papers[0].id)
    list_paper(paper=paper, day=date(2024, 9, 17), submitted_at=datetime(2024, 9, 17, 9, tzinfo=timezone.utc),
               submitted_by=user, source="community")
    mine = list(hf.list_daily_papers(date="2024-09-17"))[0].submitted_by
    assert (mine.fullname, mine.username, mine.is_pro) == ("Ada Lovelace", "", False)  # no `user` in submittedBy
    info = hf.paper_info(papers[0].id)  # the first listing: Hugging Face's
    assert info.submitted_by.fullname == "AK" and info.submitted_by.username == "akhaliq"

    env = dict(os.environ, HF_ENDPOINT=live_server.url, HF_HUB_DISABLE_TELEMETRY="1", NO_COLOR="1")
    cli = Path(sys.executable).with_name("hf")
    out = subprocess.run([str(cli), "papers", "ls", "--date", "2024-09-16", "--submitter", "akhaliq"],
                         capture_output=True, text=True, env=env, timeout=120, check=True).stdout
    assert "AK" in out and "akhaliq" not in out


@pytest.mark.django_db(transaction=True)
def test_client_sees_published_at_ids_media_and_claims(hf):
    import_day("2026-08-21")
    top = next(p for p in hf.list_daily_papers(date="2026-08-21") if p.id == "2608.20281")
    assert top.submitted_at.isoformat() == "2026-08-19T20:00:00+00:00"  # Hugging Face's value
    assert top.published_at.isoformat() == "2026-08-20T00:00:00+00:00"
    assert HEX24.fullmatch(top.discussion_id) and top.mediaUrls == recorded("2026-08-21")[10]["mediaUrls"]
    assert top.isAuthorParticipating is False
    # A verified claim and a comment by the claimant: the client sees the author's user and status.
    user = get_user_model().objects.create_user("grace", first_name="Grace", last_name="Hopper")
    paper = Paper.objects.get(arxiv_id="2608.20281")
    authorship = paper.authorships.get(position=1)
    AuthorshipClaim.objects.create(user=user, authorship=authorship, status=AuthorshipClaim.Status.APPROVED,
                                   decided_at=datetime(2026, 8, 22, tzinfo=timezone.utc))
    Comment.objects.create(paper=paper, author=user, body="Author here.", body_html="<p>Author here.</p>")
    top = next(p for p in hf.list_daily_papers(date="2026-08-21") if p.id == "2608.20281")
    assert top.isAuthorParticipating is True
    claimed = top.authors[1]
    assert claimed.user.fullname == "Grace Hopper" and claimed.user.username == "grace"
    assert claimed.status == "claimed_verified" and claimed.status_last_changed_at.year == 2026
    assert top.authors[0].user is None and top.authors[0].status is None
    info = hf.paper_info("2608.20281")
    assert info.authors[1].user.username == "grace"


@pytest.mark.django_db(transaction=True)
def test_client_search_and_http_details(hf, live_server):
    load_searchable()
    found = list(hf.list_papers(query="Top paper"))
    assert found[0].id == "2603.00002" and found[0].submitted_by.fullname == "akhaliq"
    assert found[0].highlightedTitle.startswith('<span class="highlight">Top</span>')
    assert list(hf.list_papers()) == []  # no query: nothing, not an error
    # An endpoint with a trailing slash: the client asks for //api/...
    slashed = HfApi(endpoint=live_server.url + "/", token=False)
    assert [p.id for p in slashed.list_daily_papers(date="2026-03-16")][:1] == ["2603.00002"]
    assert slashed.paper_info("2603.00002").id == "2603.00002"
    assert slashed.read_paper("2603.00002").startswith("# Top paper")
    Paper.objects.filter(arxiv_id="2603.00002").update(version=1)
    with pytest.raises(HfHubHTTPError) as v99:
        hf.paper_info("2603.00002v99")
    assert v99.value.response.status_code == 404 and "no version 99" in v99.value.response.json()["error"]
    with pytest.raises(HfHubHTTPError) as md404:
        hf.read_paper("2699.99999")
    assert md404.value.response.headers["Content-Type"].startswith("text/plain")
    for path in ("//evil.example/papers", "//evil.example", "//api/daily_papers"):  # no redirect elsewhere
        response = requests.get(live_server.url + path, allow_redirects=False, timeout=10)
        assert "evil" not in response.headers.get("Location", ""), path
    page = requests.get(f"{live_server.url}/papers/2603.00002", headers={"Accept": "text/markdown"}, timeout=10)
    assert page.headers["Content-Type"].startswith("text/markdown") and "Accept" in page.headers["Vary"]
    assert page.text == hf.read_paper("2603.00002")


def test_submitter_profiles_newest_list_wins_and_bad_values_are_dropped(db):
    def listed(day: str, arxiv_id: str, **profile) -> PaperRecord:
        return PaperRecord(arxiv_id=arxiv_id, title=f"P {arxiv_id}", daily=DailyRecord(
            day=date.fromisoformat(day), submitted_at=_at(day), submitter_name="ak", submitter=HubUserRecord(**profile),
        ))

    upsert_papers(records=[listed("2026-03-17", "2603.00001", fullname="AK", avatar_url="/avatars/a.svg",
                                  hf_id="60f1abe7544c2adfd699860c", is_pro=True)])
    upsert_papers(records=[listed("2026-03-16", "2603.00002", fullname="Old name")])  # an older list, later
    ak = HubUser.objects.get(name="ak")
    assert (ak.fullname, ak.avatar_url, ak.is_pro) == ("AK", "/avatars/a.svg", True)
    assert ak.hf_id == "60f1abe7544c2adfd699860c"
    bad = listed("2026-03-18", "2603.00003", fullname="AK", avatar_url="javascript:alert(1)", hf_id="not-hex")
    assert set(bad.skipped_fields) == {"daily.submitter.avatar_url", "daily.submitter.hf_id"}
    upsert_papers(records=[bad])
    ak.refresh_from_db()
    assert (ak.fullname, ak.avatar_url, ak.hf_id, ak.seen_on) == ("AK", "", "", date(2026, 3, 18))


def test_queries_do_not_grow_with_the_items(client, db):
    import_day("2026-08-21")
    user = get_user_model().objects.create_user("grace")
    for paper in Paper.objects.all():
        AuthorshipClaim.objects.create(user=user, authorship=paper.authorships.order_by("position").first(),
                                       status=AuthorshipClaim.Status.APPROVED)
    search_services.index_keywords(rebuild=True)
    counts, sizes = [], []
    for path in ("/api/daily_papers?date=2026-08-21&limit=2", "/api/daily_papers?date=2026-08-21&limit=17",
                 "/api/papers/search?q=agents&limit=2", "/api/papers/search?q=agents&limit=6"):
        with CaptureQueriesContext(connection) as queries:
            sizes.append(len(client.get(path).json()))
        counts.append(len(queries))
    assert sizes == [2, 17, 2, 6]
    assert counts[0] == counts[1] and counts[2] == counts[3], counts


def test_ai_summary_model_names_the_model_that_wrote_the_summary_sent(client, db):
    load_three_days()
    Paper.objects.filter(arxiv_id="2603.00001").update(llm_summary="Ours.", llm_summary_model="local/tiny-lm")
    body = client.get("/api/papers/2603.00001").json()
    assert (body["ai_summary"], body["ai_summary_model"]) == ("Ours.", "local/tiny-lm")
    Paper.objects.filter(arxiv_id="2603.00001").update(ai_summary="Theirs.", ai_summary_model="hf/model")
    body = client.get("/api/papers/2603.00001").json()
    assert (body["ai_summary"], body["ai_summary_model"]) == ("Theirs.", "hf/model")
