"""A paper's card: the shared body is cached per process (papers/templatetags/cards.py) and the
reader's controls (vote, save) are drawn in Python; neither may show a stale or a wrong thing."""

import re

import pytest
from django.core.cache import caches

from dailypapers.community.controls import vote_control
from dailypapers.papers import services as paper_services
from dailypapers.papers.models import Organization, Paper

from .helpers import client_for, make_user

pytestmark = pytest.mark.django_db


def _card(html: str, arxiv_id: str) -> str:
    match = re.search(rf'<article class="card" data-arxiv-id="{re.escape(arxiv_id)}">(.*?)</article>', html, re.S)
    assert match, f"no card for {arxiv_id}"
    return match.group(1)


def _day_card(client, arxiv_id="2603.00002", day="2026-03-16") -> str:
    response = client.get(f"/papers/date/{day}")
    assert response.status_code == 200
    return _card(response.content.decode(), arxiv_id)


def test_a_cached_card_body_follows_every_change_to_what_it_shows(three_days, client):
    first = _day_card(client)
    assert "Top paper with" in first and "ACME AI" in first and "★ 1,234" in first and "> 0<" in first
    assert len(caches["cards"]._cache) > 0  # the bodies were cached
    paper = Paper.objects.get(arxiv_id="2603.00002")
    changes = [
        ("title", lambda: Paper.objects.filter(pk=paper.pk).update(title="A renamed paper"), "A renamed paper"),
        ("stars", lambda: Paper.objects.filter(pk=paper.pk).update(github_stars=99), "★ 99<"),
        ("comments", lambda: paper_services.adjust_counts(paper_id=paper.pk, comments=2), "> 2<"),
        ("organization", lambda: Organization.objects.filter(slug="acme-ai").update(name="ACME Research"),
         "ACME Research"),
    ]
    for what, change, shown in changes:
        change()
        paper_services.refresh_pages(paper_ids=[paper.pk])  # the page cache is not what this test is about
        card = _day_card(client)
        assert shown in card, f"the card did not follow the change of {what}"


def test_two_readers_share_a_body_but_each_sees_their_own_vote_and_save(three_days):
    from dailypapers.collections.services import toggle_saved
    from dailypapers.community.services import toggle_vote

    ada, bob = make_user("ada"), make_user("bob")
    paper = Paper.objects.get(arxiv_id="2603.00002")
    toggle_vote(user=ada, paper=paper)
    toggle_saved(user=ada, paper=paper)
    for_ada, for_bob = _day_card(client_for(ada)), _day_card(client_for(bob))
    assert 'class="votes voted"' in for_ada and 'class="save saved"' in for_ada and "Saved</button>" in for_ada
    assert 'class="votes voted"' not in for_bob and 'class="save saved"' not in for_bob
    assert 'aria-pressed="false"' in for_bob and "Take back your upvote" not in for_bob
    # The same body around both readers' controls: the parts outside the forms are equal.
    strip = re.compile(r"<form .*?</form>", re.S)
    assert strip.sub("", for_ada) == strip.sub("", for_bob)


def test_an_anonymous_reader_gets_log_in_links_that_come_back_to_the_page(three_days, client):
    response = client.get("/papers/date/2026-03-16")
    assert "csrftoken" not in response.cookies  # no form, no token: the page stays cacheable
    card = _card(response.content.decode(), "2603.00002")
    assert "<form" not in card
    assert 'href="/accounts/login/?next=/papers/date/2026-03-16" title="Log in to upvote"' in card
    assert 'class="save" href="/accounts/login/?next=/papers/date/2026-03-16"' in card


def test_the_htmx_vote_answer_is_the_control_a_page_draws(three_days):
    ada = make_user("ada")
    client = client_for(ada)
    response = client.post("/papers/2603.00002/vote", {"next": "/papers/date/2026-03-16"}, HTTP_HX_REQUEST="true",
                           HTTP_REFERER="http://testserver/papers/date/2026-03-16")
    assert response.status_code == 200
    html = response.content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    assert html == vote_control(paper_id="2603.00002", voted=True, count=41, signed_in=True, csrf_token=token,
                                next_path="/papers/date/2026-03-16")
    card = _day_card(client)
    on_page = re.search(r'<form class="votes.*?</form>', card, re.S).group(0)
    page_token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', on_page).group(1)
    assert on_page == html.replace(token, page_token)


def test_a_title_is_escaped_in_the_cached_body(three_days, client):
    paper = Paper.objects.get(arxiv_id="2603.00002")
    Paper.objects.filter(pk=paper.pk).update(title='<script>alert(1)</script> "quoted"')
    card = _day_card(client)
    assert "<script>alert(1)</script>" not in card and "&lt;script&gt;alert(1)&lt;/script&gt;" in card
