"""The native API (django-ninja, /api/v1/...): reads, paging, the one error shape, personal API
tokens (made and revoked on /settings/tokens), authenticated votes, submissions and comments,
and the anonymous rate limit."""

import hashlib
import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from dailypapers.api.models import ApiToken
from dailypapers.api.services import create_token
from dailypapers.community.models import Ban, Comment, Vote
from dailypapers.papers.models import Paper
from dailypapers.papers.records import OrganizationRecord
from dailypapers.papers.services import upsert_papers
from dailypapers.search import services as search_services

from .helpers import _at, load_three_days, make_paper

pytestmark = pytest.mark.django_db

V1 = "/api/v1"


@pytest.fixture
def data(db):
    load_three_days()
    upsert_papers(records=[
        make_paper("2603.00010", day=None, upvotes=7, title="Graph networks for molecules", categories=["q-bio.BM"],
                   authors=["Grace Hopper"], published_at=_at("2026-02-01"),
                   organization=OrganizationRecord(slug="bio-lab", name="Bio Lab")),
    ])


@pytest.fixture
def user(db):
    user = get_user_model().objects.create_user("reader", "reader@example.org", "pw")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


@pytest.fixture
def token(user) -> str:
    return create_token(user=user, name="tests")[1]


def bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def ids(body: dict) -> list[str]:
    return [item["id"] if "id" in item else item["paper"]["id"] for item in body["items"]]


def assert_error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["error"], str) and body["error"]
    assert set(body) <= {"error", "detail"}
    return body


# --- OpenAPI and docs ---------------------------------------------------------------------------------

def test_openapi_document_and_docs_page(client):
    spec = client.get("/api/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    paths = set(spec["paths"])
    for path in ("/api/v1/papers", "/api/v1/papers/{arxiv_id}", "/api/v1/papers/{arxiv_id}/similar",
                 "/api/v1/daily/{day}", "/api/v1/weekly/{week}", "/api/v1/monthly/{month}", "/api/v1/trending",
                 "/api/v1/search", "/api/v1/organizations", "/api/v1/organizations/{slug}",
                 "/api/v1/papers/{arxiv_id}/vote", "/api/v1/papers/{arxiv_id}/comments", "/api/v1/submissions"):
        assert path in paths
    vote = spec["paths"]["/api/v1/papers/{arxiv_id}/vote"]["post"]
    assert vote["security"] and {"401", "403", "404", "429"} <= set(vote["responses"])
    assert "security" not in spec["paths"]["/api/v1/papers"]["get"]
    assert spec["components"]["schemas"]["ErrorOut"]["required"] == ["error"]
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and b"openapi.json" in docs.content


def test_hf_compatible_paths_still_answer(client, data):
    assert client.get("/api/daily_papers?date=2026-03-16").status_code == 200
    assert client.get("/api/papers/2603.00002").json()["id"] == "2603.00002"
    assert client.get("/api/papers/hep-th/9901001").json()["id"] == "hep-th/9901001"
    assert client.get("/api/daily_papers?date=2026-13-01").json()["error"]


# --- papers -------------------------------------------------------------------------------------------

def test_paper_list_pages_with_a_total(client, data):
    first = client.get(f"{V1}/papers?per_page=3").json()
    assert (first["count"], first["page"], first["per_page"], first["pages"]) == (7, 1, 3, 3)
    second = client.get(f"{V1}/papers?per_page=3&page=2").json()
    last = client.get(f"{V1}/papers?per_page=3&page=3").json()
    assert len(last["items"]) == 1
    assert len(set(ids(first) + ids(second) + ids(last))) == 7
    beyond = client.get(f"{V1}/papers?per_page=3&page=9").json()
    assert beyond["items"] == [] and beyond["count"] == 7
    paper = first["items"][0]
    assert set(paper) >= {"id", "title", "abstract", "authors", "categories", "published_at", "upvotes",
                          "num_comments", "organization", "github_repo", "url", "arxiv_url", "pdf_url"}


def test_paper_list_filters(client, data):
    def listed(query: str) -> list[str]:
        response = client.get(f"{V1}/papers?per_page=100&{query}")
        assert response.status_code == 200, response.content
        return ids(response.json())

    assert listed("category=q-bio.BM") == ["2603.00010"]
    assert len(listed("category=cs.LG")) == 6  # any of a paper's categories, not only the primary
    assert listed("organization=acme-ai") == ["2603.00002"]
    assert listed("author=grace%20hopper") == ["2603.00010"]
    assert listed("published_to=2026-02-28") == ["2603.00010"]
    assert "2603.00010" not in listed("published_from=2026-03-01")
    assert sorted(listed("listed_on=2026-03-16")) == ["2603.00002", "2603.00003", "2603.00004"]
    assert sorted(listed("listed=false")) == ["2603.00010", "hep-th/9901001"]
    assert len(listed("listed=true")) == 5
    by_upvotes = listed("sort=upvotes")
    assert by_upvotes[0] == "2603.00002" and sorted(by_upvotes[1:3]) == ["2603.00003", "2603.00004"]
    assert listed("organization=nobody") == []


def test_paper_detail(client, data):
    body = client.get(f"{V1}/papers/2603.00002v2").json()
    assert body["id"] == "2603.00002" and body["organization"]["slug"] == "acme-ai"
    assert body["github_repo"] == "https://github.com/acme/top" and body["github_stars"] == 1234
    assert body["authors"] == ["Ada Lovelace", "Alan Turing"]
    assert body["listings"] == [
        {"day": "2026-03-16", "rank": 1, "submitted_at": "2026-03-16T09:00:00Z", "submitted_by": "akhaliq"}
    ]
    assert client.get(f"{V1}/papers/hep-th/9901001").json()["listings"] == []


def test_errors_have_one_shape(client, data):
    assert "2609.99999" in assert_error(client.get(f"{V1}/papers/2609.99999"), 404)["error"]
    assert_error(client.get(f"{V1}/papers/not-an-id"), 404)
    assert_error(client.get(f"{V1}/papers/2609.99999/similar"), 404)
    assert_error(client.get(f"{V1}/organizations/nobody"), 404)
    invalid = assert_error(client.get(f"{V1}/papers?page=0"), 422)
    assert "page" in invalid["error"] and invalid["detail"][0]["loc"] == ["query", "page"]
    assert_error(client.get(f"{V1}/papers?per_page=101"), 422)
    assert_error(client.get(f"{V1}/papers?author=a%00b"), 400)  # control characters: 400 site-wide (issue 8)
    assert "YYYY-MM-DD" in assert_error(client.get(f"{V1}/daily/2026-02-30"), 400)["error"]
    assert_error(client.get(f"{V1}/weekly/2026-W99"), 400)
    assert_error(client.get(f"{V1}/monthly/9999-12"), 400)
    assert_error(client.get(f"{V1}/search?q=%20%20"), 400)
    assert_error(client.get(f"{V1}/search"), 422)
    assert_error(client.post(f"{V1}/papers/2603.00002/vote"), 401)


# --- daily lists and trending -------------------------------------------------------------------------

def test_daily_lists(client, data):
    day = client.get(f"{V1}/daily/2026-03-16").json()
    assert [i["paper"]["id"] for i in day["items"]] == ["2603.00002", "2603.00003", "2603.00004"]
    assert [i["rank"] for i in day["items"]] == [1, 2, 3]
    assert (day["previous"], day["next"], day["count"]) == ("2026-03-13", "2026-03-17", 3)
    paged = client.get(f"{V1}/daily/2026-03-16?per_page=1&page=2").json()
    assert [(i["rank"], i["paper"]["id"]) for i in paged["items"]] == [(2, "2603.00003")] and paged["pages"] == 3
    assert client.get(f"{V1}/daily/latest").json()["label"] == "2026-03-17"
    week = client.get(f"{V1}/weekly/2026-W12").json()
    assert (week["start"], week["end"], week["count"], week["previous"]) == ("2026-03-16", "2026-03-22", 4, "2026-W11")
    month = client.get(f"{V1}/monthly/2026-03").json()
    assert (month["count"], month["end"], month["next"]) == (5, "2026-03-31", "2026-04")
    assert client.get(f"{V1}/daily/2025-01-01").json()["items"] == []


def test_trending(client, data):
    body = client.get(f"{V1}/trending").json()
    assert body["count"] == 5 and "upvotes" in body["formula"]
    scores = [i["trending_score"] for i in body["items"]]
    assert scores == sorted(scores, reverse=True) and all(s is not None for s in scores)


def test_latest_list_404_when_there_is_none(client, db):
    assert_error(client.get(f"{V1}/daily/latest"), 404)


# --- search, similar, organizations ---------------------------------------------------------------------

@pytest.fixture
def indexed(data):
    search_services.index_keywords(rebuild=True)
    search_services.embed_pending()


def test_search(client, indexed):
    body = client.get(f"{V1}/search?q=graph%20networks%20molecules").json()
    assert ids(body)[0] == "2603.00010" and body["count"] >= 1 and body["note"] == ""
    exact = client.get(f"{V1}/search?q=https://arxiv.org/abs/2603.00004").json()
    assert exact["exact"] and ids(exact) == ["2603.00004"]
    filtered = client.get(f"{V1}/search?q=attention&organization=acme-ai").json()
    assert ids(filtered) == ["2603.00002"]
    paged = client.get(f"{V1}/search?q=attention&per_page=2&page=2").json()
    assert paged["page"] == 2 and len(paged["items"]) <= 2


def test_similar_papers(client, indexed):
    body = client.get(f"{V1}/papers/2603.00002/similar?limit=3").json()
    assert body["id"] == "2603.00002"
    assert len(body["items"]) == 3 and "2603.00002" not in ids(body)
    assert_error(client.get(f"{V1}/papers/2603.00002/similar?limit=0"), 422)


def test_organizations(client, data):
    body = client.get(f"{V1}/organizations").json()
    assert [(o["slug"], o["paper_count"]) for o in body["items"]] == [("acme-ai", 1), ("bio-lab", 1)]
    detail = client.get(f"{V1}/organizations/bio-lab").json()
    assert detail["organization"]["name"] == "Bio Lab" and ids(detail["papers"]) == ["2603.00010"]


# --- the token page -----------------------------------------------------------------------------------

def _csrf_post(client: Client, url: str, data: dict | None = None):
    page = client.get("/settings/tokens")
    csrf = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content)[1].decode()
    return client.post(url, {**(data or {}), "csrfmiddlewaretoken": csrf})


def test_token_page_creates_a_token_shown_once_and_revokes_it(user):
    browser = Client(enforce_csrf_checks=True)
    assert browser.get("/settings/tokens").status_code == 302  # log in first
    browser.force_login(user)
    assert browser.post("/settings/tokens", {"name": "no csrf"}).status_code == 403
    created = _csrf_post(browser, "/settings/tokens", {"name": "my script"})
    assert created.status_code == 200 and created["Cache-Control"] == "no-store"
    raw = re.search(rb'<code id="new-token" class="token-value">([^<]+)</code>', created.content)[1].decode()
    token = ApiToken.objects.get(user=user)
    assert token.name == "my script" and token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in str(list(ApiToken.objects.values()))  # only the hash is kept
    assert raw.encode() not in browser.get("/settings/tokens").content  # shown once

    api = Client()
    me = api.get(f"{V1}/me", **bearer(raw))
    assert me.status_code == 200 and me.json()["username"] == "reader"
    token.refresh_from_db()
    assert token.last_used_at is not None

    revoked = _csrf_post(browser, f"/settings/tokens/{token.pk}/revoke")
    assert revoked.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert b"revoked" in browser.get("/settings/tokens").content
    assert_error(api.get(f"{V1}/me", **bearer(raw)), 401)


def test_token_page_refusals(user, client):
    client.force_login(user)
    assert client.post("/settings/tokens", {"name": "   "}).status_code == 400
    other = get_user_model().objects.create_user("other", "other@example.org", "pw")
    theirs, _ = create_token(user=other, name="theirs")
    assert client.post(f"/settings/tokens/{theirs.pk}/revoke").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert client.get(f"/settings/tokens/{theirs.pk}/revoke").status_code == 405


# --- authenticated clients -----------------------------------------------------------------------------

def test_401_without_a_token_with_an_unknown_one_and_with_a_revoked_one(client, data, user, token):
    for headers in ({}, bearer("dp_not-a-real-token"), {"HTTP_AUTHORIZATION": "Basic abc"}):
        response = client.post(f"{V1}/papers/2603.00002/vote", **headers)
        assert_error(response, 401)
        assert response["WWW-Authenticate"].startswith("Bearer")
    ApiToken.objects.filter(user=user).update(revoked_at=timezone.now())
    assert_error(client.post(f"{V1}/papers/2603.00002/vote", **bearer(token)), 401)
    assert not Vote.objects.exists()


def test_vote_and_unvote(client, data, user, token):
    url = f"{V1}/papers/2603.00002/vote"
    assert client.post(url, **bearer(token)).json() == {"id": "2603.00002", "voted": True, "upvotes": 41}
    assert client.post(url, **bearer(token)).json() == {"id": "2603.00002", "voted": True, "upvotes": 41}  # idempotent
    assert Vote.objects.filter(user=user).count() == 1
    assert client.delete(url, **bearer(token)).json() == {"id": "2603.00002", "voted": False, "upvotes": 40}
    assert client.delete(url, **bearer(token)).json()["upvotes"] == 40
    assert_error(client.post(f"{V1}/papers/2609.99999/vote", **bearer(token)), 404)


def test_submit_a_paper(client, data, user, token):
    upsert_papers(
        records=[make_paper("2603.00099", day=None, upvotes=0, published_at=timezone.now() - timedelta(days=1))]
    )
    response = client.post(
        f"{V1}/submissions",
        {"arxiv_id": "https://arxiv.org/abs/2603.00099v1", "comment": "Worth a read."},
        content_type="application/json",
        **bearer(token),
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["paper"]["id"] == "2603.00099" and body["paper"]["num_comments"] == 1
    assert Paper.objects.get(arxiv_id="2603.00099").daily_entries.get().submitted_by == user
    again = client.post(
        f"{V1}/submissions", {"arxiv_id": "2603.00099"}, content_type="application/json", **bearer(token)
    )
    assert "already on the list" in assert_error(again, 403)["error"]
    assert_error(
        client.post(f"{V1}/submissions", {"arxiv_id": "not an id"}, content_type="application/json", **bearer(token)),
        403,
    )
    assert_error(client.post(f"{V1}/submissions", {}, content_type="application/json", **bearer(token)), 422)
    assert_error(client.post(f"{V1}/submissions", "{not json", content_type="application/json", **bearer(token)), 400)


def test_comment_reply_and_list(client, data, user, token):
    url = f"{V1}/papers/2603.00002/comments"
    first = client.post(url, {"body": "Nice **result**."}, content_type="application/json", **bearer(token))
    assert first.status_code == 201, first.content
    assert first.json()["author"] == "reader" and "<strong>result</strong>" in first.json()["body_html"]
    reply = client.post(
        url, {"body": "Agreed.", "parent_id": first.json()["id"]}, content_type="application/json", **bearer(token)
    )
    assert reply.status_code == 201 and reply.json()["parent_id"] == first.json()["id"]
    listed = client.get(url).json()
    assert [(c["body"], c["parent_id"]) for c in listed["items"]] == [
        ("Nice **result**.", None),
        ("Agreed.", first.json()["id"]),
    ]
    assert listed["count"] == 2
    assert_error(
        client.post(url, {"body": "x", "parent_id": 999999}, content_type="application/json", **bearer(token)), 404
    )
    assert_error(client.post(url, {"body": "   "}, content_type="application/json", **bearer(token)), 403)
    Comment.objects.filter(pk=reply.json()["id"]).update(deleted_at=timezone.now())
    removed = client.get(url).json()["items"][1]
    assert removed["removed"] and removed["body"] == "" and removed["author"] is None
    Paper.objects.filter(arxiv_id="2603.00002").update(comments_locked=True)
    locked = client.post(url, {"body": "More."}, content_type="application/json", **bearer(token))
    assert "locked" in assert_error(locked, 403)["error"]


def test_banned_user_gets_403_with_the_error_shape(client, data, user, token):
    Ban.objects.create(user=user, reason="spam")
    assert "banned" in assert_error(client.post(f"{V1}/papers/2603.00002/vote", **bearer(token)), 403)["error"]
    assert_error(client.delete(f"{V1}/papers/2603.00002/vote", **bearer(token)), 403)
    assert_error(client.post(f"{V1}/papers/2603.00002/comments", {"body": "hi"}, content_type="application/json",
                             **bearer(token)), 403)
    assert_error(
        client.post(f"{V1}/submissions", {"arxiv_id": "2603.00001"}, content_type="application/json", **bearer(token)),
        403,
    )
    assert client.get(f"{V1}/me", **bearer(token)).json()["banned"] is True
    assert not Vote.objects.exists() and not Comment.objects.exists()


# --- the anonymous rate limit --------------------------------------------------------------------------

def test_anonymous_rate_limit(client, data, settings, token):
    settings.API_ANON_RATE = "3/5m"
    for url in (f"{V1}/papers", "/api/daily_papers", f"{V1}/trending"):
        assert client.get(url).status_code == 200
    for url in (f"{V1}/papers", "/api/daily_papers", "/api/papers/2603.00002", f"{V1}/papers/2603.00002"):
        limited = client.get(url)
        body = assert_error(limited, 429)
        assert 1 <= int(limited["Retry-After"]) <= 300
        assert "3/5m" in body["error"]
    # Another address has its own allowance; a client with a valid token is not limited by this rule.
    assert client.get(f"{V1}/papers", REMOTE_ADDR="10.0.0.2").status_code == 200
    assert client.get(f"{V1}/papers", **bearer(token)).status_code == 200
    assert client.get("/api/daily_papers", **bearer(token)).status_code == 200
    assert client.post(f"{V1}/papers/2603.00002/vote", **bearer(token)).status_code == 200
    assert_error(client.get(f"{V1}/papers", **bearer("dp_unknown")), 429)  # an unknown token counts as anonymous


def test_default_anonymous_rate_is_500_per_5_minutes():
    from dailypapers.api.ratelimit import DEFAULT_RATE

    assert DEFAULT_RATE == "500/5m"


def test_api_writes_keep_the_community_rate_limits(client, data, token, settings):
    settings.RATE_VOTE = "2/m"
    url = f"{V1}/papers/2603.00002/vote"
    for _ in range(2):
        assert client.post(url, **bearer(token)).status_code == 200
    response = client.post(url, **bearer(token))
    body = assert_error(response, 429)
    assert response["Retry-After"] == "60" and "at most 2/m" in body["error"]
