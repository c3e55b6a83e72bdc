"""Follows of authors (by name and through claims), organizations and saved searches: the services,
each follow's papers, the private RSS/Atom feeds (parsed with feedparser), /follows, the Follow
buttons, the daily list's badge, For you's reason and boost, the digest's section and the API."""

from datetime import date, datetime, timedelta, timezone

import feedparser
import numpy as np
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone as dj_timezone

from dailypapers.api.services import create_token
from dailypapers.community.models import AuthorshipClaim
from dailypapers.community.services import toggle_vote
from dailypapers.digests.models import Subscription
from dailypapers.digests.sending import send_digests
from dailypapers.errors import Refused
from dailypapers.follows import selectors, services
from dailypapers.follows.models import FeedToken, Follow
from dailypapers.papers.models import Author, Authorship, Organization, Paper
from dailypapers.papers.periods import Period
from dailypapers.papers.records import OrganizationRecord
from dailypapers.personal import ranking
from dailypapers.personal import selectors as personal
from dailypapers.search.models import PaperVector

from .helpers import client_for, load, make_paper, make_user

ACME = OrganizationRecord(slug="acme-ai", name="ACME AI")


def _at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=8, tzinfo=timezone.utc)


@pytest.fixture
def library(db):
    """Grace Hopper's papers: two under her name, one signed "J. Hopper" that she claimed; ACME AI's
    papers; a diffusion paper by someone else. Indexed (keywords and vectors)."""
    load([
        make_paper("2603.00101", day="2026-03-16", upvotes=9, title="Diffusion for speech synthesis",
                   abstract="Speech synthesis with diffusion models.", authors=["Grace Hopper", "Alan Turing"],
                   organization=ACME, published_at=_at("2026-03-12")),
        make_paper("2603.00102", day="2026-03-16", upvotes=7, title="Graph compilers",
                   abstract="Compiling graphs.", authors=["J. Hopper"], published_at=_at("2026-03-13")),
        make_paper("2603.00103", day="2026-03-16", upvotes=5, title="Vision transformers at scale",
                   abstract="Transformers for images.", authors=["Ada Lovelace"], organization=ACME,
                   published_at=_at("2026-03-14")),
        make_paper("2603.00104", day="2026-03-16", upvotes=3, title="Diffusion models for images",
                   abstract="Image generation with diffusion.", authors=["Ada Lovelace"],
                   published_at=_at("2026-03-15")),
        make_paper("2602.00105", day=None, upvotes=0, title="The first compiler", abstract="A-0.",
                   authors=["Grace Hopper"], published_at=_at("2026-02-01")),
    ])
    grace_user = make_user("grace")
    grace, j_hopper = Author.objects.get(name="Grace Hopper"), Author.objects.get(name="J. Hopper")
    for arxiv_id, author in (("2603.00101", grace), ("2603.00102", j_hopper)):
        AuthorshipClaim.objects.create(user=grace_user, authorship=Authorship.objects.get(
            paper__arxiv_id=arxiv_id, author=author), status=AuthorshipClaim.Status.APPROVED)
    return {"grace": grace, "acme": Organization.objects.get(slug="acme-ai")}


def _ids(papers) -> list[str]:
    return [p.arxiv_id for p in papers]


def _pks(*arxiv_ids: str) -> list[int]:
    return list(Paper.objects.filter(arxiv_id__in=arxiv_ids).values_list("pk", flat=True))


# --- services and selectors ----------------------------------------------------------------------

def test_a_followed_authors_papers_are_by_name_and_by_claim_newest_first(library):
    follow, made = services.follow_author(user=make_user(), author=library["grace"])
    assert made and follow.label == "Grace Hopper"
    # 2603.00102 is signed "J. Hopper": it is hers through the claims of the user who claimed her name.
    assert _ids(selectors.follow_papers(follow=follow)) == ["2603.00102", "2603.00101", "2602.00105"]


def test_an_organization_and_a_saved_search_with_its_filters(library):
    reader = make_user()
    org, _ = services.follow_organization(user=reader, organization=library["acme"])
    assert _ids(selectors.follow_papers(follow=org)) == ["2603.00103", "2603.00101"]
    search, _ = services.follow_search(user=reader, query="diffusion", filters={})
    assert _ids(selectors.follow_papers(follow=search)) == ["2603.00104", "2603.00101"]  # newest first
    narrowed, _ = services.follow_search(user=reader, query="  diffusion ", filters={"organization": "acme-ai"})
    assert narrowed.query == "diffusion" and narrowed.filters == {"organization": "acme-ai"}
    assert narrowed.label == "“diffusion” (organization: acme-ai)"
    assert _ids(selectors.follow_papers(follow=narrowed)) == ["2603.00101"]
    assert selectors.link_of(narrowed) == "/papers?q=diffusion&organization=acme-ai"


def test_following_twice_is_following_once(library):
    reader = make_user()
    first, made = services.follow_author(user=reader, author=library["grace"])
    again, made_again = services.follow_author(user=reader, author=library["grace"])
    assert made and not made_again and first.pk == again.pk
    a, _ = services.follow_search(user=reader, query="diffusion", filters={"listed": True, "category": "cs.CL"})
    b, made_b = services.follow_search(user=reader, query="diffusion", filters={"category": "cs.CL", "listed": "on"})
    assert a.pk == b.pk and not made_b and a.filters == {"category": "cs.CL", "listed": "on"}
    assert Follow.objects.filter(user=reader).count() == 2


@pytest.mark.parametrize(("query", "filters", "says"), [
    ("", {}, "needs a query"),
    ("diffusion", {"sort": "date"}, "Unknown search filter: sort"),
    ("diffusion", {"published_from": "yesterday"}, "Published from"),
    ("diffusion", {"category": 3}, "must be text"),
    ("x" * 300, {}, "too long"),
])
def test_a_bad_saved_search_is_refused(library, query, filters, says):
    with pytest.raises(Refused) as refused:
        services.follow_search(user=make_user(), query=query, filters=filters)
    assert refused.value.status == 400 and says in refused.value.message
    assert not Follow.objects.exists()


def test_the_number_of_follows_is_bounded(library, monkeypatch):
    monkeypatch.setattr(services, "MAX_FOLLOWS", 1)
    reader = make_user()
    services.follow_author(user=reader, author=library["grace"])
    with pytest.raises(Refused) as refused:
        services.follow_organization(user=reader, organization=library["acme"])
    assert refused.value.status == 409


def test_followed_author_papers_in_one_query(library, django_assert_num_queries):
    reader, other = make_user(), make_user("other")
    services.follow_author(user=reader, author=library["grace"])
    every = _pks("2603.00101", "2603.00102", "2603.00103", "2603.00104", "2602.00105")
    with django_assert_num_queries(1):
        found = selectors.followed_author_paper_ids(user=reader, paper_ids=every)
    assert found == set(_pks("2603.00101", "2603.00102", "2602.00105"))
    assert selectors.followed_author_paper_ids(user=other, paper_ids=every) == set()


def test_who_follows_the_authors_of_new_papers(library):
    reader, fan, nobody = make_user(), make_user("fan"), make_user("nobody")
    services.follow_author(user=reader, author=library["grace"])
    services.follow_author(user=fan, author=Author.objects.get(name="Ada Lovelace"))
    services.follow_organization(user=nobody, organization=library["acme"])
    followers = selectors.author_followers(paper_ids=_pks("2603.00102", "2603.00103"))
    assert followers == {reader.pk: set(_pks("2603.00102")), fan.pk: set(_pks("2603.00103"))}


def test_followers_are_told_once_of_their_authors_new_papers_not_of_old_ones_imported_now(library):
    from dailypapers.follows.tasks import notify_new_papers
    from dailypapers.notifications.models import Notification

    reader, fan = make_user(), make_user("fan")
    services.follow_author(user=reader, author=library["grace"])
    services.follow_author(user=fan, author=Author.objects.get(name="Ada Lovelace"))
    now = dj_timezone.now()
    # All five arrived just now; only this one is new work (published two days ago), the rest are
    # back papers of March and February (2602.00105 and the claimed 2603.00102 are Grace's too).
    Paper.objects.filter(arxiv_id="2603.00101").update(published_at=now - timedelta(days=2))
    assert services.notify_new_papers_of_followed_authors(now=now) == 1
    assert services.notify_new_papers_of_followed_authors(now=now) == 0  # told once
    told = Notification.objects.filter(kind="followed_author_paper")
    assert list(told.values_list("user__username", "paper__arxiv_id")) == [("ada", "2603.00101")]
    Paper.objects.filter(arxiv_id="2603.00104").update(published_at=now - timedelta(days=1))
    assert notify_new_papers.call_local() == 1  # the scheduled job does the same
    assert told.filter(user=fan).get().paper.arxiv_id == "2603.00104"


# --- feeds ---------------------------------------------------------------------------------------

def test_each_follow_has_private_rss_and_atom_feeds(library):
    reader, other = make_user(), make_user("other")
    follow, _ = services.follow_author(user=reader, author=library["grace"])
    theirs, _ = services.follow_organization(user=other, organization=library["acme"])
    token = services.feed_token(user=reader)
    client = Client()
    for fmt in ("rss", "atom"):
        response = client.get(f"/feeds/follows/{token}/{follow.pk}.{fmt}")
        assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
        feed = feedparser.parse(response.content)
        assert feed.bozo == 0 and feed.feed.title.endswith("Following: Grace Hopper")
        assert [e.link.rsplit("/", 1)[1] for e in feed.entries] == ["2603.00102", "2603.00101", "2602.00105"]
        assert {a.name for a in feed.entries[1].authors} == {"Grace Hopper", "Alan Turing"}
    assert client.get(f"/feeds/follows/{token}x/{follow.pk}.rss").status_code == 404  # a wrong token
    assert client.get(f"/feeds/follows/{token}/{theirs.pk}.rss").status_code == 404  # someone else's follow
    assert client.get(f"/feeds/follows/{token}/99999999.rss").status_code == 404


def test_a_rotated_token_retires_every_old_feed_address(library):
    reader = make_user()
    follow, _ = services.follow_author(user=reader, author=library["grace"])
    old = services.feed_token(user=reader)
    assert services.feed_token(user=reader) == old  # stable until rotated
    client = client_for(reader)
    assert client.get(f"/feeds/follows/{old}/{follow.pk}.atom").status_code == 200
    assert client.post("/follows/feed-token").status_code == 302
    new = FeedToken.objects.get(user=reader).token
    assert new != old
    assert client.get(f"/feeds/follows/{old}/{follow.pk}.atom").status_code == 404
    assert client.get(f"/feeds/follows/{new}/{follow.pk}.atom").status_code == 200
    assert new in client.get("/follows").content.decode() and old not in client.get("/follows").content.decode()


# --- pages ---------------------------------------------------------------------------------------

def test_follow_buttons_on_author_and_organization_pages(library):
    reader = make_user()
    grace, acme = library["grace"], library["acme"]
    anonymous = Client().get(grace.get_absolute_url()).content.decode()
    assert "Log in to follow this author" in anonymous and "/accounts/login/?next=" in anonymous
    client = client_for(reader)
    page = client.get(grace.get_absolute_url()).content.decode()
    assert f'action="/follows/authors/{grace.pk}"' in page and "Follow this author" in page
    fragment = client.post(f"/follows/authors/{grace.pk}", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200 and "Following · Unfollow" in fragment.content.decode()
    assert Follow.objects.filter(user=reader, author=grace).exists()
    assert "Following · Unfollow" in client.get(grace.get_absolute_url()).content.decode()
    assert client.post(f"/follows/authors/{grace.pk}", {"next": "/papers"})["Location"] == "/papers"
    assert not Follow.objects.filter(user=reader).exists()  # the same button unfollows
    assert client.post(f"/follows/organizations/{acme.slug}").status_code == 302
    assert Follow.objects.filter(user=reader, organization=acme).exists()
    assert "Following · Unfollow" in client.get(acme.get_absolute_url()).content.decode()
    assert client.post("/follows/authors/99999999").status_code == 404
    assert client.get(f"/follows/authors/{grace.pk}").status_code == 405


def test_follow_buttons_need_a_signed_in_user_and_csrf(library):
    grace = library["grace"]
    response = Client().post(f"/follows/authors/{grace.pk}")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_user())
    assert strict.post(f"/follows/authors/{grace.pk}").status_code == 403
    assert not Follow.objects.exists()


def test_follow_this_search_from_the_results(library):
    reader = make_user()
    client = client_for(reader)
    page = client.get("/papers?q=diffusion&organization=acme-ai").content.decode()
    assert "Follow this search" in page and 'name="organization" value="acme-ai"' in page
    response = client.post("/follows/searches", {"q": "diffusion", "organization": "acme-ai", "sort": "date"})
    assert response.status_code == 302 and response["Location"] == "/papers?q=diffusion&organization=acme-ai"
    follow = Follow.objects.get(user=reader)
    assert follow.kind == "search" and follow.filters == {"organization": "acme-ai"}
    assert "Following · Unfollow" in client.get("/papers?q=diffusion&organization=acme-ai").content.decode()
    assert "Follow this search" in client.get("/papers?q=diffusion").content.decode()  # another search
    assert client.post("/follows/searches", {"q": "diffusion", "published_to": "2026-13-01"}).status_code == 400


def test_the_follows_page_a_section_each_digest_toggle_and_unfollow(library):
    reader = make_user()
    author, _ = services.follow_author(user=reader, author=library["grace"])
    search, _ = services.follow_search(user=reader, query="diffusion", filters={})
    client = client_for(reader)
    assert Client().get("/follows")["Location"].startswith("/accounts/login/")
    response = client.get("/follows")
    html = response.content.decode()
    assert response["Cache-Control"] == "private, no-store"
    assert f'id="follow-{author.pk}"' in html and f'id="follow-{search.pk}"' in html
    token = services.feed_token(user=reader)
    assert f"/feeds/follows/{token}/{author.pk}.rss" in html and f"/feeds/follows/{token}/{search.pk}.atom" in html
    section = html[html.index(f'id="follow-{author.pk}"'):]
    assert section.index("Graph compilers") < section.index("Diffusion for speech synthesis")
    assert client.post(f"/follows/{author.pk}/digest", {"digest": "on"}).status_code == 302
    assert Follow.objects.get(pk=author.pk).digest
    client.post(f"/follows/{author.pk}/digest")
    assert not Follow.objects.get(pk=author.pk).digest
    other = client_for(make_user("other"))
    assert other.post(f"/follows/{author.pk}/unfollow").status_code == 404  # not theirs
    assert client.post(f"/follows/{author.pk}/unfollow").status_code == 302
    assert list(Follow.objects.filter(user=reader)) == [search]


def test_the_daily_list_marks_papers_by_followed_authors(library):
    reader = make_user()
    services.follow_author(user=reader, author=library["grace"])
    html = client_for(reader).get("/papers/date/2026-03-16").content.decode()
    marked = {card.split('"', 1)[0] for card in html.split('data-arxiv-id="')[1:] if "followed-badge" in
              card.split("</article>", 1)[0]}
    assert marked == {"2603.00101", "2603.00102"}
    assert 'href="/follows"' in html
    assert "followed-badge" not in Client().get("/papers/date/2026-03-16").content.decode()
    assert "followed-badge" not in client_for(make_user("other")).get("/papers/date/2026-03-16").content.decode()


def test_the_daily_list_costs_the_same_queries_with_more_follows(library):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    reader = make_user()
    client = client_for(reader)
    services.follow_author(user=reader, author=library["grace"])
    with CaptureQueriesContext(connection) as one:
        client.get("/papers/date/2026-03-16")
    services.follow_author(user=reader, author=Author.objects.get(name="Ada Lovelace"))
    services.follow_author(user=reader, author=Author.objects.get(name="Alan Turing"))
    with CaptureQueriesContext(connection) as three:
        html = client.get("/papers/date/2026-03-16").content.decode()
    assert len(three) == len(one) and html.count('class="followed-badge"') == 4


# --- For you and the digest ----------------------------------------------------------------------

def _vector(**weights: float) -> bytes:
    vector = np.zeros(384, np.float32)
    for axis, weight in weights.items():
        vector[int(axis[1:])] = weight
    return (vector / np.linalg.norm(vector)).tobytes()


def test_for_you_lifts_papers_by_followed_authors_and_says_why(library):
    reader = make_user()
    model = personal.model_id()
    vectors = {"2602.00105": _vector(a0=1), "2603.00103": _vector(a0=1), "2603.00104": _vector(a1=1, a0=0.1),
               "2603.00101": _vector(a1=1), "2603.00102": _vector(a1=1, a2=0.3)}
    for arxiv_id, vector in vectors.items():
        PaperVector.objects.update_or_create(paper=Paper.objects.get(arxiv_id=arxiv_id),
                                             defaults={"model_id": model, "text_hash": "t", "vector": vector})
    toggle_vote(user=reader, paper=Paper.objects.get(arxiv_id="2602.00105"))  # the profile: axis 0
    now = datetime(2026, 3, 17, 12, tzinfo=timezone.utc)
    before = {c.paper.arxiv_id: c for c in personal.for_you(user=reader, now=now).cards}
    assert list(before)[:2] == ["2603.00103", "2603.00104"]  # the nearest first: cosines 1 and 0.1
    assert before["2603.00101"].reason.source == "upvoted"

    services.follow_author(user=reader, author=library["grace"])
    after = {c.paper.arxiv_id: c for c in personal.for_you(user=reader, now=now).cards}
    order = list(after)
    # Grace's papers come first: lifted, and in the profile now (a follow's newest papers are interests).
    assert set(order[:2]) == {"2603.00101", "2603.00102"} and set(order[2:4]) == {"2603.00103", "2603.00104"}
    for arxiv_id in ("2603.00101", "2603.00102"):
        assert after[arxiv_id].rank_score - before[arxiv_id].rank_score >= ranking.FOLLOWED_WEIGHT
    # Her papers' neighbour rises (it is near an interest now) and says whose paper it is like.
    assert after["2603.00104"].rank_score > before["2603.00104"].rank_score
    assert after["2603.00104"].reason.source == "near-follow" and after["2603.00104"].reason.via == "Grace Hopper"
    assert after["2603.00102"].reason == personal.Reason(source="followed", author="J. Hopper")  # by her claim
    assert after["2603.00101"].reason.author == "Grace Hopper"
    html = client_for(reader).get("/papers/for-you").content.decode()
    assert "by Grace Hopper, an author you follow" in html
    item = next(i for i in Client().get("/api/v1/me/for-you", **_bearer(reader)).json()["items"]
                if i["paper"]["id"] == "2603.00102")
    assert item["reason"] == {"source": "followed", "author": "J. Hopper", "arxiv_id": None, "title": None,
                              "via": None}


def test_the_digest_has_a_section_for_follows_put_in_it(library, smtp):
    reader = make_user()
    author, _ = services.follow_author(user=reader, author=library["grace"])
    search, _ = services.follow_search(user=reader, query="diffusion", filters={"organization": "acme-ai"})
    services.follow_organization(user=reader, organization=library["acme"])  # not in the digest
    services.set_digest(user=reader, follow=author, digest=True)
    services.set_digest(user=reader, follow=search, digest=True)
    now = datetime.now(timezone.utc)
    Subscription.objects.create(email=reader.email, user=reader, confirmed_at=now, min_upvotes=1000)
    Subscription.objects.create(email="anon@example.org", confirmed_at=now)
    assert send_digests(period=Period("day", date(2026, 3, 16))).sent == 2
    (mine,) = smtp.to(reader.email)
    text = mine.get_body(("plain",)).get_content()
    followed = text[text.index("From what you follow"):]
    assert "Author: Grace Hopper" in followed and "Search: “diffusion” (organization: acme-ai)" in followed
    search_part, grace_part = followed.split("Author: Grace Hopper")  # newest follow first
    assert "2603.00101" in search_part and "2603.00104" not in search_part  # not ACME's: the filter holds
    assert grace_part.index("Diffusion for speech synthesis") < grace_part.index("Graph compilers")  # by upvotes
    assert "2602.00105" not in grace_part  # not on this day's list
    assert "Organization: ACME AI" not in followed and "From what you follow" in mine.get_body(("html",)).get_content()
    assert mine["Subject"].endswith("2 papers")  # no paper has 1000 upvotes: only the follows' section
    (anon,) = smtp.to("anon@example.org")
    assert "From what you follow" not in anon.get_body(("plain",)).get_content()


# --- the API -------------------------------------------------------------------------------------

def _bearer(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {create_token(user=user, name='tests')[1]}"}


def test_api_lists_creates_and_deletes_follows(library):
    reader = make_user()
    auth = _bearer(reader)
    client = Client()
    made = client.post("/api/v1/me/follows", {"kind": "author", "author_id": library["grace"].pk, "digest": True},
                       content_type="application/json", **auth)
    assert made.status_code == 201
    body = made.json()
    assert body["kind"] == "author" and body["author"]["name"] == "Grace Hopper" and body["digest"] is True
    token = services.feed_token(user=reader)
    assert body["feeds"]["rss"] == f"/feeds/follows/{token}/{body['id']}.rss"
    again = client.post("/api/v1/me/follows", {"kind": "author", "author_id": library["grace"].pk},
                        content_type="application/json", **auth)
    assert again.status_code == 200 and again.json()["id"] == body["id"] and again.json()["digest"] is False
    search = client.post("/api/v1/me/follows", {"kind": "search", "query": "diffusion",
                                                "filters": {"organization": "acme-ai", "listed": True}},
                         content_type="application/json", **auth)
    assert search.status_code == 201 and search.json()["filters"] == {"organization": "acme-ai", "listed": "on"}
    assert search.json()["url"] == "/papers?q=diffusion&organization=acme-ai&listed=on"
    org = client.post("/api/v1/me/follows", {"kind": "organization", "organization": "acme-ai"},
                      content_type="application/json", **auth)
    assert org.status_code == 201 and org.json()["organization"]["slug"] == "acme-ai"
    listed = client.get("/api/v1/me/follows", **auth).json()
    assert listed["count"] == 3 and [i["kind"] for i in listed["items"]] == ["organization", "search", "author"]
    assert client.delete(f"/api/v1/me/follows/{body['id']}", **auth).status_code == 204
    assert client.delete(f"/api/v1/me/follows/{body['id']}", **auth).status_code == 404
    assert client.get("/api/v1/me/follows", **auth).json()["count"] == 2


def test_api_refuses_bad_follows(library):
    reader, other = make_user(), make_user("other")
    auth = _bearer(reader)
    client = Client()

    def post(data):
        return client.post("/api/v1/me/follows", data, content_type="application/json", **auth)

    assert client.get("/api/v1/me/follows").status_code == 401
    assert post({"kind": "person"}).status_code == 422
    assert post({"kind": "author"}).status_code == 404
    assert post({"kind": "author", "author_id": 99999999}).status_code == 404
    assert post({"kind": "organization", "organization": "nope"}).status_code == 404
    assert post({"kind": "search"}).status_code == 422
    refused = post({"kind": "search", "query": "diffusion", "filters": {"published_from": "2026-02-30"}})
    assert refused.status_code == 422 and "error" in refused.json()
    theirs, _ = services.follow_author(user=other, author=library["grace"])
    assert client.delete(f"/api/v1/me/follows/{theirs.pk}", **auth).status_code == 404
    assert client.delete(f"/api/v1/me/follows/{2**70}", **auth).status_code in (404, 422)
    assert Follow.objects.filter(user=reader).count() == 0


def test_api_follows_are_in_the_openapi_document():
    paths = Client().get("/api/openapi.json").json()["paths"]
    assert set(paths["/api/v1/me/follows"]) == {"get", "post"}
    assert set(paths["/api/v1/me/follows/{follow_id}"]) == {"delete"}
    assert "401" in paths["/api/v1/me/follows"]["post"]["responses"]
    assert reverse("api:native:list_follows") == "/api/v1/me/follows"
