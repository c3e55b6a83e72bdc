"""For you: several interests kept apart, Not interested, fading, keyword filters, cold start,
the page and GET /api/v1/me/for-you. Vectors are written straight into search.models.PaperVector
(the database is their source of truth), along chosen directions, so each topic is a known cluster."""

import re
from datetime import timedelta

import numpy as np
import pytest
from django.test import Client
from django.utils import timezone

from dailypapers.api.services import create_token
from dailypapers.collections.services import toggle_saved
from dailypapers.community.services import toggle_vote
from dailypapers.digests.models import Subscription
from dailypapers.digests.selection import digest_papers
from dailypapers.follows import services as follows
from dailypapers.follows.models import Follow
from dailypapers.papers import selectors as paper_selectors
from dailypapers.papers.models import Author, Organization, Paper
from dailypapers.papers.records import OrganizationRecord
from dailypapers.papers.services import upsert_papers
from dailypapers.personal import ranking, selectors, services
from dailypapers.personal.models import Impression, NotInterested
from dailypapers.search import services as search_services
from dailypapers.search.models import PaperVector
from dailypapers.search.selectors import embed_query

from .helpers import client_for, make_paper, make_user

DIM = 384
RL, SPEECH, VISION, GRAPHS, BIO = range(5)
_rng = np.random.default_rng(7)


def _direction(*axes: float) -> np.ndarray:
    vector = np.zeros(DIM, np.float32)
    for axis, weight in zip(axes[::2], axes[1::2]):
        vector[int(axis)] = weight
    return vector


def _vector(base: np.ndarray, noise: float = 0.05) -> bytes:
    vector = base + noise * _rng.standard_normal(DIM).astype(np.float32) / np.sqrt(DIM)
    return (vector / np.linalg.norm(vector)).astype(np.float32).tobytes()


def _paper(arxiv_id: str, *, topic: np.ndarray, day: str | None, upvotes: int = 0, title: str | None = None,
           abstract: str | None = None, noise: float = 0.05, hour: int = 12, **fields) -> Paper:
    upsert_papers(records=[make_paper(arxiv_id, day=day, upvotes=upvotes, hour=hour, title=title or f"Paper {arxiv_id}",
                                      abstract=abstract or f"Abstract of {arxiv_id}.", **fields)])
    paper = Paper.objects.get(arxiv_id=arxiv_id)
    PaperVector.objects.update_or_create(paper=paper, defaults={
        "model_id": selectors.model_id(), "text_hash": "t", "vector": _vector(topic, noise)})
    return paper


def _user(name: str = "reader"):
    return make_user(name)


def _client(user) -> Client:
    return client_for(user)


def _ids(feed) -> list[str]:
    return [c.paper.arxiv_id for c in feed.cards]


@pytest.fixture
def world(db):
    """Profile papers (no list day) on RL and speech; this week's list: RL, speech, and more popular
    papers on other topics; one paper between RL and speech, which is what a single centroid would favour."""
    topics = {"rl": _direction(RL, 1), "speech": _direction(SPEECH, 1)}
    profile = {
        "rl": [_paper(f"2601.0000{i}", topic=topics["rl"], day=None, title=f"Policy gradients {i}") for i in range(4)],
        "speech": [_paper(f"2601.0010{i}", topic=topics["speech"], day=None, title=f"Speech recognition {i}")
                   for i in range(2)],
    }
    listed = {
        "rl": [_paper(f"2603.0010{i}", topic=topics["rl"], day="2026-03-16", upvotes=3,
                      title=f"Offline reinforcement learning {i}", noise=0.6) for i in range(3)],
        "speech": [_paper(f"2603.0020{i}", topic=topics["speech"], day="2026-03-17", upvotes=2,
                          title=f"Streaming speech recognition {i}", noise=0.6) for i in range(3)],
        "other": [_paper(f"2603.003{i:02d}", topic=_direction(VISION + i % 3, 1), day="2026-03-16", upvotes=80 + i,
                         title=f"A survey of vision {i}" if i % 2 else f"Graph networks {i}") for i in range(10)],
    }
    return {"profile": profile, "listed": listed, "topics": topics}


@pytest.fixture
def reader(world):
    user = _user()
    for paper in world["profile"]["rl"]:
        toggle_vote(user=user, paper=paper)
    for paper in world["profile"]["speech"]:
        toggle_saved(user=user, paper=paper)
    return user


def test_two_interests_both_lead_the_list_with_their_reasons(world, reader):
    feed = selectors.for_you(user=reader)
    assert not feed.cold_start and feed.total == 16  # profile papers are not candidates
    top = feed.cards[:6]
    assert {c.paper.arxiv_id for c in top} == {p.arxiv_id for p in world["listed"]["rl"] + world["listed"]["speech"]}
    speech = next(c for c in top if c.paper.arxiv_id.startswith("2603.002"))
    rl = next(c for c in top if c.paper.arxiv_id.startswith("2603.001"))
    assert speech.reason.source == "saved" and speech.reason.title.startswith("Speech recognition")
    assert rl.reason.source == "upvoted" and rl.reason.title.startswith("Policy gradients")
    # The minority interest is not averaged away: speech (2 of 6 profile papers) is in the first four.
    assert any(c.paper.arxiv_id.startswith("2603.002") for c in feed.cards[:4])


def test_ranking_keeps_interests_apart_where_a_centroid_averages_them():
    rl, speech = _direction(RL, 1), _direction(SPEECH, 1)
    profile = ranking.normalise(np.vstack([rl, rl, speech, speech]))
    between = ranking.normalise(_direction(RL, 1, SPEECH, 1)[None, :])
    candidates = np.vstack([ranking.normalise(speech[None, :]), between])
    centroid = ranking.centroid_interest(candidates, profile)
    ours, nearest = ranking.scores(candidates=candidates, profile=profile, upvotes=np.zeros(2))
    assert centroid[1] > centroid[0]  # the average prefers the paper between the two interests
    assert ours[0] > ours[1]  # the shipped ranking prefers a real speech paper
    assert nearest[0] in (2, 3)  # and names a speech paper as the reason


def test_not_interested_hides_the_paper_and_demotes_its_near_duplicate(world, reader):
    vision = _direction(VISION, 1)
    for arxiv_id in ("2601.00200", "2601.00201"):
        toggle_vote(user=reader, paper=_paper(arxiv_id, topic=vision, day=None, title="Vision transformers"))
    hidden = _paper("2603.00400", topic=vision, day="2026-03-17", upvotes=50, title="Hidden twin", noise=0.01)
    twin = _paper("2603.00401", topic=vision, day="2026-03-17", upvotes=50, title="Near duplicate", noise=0.01)
    before = _ids(selectors.for_you(user=reader))
    assert before.index(twin.arxiv_id) < 3

    client = _client(reader)
    response = client.post(f"/papers/for-you/not-interested/{hidden.arxiv_id}", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and b"Undo" in response.content and b"Hidden" in response.content
    assert NotInterested.objects.filter(user=reader, paper=hidden).exists()
    after = _ids(selectors.for_you(user=reader))
    assert hidden.arxiv_id not in after
    # The near-duplicate drops below every RL and speech paper (and below the unrelated popular ones' leader).
    wanted = [p.arxiv_id for p in world["listed"]["rl"] + world["listed"]["speech"]]
    assert after.index(twin.arxiv_id) > max(after.index(i) for i in wanted)
    page = client.get("/papers/for-you").content.decode()
    assert f'data-arxiv-id="{hidden.arxiv_id}"' not in page

    client.post(f"/papers/for-you/undo/{hidden.arxiv_id}", HTTP_HX_REQUEST="true")
    assert hidden.arxiv_id in _ids(selectors.for_you(user=reader))


def test_papers_shown_on_n_visits_without_a_click_fade(world, reader):
    client = _client(reader)
    first = selectors.for_you(user=reader).cards[0].paper
    for visit in range(selectors.FADE_AFTER_IMPRESSIONS):
        assert client.get("/papers/for-you").status_code == 200
        client.get("/papers/for-you")  # a reload within the gap is the same visit
        assert Impression.objects.get(user=reader, paper=first).count == visit + 1
        # The next visit comes after the gap.
        earlier = timezone.now() - services.IMPRESSION_GAP - timedelta(seconds=1)
        Impression.objects.filter(user=reader).update(last_shown_at=earlier)
    feed = selectors.for_you(user=reader)
    faded = [c for c in feed.cards if c.faded]
    # Every paper of the page was shown each visit, so all faded: they keep their order among themselves.
    assert first.arxiv_id in {c.paper.arxiv_id for c in faded}
    assert all(c.impressions >= selectors.FADE_AFTER_IMPRESSIONS for c in faded)
    # A paper not yet shown N times ranks above every faded one.
    fresh = _paper("2603.00500", topic=_direction(BIO, 1), day="2026-03-17", upvotes=0, title="Fresh paper")
    feed = selectors.for_you(user=reader)
    assert feed.cards[0].paper == fresh and not feed.cards[0].faded and feed.cards[1].faded
    page = client.get("/papers/for-you").content.decode()
    assert re.search(r'class="for-you-item faded" data-arxiv-id="' + re.escape(first.arxiv_id), page)


def test_impressions_need_no_more_than_two_queries(world, reader, django_assert_max_num_queries):
    ids = [p.pk for p in world["listed"]["rl"]]
    with django_assert_max_num_queries(2):
        assert services.record_impressions(user=reader, paper_ids=ids) == 3


def test_include_and_exclude_keywords(world, reader):
    client = _client(reader)
    response = client.post("/papers/for-you/filters", {"include": "speech, vision", "exclude": "survey"})
    assert response.status_code == 302
    feed = selectors.for_you(user=reader)
    assert feed.include == ["speech", "vision"] and feed.exclude == ["survey"]
    titles = [c.paper.title for c in feed.cards]
    assert titles
    assert all(("speech" in t.lower() or "vision" in t.lower()) and "survey" not in t.lower() for t in titles)
    assert {c.paper.arxiv_id for c in feed.cards} == {p.arxiv_id for p in world["listed"]["speech"]}
    # Whole words only: "RL" does not match "world".
    assert selectors._keyword_pattern(["rl"]).search("hello world") is None
    page = client.get("/papers/for-you").content.decode()
    assert 'value="speech, vision"' in page
    too_many = ", ".join(f"w{i}" for i in range(services.MAX_KEYWORDS + 1))
    assert client.post("/papers/for-you/filters", {"include": too_many}).status_code == 400


def test_a_new_user_gets_trending_and_an_invitation(world):
    newcomer = _user("newcomer")
    feed = selectors.for_you(user=newcomer)
    assert feed.cold_start
    trending = [c.paper.arxiv_id for c in paper_selectors.trending(limit=selectors.PAGE_SIZE)]
    assert _ids(feed) == trending
    page = _client(newcomer).get("/papers/for-you").content.decode()
    assert "Start your feed" in page and 'name="q"' in page and ">Save<" in page
    assert not Impression.objects.filter(user=newcomer).exists()
    # One save and the feed is personal.
    toggle_saved(user=newcomer, paper=world["profile"]["speech"][0])
    feed = selectors.for_you(user=newcomer)
    assert not feed.cold_start and feed.cards[0].paper.arxiv_id.startswith("2603.002")


def test_tabs_anonymous_and_bad_input(world, reader):
    assert Client().get("/papers/for-you").status_code == 302
    assert "/accounts/login/" in Client().get("/papers/for-you")["Location"]
    client = _client(reader)
    day = selectors.for_you(user=reader, period="day")
    assert (day.start, day.end) == (day.end, day.end) and {c.entry.day for c in day.cards} == {day.end}
    assert client.get("/papers/for-you?period=month").status_code == 200
    assert client.get("/papers/for-you?period=year").status_code == 400
    assert client.get("/papers/for-you/not-interested/nonsense").status_code in (404, 405)
    assert client.post("/papers/for-you/not-interested/nonsense").status_code == 404
    assert client.post("/papers/for-you/not-interested/2699.99999").status_code == 404
    assert Client().post("/papers/for-you/not-interested/2603.00100").status_code == 302


def test_the_header_links_for_you_for_signed_in_users(world, reader):
    assert 'href="/papers/for-you"' in _client(reader).get("/papers").content.decode()
    assert 'href="/papers/for-you"' not in Client().get("/papers").content.decode()


def test_api_for_you_with_a_token(world, reader):
    raw = create_token(user=reader, name="tests")[1]
    response = Client().get("/api/v1/me/for-you?period=week&limit=6", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    body = response.json()
    page_order = _ids(selectors.for_you(user=reader, limit=6))
    assert [i["paper"]["id"] for i in body["items"]] == page_order
    assert body["cold_start"] is False and body["count"] == 16 and body["items"][0]["rank"] == 1
    assert {i["reason"]["source"] for i in body["items"]} == {"upvoted", "saved"}
    assert not Impression.objects.filter(user=reader).exists()  # the API records no impressions
    assert Client().get("/api/v1/me/for-you").status_code == 401
    bad = Client().get("/api/v1/me/for-you?period=year", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert bad.status_code == 422 and "error" in bad.json()
    schema = Client().get("/api/openapi.json").json()
    operation = schema["paths"]["/api/v1/me/for-you"]["get"]
    assert "ForYouOut" in str(operation["responses"]["200"]) and operation["security"]


def test_the_personal_digest_uses_the_for_you_ranking(world, reader):
    papers = [p for group in ("other", "speech", "rl") for p in world["listed"][group]]
    ranked = selectors.rank_papers(user=reader, papers=papers)
    assert {p.arxiv_id for p in ranked[:6]} == {p.arxiv_id for p in world["listed"]["rl"] + world["listed"]["speech"]}


def test_moderators_see_for_you_rows_in_the_admin(world, reader):
    services.not_interested(user=reader, paper=world["listed"]["rl"][0])
    services.record_impressions(user=reader, paper_ids=[world["listed"]["rl"][1].pk])
    services.save_filters(user=reader, include="speech", exclude="")
    staff = client_for(make_user("mod", staff=True))
    for name in ("notinterested", "impression", "feedfilters"):
        response = staff.get(f"/admin/personal/{name}/")
        assert response.status_code == 200 and b"reader" in response.content


CODE, CHEMISTRY = 10, 11


@pytest.fixture
def followed_world(world):
    """Beside `world`: Grace Hopper's papers on compilers (an old one and one this week), a neighbour of
    them by someone else, a Deep Lab paper, and a paper a followed search's words match (its vector
    near the query's); keywords indexed."""
    code = _direction(CODE, 1)
    papers = {
        "grace_old": _paper("2602.00900", topic=code, day=None, title="Compilers for the A-0",
                            authors=["Grace Hopper"]),
        "grace_new": _paper("2603.00901", topic=code, day="2026-03-17", title="Compiling COBOL",
                            authors=["Grace Hopper"]),
        "neighbour": _paper("2603.00902", topic=code, day="2026-03-16", title="Register allocation", noise=0.3,
                            authors=["Someone Else"]),
        "lab": _paper("2603.00903", topic=_direction(CHEMISTRY, 1), day="2026-03-16", title="Molecules",
                      authors=["Someone Else"], organization=OrganizationRecord(slug="deep-lab", name="Deep Lab")),
        "annealing": _paper("2603.00904", topic=_direction(BIO, 1), day="2026-03-16", authors=["Someone Else"],
                            title="Quantum annealing for scheduling", abstract="Quantum annealing schedules jobs."),
    }
    # Its meaning is near the query's, as a paper its words match is (the real embedder's query vector).
    PaperVector.objects.filter(paper=papers["annealing"]).update(
        vector=_vector(np.asarray(embed_query("quantum annealing"), np.float32), noise=0.3))
    search_services.index_keywords(rebuild=True)
    return papers


def _follow_all(user) -> None:
    follows.follow_author(user=user, author=Author.objects.get(name="Grace Hopper"))
    follows.follow_organization(user=user, organization=Organization.objects.get(slug="deep-lab"))
    follows.follow_search(user=user, query="quantum annealing")


def test_follows_alone_start_a_ranking_with_reasons(world, followed_world):
    follower = _user("follower")
    assert selectors.for_you(user=follower).cold_start  # nothing yet: trending
    _follow_all(follower)
    feed = selectors.for_you(user=follower)
    assert not feed.cold_start
    cards = {c.paper.arxiv_id: c for c in feed.cards}
    order = list(cards)
    # What the follows bring first: the followed author's, the organization's and the search's papers.
    direct = {followed_world[k].arxiv_id for k in ("grace_new", "lab", "annealing")}
    assert set(order[:3]) == direct
    assert cards["2603.00901"].reason == selectors.Reason(source="followed", author="Grace Hopper")
    assert cards["2603.00903"].reason == selectors.Reason(source="organization", via="Deep Lab")
    assert cards["2603.00904"].reason == selectors.Reason(source="search", via="quantum annealing")
    # Then their neighbours by meaning: the compiler paper by someone else beats every popular paper
    # on other topics, and says which followed paper it is like.
    neighbour = cards["2603.00902"]
    assert order.index("2603.00902") < min(order.index(p.arxiv_id) for p in world["listed"]["other"])
    assert neighbour.reason.source == "near-follow" and neighbour.reason.via == "Grace Hopper"
    assert neighbour.reason.arxiv_id in ("2602.00900", "2603.00901")

    page = _client(follower).get("/papers/for-you").content.decode()
    assert "Start your feed" not in page
    assert "by Grace Hopper, an author you follow" in page and "from Deep Lab, which you follow" in page
    assert "matches your followed search “quantum annealing”" in page and "from your follow Grace Hopper" in page
    raw = create_token(user=follower, name="tests")[1]
    body = Client().get("/api/v1/me/for-you", HTTP_AUTHORIZATION=f"Bearer {raw}").json()
    assert body["cold_start"] is False
    assert {i["paper"]["id"]: i["reason"]["source"] for i in body["items"][:3]} == {
        "2603.00901": "followed", "2603.00903": "organization", "2603.00904": "search"}

    # The digest ranks by the same follows.
    papers = [p for group in ("other", "rl") for p in world["listed"][group]] + [
        followed_world[k] for k in ("neighbour", "lab", "annealing", "grace_new")]
    assert {p.arxiv_id for p in selectors.rank_papers(user=follower, papers=papers)[:3]} == direct

    # Unfollowing everything: the trending list again (the cached profile and order are not reused).
    Follow.objects.filter(user=follower).delete()
    assert selectors.for_you(user=follower).cold_start


def test_a_follow_counts_as_one_upvote_beside_upvotes(world, reader, followed_world):
    """The RL and speech reader follows Grace Hopper too: her paper comes first (lifted), the RL and
    speech papers keep the places after it, and the neighbour of her papers stays below them (her ten
    newest papers weigh as much as one upvote, not ten)."""
    follows.follow_author(user=reader, author=Author.objects.get(name="Grace Hopper"))
    order = _ids(selectors.for_you(user=reader))
    assert order[0] == "2603.00901"
    wanted = {p.arxiv_id for p in world["listed"]["rl"] + world["listed"]["speech"]}
    assert set(order[1:7]) == wanted


def test_the_month_tab_reaches_back_30_days_and_the_week_7(world, reader):
    older = _paper("2602.00700", topic=_direction(RL, 1), day="2026-02-25", title="Older policy gradients")
    assert older.arxiv_id not in _ids(selectors.for_you(user=reader, period="week"))
    month = selectors.for_you(user=reader, period="month")
    assert (month.end - month.start).days == 29 and older.arxiv_id in _ids(month)
    page = _client(reader).get("/papers/for-you?period=month").content.decode()
    assert 'aria-current="page">Monthly<' in page and f'data-arxiv-id="{older.arxiv_id}"' in page


def test_the_personal_digest_sends_the_for_you_order_without_hidden_papers(world, reader):
    hidden = world["listed"]["rl"][0]
    services.not_interested(user=reader, paper=hidden)
    subscription = Subscription.objects.create(email="reader@example.org", user=reader, personal=True)
    papers = [p for group in ("other", "speech", "rl") for p in world["listed"][group]]
    sent = digest_papers(subscription=subscription, papers=papers)
    assert hidden not in sent
    assert _ids_of(sent[:5]) == _ids_of(selectors.rank_papers(user=reader, papers=papers)[:5])
    liked = world["listed"]["rl"][1:] + world["listed"]["speech"]
    assert {p.arxiv_id for p in sent[:5]} == {p.arxiv_id for p in liked}


def _ids_of(papers) -> list[str]:
    return [p.arxiv_id for p in papers]
