"""The Hugging Face-compatible API: /api/daily_papers, /api/papers/<id> and /papers/<id>.md,
through Django's test client (shapes, errors, Link header) and the real huggingface_hub client."""

import re
from datetime import date

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import BadRequestError, HfHubHTTPError

from dailypapers.papers.records import DailyRecord, PaperRecord
from dailypapers.papers.services import upsert_papers

from .helpers import _at, load_three_days

# Every listing of the data below, newest day first, each day most upvoted first:
# Tue 03-17: 00005 (3)
# Mon 03-16: 00002 (40, acme-ai), 00003 (12, 08:00), 00004 (12, 10:00), 00020 (1, by taesiri)
# Fri 03-13: 00001 (5)
LATEST = ["2603.00005", "2603.00002", "2603.00003", "2603.00004", "2603.00020", "2603.00001"]


def load_data() -> None:
    load_three_days()
    upsert_papers(records=[
        PaperRecord(
            arxiv_id="2603.00020", version=2, title="A paper taesiri submitted", abstract="Abstract twenty.",
            authors=["Grace Hopper"], categories=["cs.AI"], published_at=_at("2026-03-12"), upvotes=1,
            ai_summary="One line.", ai_keywords=["compilers"], project_page="https://example.org/p20",
            daily=DailyRecord(day=date(2026, 3, 16), submitted_at=_at("2026-03-16", 11), submitter_name="taesiri"),
        ),
    ])


@pytest.fixture
def data(db):
    load_data()


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["paper"]["id"] for item in response.json()]


def next_link(response) -> str | None:
    match = re.fullmatch(r'<(.+)>; rel="next"', response.headers.get("Link", ""))
    return match[1] if match else None


# --- Through Django's test client -------------------------------------------


def test_default_is_the_newest_listings_across_days(client, data):
    response = client.get("/api/daily_papers")
    assert response["Content-Type"] == "application/json"
    assert ids(response) == LATEST
    assert next_link(response) is None


def test_date_week_month(client, data):
    assert ids(client.get("/api/daily_papers?date=2026-03-16")) == LATEST[1:5]
    assert ids(client.get("/api/daily_papers?date=2026-03-14")) == []  # a Saturday: no list
    assert ids(client.get("/api/daily_papers?week=2026-W12")) == [
        "2603.00002", "2603.00003", "2603.00004", "2603.00005", "2603.00020",
    ]
    assert ids(client.get("/api/daily_papers?week=2026-W11")) == ["2603.00001"]
    assert ids(client.get("/api/daily_papers?month=2026-03")) == [
        "2603.00002", "2603.00003", "2603.00004", "2603.00001", "2603.00005", "2603.00020",
    ]
    assert ids(client.get("/api/daily_papers?month=2026-02")) == []


def test_submitter_and_sort(client, data):
    assert ids(client.get("/api/daily_papers?submitter=taesiri")) == ["2603.00020"]
    assert ids(client.get("/api/daily_papers?submitter=TAESIRI&date=2026-03-16")) == ["2603.00020"]
    assert ids(client.get("/api/daily_papers?submitter=akhaliq&date=2026-03-16")) == LATEST[1:4]
    assert ids(client.get("/api/daily_papers?submitter=nobody")) == []
    # Trending: upvotes / (hours since listed + 2)^1.5, as of the newest listing (Tue 12:00).
    trending = ["2603.00005", "2603.00002", "2603.00004", "2603.00003", "2603.00020", "2603.00001"]
    assert ids(client.get("/api/daily_papers?sort=trending")) == trending
    assert ids(client.get("/api/daily_papers?sort=trending&week=2026-W12")) == [
        "2603.00005", "2603.00002", "2603.00004", "2603.00003", "2603.00020",
    ]
    assert ids(client.get("/api/daily_papers?sort=publishedAt")) == LATEST


def test_pages_and_link_header(client, data):
    seen, url, pages = [], "/api/daily_papers?limit=2&submitter=", 0
    while url:
        response = client.get(url)
        seen += ids(response)
        pages += 1
        url = next_link(response)
        if url:
            assert url.startswith("http://testserver/api/daily_papers?")
            assert "limit=2" in url and f"p={pages}" in url and "submitter=" in url
    assert seen == LATEST and pages == 3  # six items, two a page: no fourth page
    assert ids(client.get("/api/daily_papers?limit=4&p=1")) == LATEST[4:]
    assert ids(client.get("/api/daily_papers?p=1")) == []
    assert ids(client.get("/api/daily_papers?p=99999999999999999999")) == []
    # Pages of a period.
    first = client.get("/api/daily_papers?date=2026-03-16&limit=3")
    assert ids(first) == LATEST[1:4]
    assert next_link(first) == "http://testserver/api/daily_papers?date=2026-03-16&limit=3&p=1"
    last = client.get("/api/daily_papers?date=2026-03-16&limit=3&p=1")
    assert ids(last) == ["2603.00020"] and next_link(last) is None


def test_limit_default_and_bounds(client, db):
    upsert_papers(records=[
        PaperRecord(arxiv_id=f"2603.{i:05d}", title=f"P{i}", upvotes=i,
                    daily=DailyRecord(day=date(2026, 3, 16), submitted_at=_at("2026-03-16")))
        for i in range(1, 106)
    ])
    first = client.get("/api/daily_papers")
    assert len(first.json()) == 50 and next_link(first).endswith("p=1")
    assert len(client.get("/api/daily_papers?limit=100").json()) == 100
    assert len(client.get("/api/daily_papers?limit=100&p=1").json()) == 5


@pytest.mark.parametrize("query, word", [
    ("date=2026-13-01", "date"), ("date=yesterday", "date"), ("date=", "date"), ("date=2026-3-1", "date"),
    ("week=2026-W60", "week"), ("week=2026-12", "week"), ("month=2026-13", "month"), ("month=2026", "month"),
    ("limit=0", "limit"), ("limit=101", "limit"), ("limit=ten", "limit"), ("p=-1", "p"), ("p=x", "p"),
    ("sort=votes", "sort"), ("date=2026-03-16&week=2026-W12", "only one"), ("submitter=" + "x" * 151, "submitter"),
])
def test_bad_parameters_are_400_with_an_error(client, db, query, word):
    response = client.get(f"/api/daily_papers?{query}")
    assert response.status_code == 400
    assert list(response.json()) == ["error"] and word in response.json()["error"]


def test_list_item_shape(client, data):
    item = client.get("/api/daily_papers?date=2026-03-16").json()[0]
    assert set(item) == {
        "paper", "publishedAt", "title", "summary", "numComments", "organization", "isAuthorParticipating",
        "submittedBy", "githubRepo", "githubStars",
    }
    paper = item["paper"]
    assert paper["id"] == "2603.00002"
    assert [(a["name"], a["hidden"]) for a in paper["authors"]] == [("Ada Lovelace", False), ("Alan Turing", False)]
    assert paper["upvotes"] == 40 and paper["title"] == item["title"] == "Top paper with $\\alpha$ math"
    assert paper["publishedAt"] == "2026-03-10T12:00:00.000Z"
    assert item["publishedAt"] == "2026-03-10T08:00:00.000Z"  # as Hugging Face sends it: New York time
    assert paper["submittedOnDailyAt"] == "2026-03-16T09:00:00.000Z"
    assert paper["submittedOnDailyBy"]["user"] == item["submittedBy"]["name"] == "akhaliq"
    assert item["organization"] == paper["organization"]
    assert {k: v for k, v in paper["organization"].items() if k != "_id"} == {"name": "acme-ai", "fullname": "ACME AI"}
    assert item["githubRepo"] == "https://github.com/acme/top" and item["githubStars"] == 1234


def test_paper_info_shape_and_ids(client, data):
    response = client.get("/api/papers/2603.00020")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "id", "authors", "publishedAt", "title", "summary", "upvotes", "discussionId", "ai_summary", "ai_keywords",
        "projectPage", "numComments", "submittedOnDailyAt", "submittedOnDailyBy",
    }
    assert body["id"] == "2603.00020" and [a["name"] for a in body["authors"]] == ["Grace Hopper"]
    assert body["ai_summary"] == "One line." and body["ai_keywords"] == ["compilers"]
    assert body["submittedOnDailyAt"] == "2026-03-16T11:00:00.000Z"
    assert body["submittedOnDailyBy"]["name"] == "taesiri"
    # A versioned id, an arXiv URL, an old-style id with a slash, a never-listed paper.
    assert client.get("/api/papers/2603.00020v2").json()["id"] == "2603.00020"
    assert client.get("/api/papers/arXiv:2603.00020v1").json()["id"] == "2603.00020"
    old = client.get("/api/papers/hep-th/9901001").json()
    assert old["id"] == "hep-th/9901001" and old["title"] == "An old-style paper"
    assert "submittedOnDailyAt" not in old


@pytest.mark.parametrize("path", ["/api/papers/2699.99999", "/api/papers/not-an-id", "/api/papers/hep-th/0000001v0"])
def test_paper_info_404(client, data, path):
    response = client.get(path)
    assert response.status_code == 404
    assert list(response.json()) == ["error"]


def test_search_and_similar_routes_still_win(client, data):
    assert client.get("/api/papers/search").json() == []  # the search view: no query, no results
    assert client.get("/api/papers/2603.00002/similar").status_code == 200


# --- The real huggingface_hub client against a live server ------------------


@pytest.fixture
def hf(live_server, transactional_db):
    load_data()
    return HfApi(endpoint=live_server.url, token=False)


@pytest.mark.django_db(transaction=True)
def test_client_lists_daily_papers(hf):
    papers = list(hf.list_daily_papers(date="2026-03-16"))
    assert [p.id for p in papers] == LATEST[1:5]
    top = papers[0]
    assert top.title == "Top paper with $\\alpha$ math"
    assert [a.name for a in top.authors] == ["Ada Lovelace", "Alan Turing"]
    assert top.upvotes == 40 and top.comments == 0
    assert top.published_at.isoformat() == "2026-03-10T12:00:00+00:00"
    # What Hugging Face's top-level publishedAt is: the arXiv time on a New York clock (README).
    assert top.submitted_at.isoformat() == "2026-03-10T08:00:00+00:00"
    assert top.submitted_by.fullname == "akhaliq"  # no profile imported: the name
    assert top.organization.name == "acme-ai" and top.organization.fullname == "ACME AI"
    assert top.github_repo == "https://github.com/acme/top" and top.github_stars == 1234
    p20 = papers[3]
    assert p20.ai_summary == "One line." and p20.ai_keywords == ["compilers"]
    assert p20.project_page == "https://example.org/p20"

    assert [p.id for p in hf.list_daily_papers()] == LATEST
    assert [p.id for p in hf.list_daily_papers(week="2026-W11")] == ["2603.00001"]
    assert [p.id for p in hf.list_daily_papers(month="2026-03")][:2] == ["2603.00002", "2603.00003"]
    assert [p.id for p in hf.list_daily_papers(submitter="taesiri")] == ["2603.00020"]
    assert [p.id for p in hf.list_daily_papers(sort="trending")][:2] == ["2603.00005", "2603.00002"]
    assert [p.id for p in hf.list_daily_papers(sort="publishedAt")] == LATEST
    assert [p.id for p in hf.list_daily_papers(p=1, limit=2)] == LATEST[2:4]
    assert [p.id for p in hf.list_daily_papers(date="2026-03-16", p=1, limit=3)] == ["2603.00020"]


@pytest.mark.django_db(transaction=True)
def test_client_bad_date_raises_bad_request(hf):
    with pytest.raises(BadRequestError) as info:
        list(hf.list_daily_papers(date="2026-02-30"))
    assert info.value.response.status_code == 400
    assert "is not a date" in info.value.response.json()["error"]
    with pytest.raises(BadRequestError):
        list(hf.list_daily_papers(limit=500))


@pytest.mark.django_db(transaction=True)
def test_client_paper_info_and_read_paper(hf):
    info = hf.paper_info("2603.00002")
    assert info.id == "2603.00002" and info.title == "Top paper with $\\alpha$ math"
    assert [a.name for a in info.authors] == ["Ada Lovelace", "Alan Turing"]
    assert info.upvotes == 40 and re.fullmatch(r"[0-9a-f]{24}", info.discussion_id)
    assert info.organization.name == "acme-ai" and info.github_stars == 1234
    assert hf.paper_info("2603.00020v2").id == "2603.00020"
    assert hf.paper_info("hep-th/9901001").title == "An old-style paper"
    with pytest.raises(HfHubHTTPError) as info404:
        hf.paper_info("2699.99999")
    assert info404.value.response.status_code == 404

    text = hf.read_paper("2603.00002")
    assert text.startswith("# Top paper with $\\alpha$ math")
    assert "Ada Lovelace, Alan Turing" in text and "2603.00002" in text
    assert "Abstract of 2603.00002" in hf.read_paper("2603.00002v1")  # redirected to the versionless page
    with pytest.raises(HfHubHTTPError) as md404:
        hf.read_paper("2699.99999")
    assert md404.value.response.status_code == 404
