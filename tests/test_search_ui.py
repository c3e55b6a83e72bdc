"""The search page: clean addresses, pages, trimmed queries, why each result is there, and empty results."""

import re
from datetime import datetime, timezone
from html import unescape
from urllib.parse import parse_qsl, urlsplit

import pytest

from dailypapers.papers.models import Author, Paper
from dailypapers.papers.records import PaperRecord
from dailypapers.papers.selectors import Card, card_papers
from dailypapers.papers.services import upsert_papers
from dailypapers.search import services
from dailypapers.search.forms import trim_query
from dailypapers.search.selectors import MAX_QUERY_LENGTH, SearchResults

from .helpers import load_papers, make_user

pytestmark = pytest.mark.django_db

EMPTY_FORM = {"published_from": "", "published_to": "", "category": "", "organization": "", "author": "",
              "sort": "relevance"}


@pytest.fixture
def papers(db):
    load_papers()


def card_ids(html: str) -> list[str]:
    return re.findall(r'<article class="card" data-arxiv-id="([^"]+)"', html)


# The address carries only the parameters in use

def test_form_submit_with_empty_fields_redirects_to_the_parameters_in_use(client, papers):
    response = client.get("/papers", {"q": " diffusion ", **EMPTY_FORM})
    assert response.status_code == 302 and response["Location"] == "/papers?q=diffusion"
    assert card_ids(client.get(response["Location"]).content.decode())[0] == "2601.00003"

    response = client.get("/papers", {"q": "networks", **EMPTY_FORM, "category": "cs.CV", "sort": "date", "page": "1"})
    assert response.status_code == 302
    assert parse_qsl(urlsplit(response["Location"]).query) == [
        ("q", "networks"),
        ("category", "cs.CV"),
        ("sort", "date"),
    ]
    # A clean address is served as it is, and parameters the page doesn't know are dropped.
    assert client.get("/papers", {"q": "diffusion"}).status_code == 200
    assert client.get("/papers", {"q": "diffusion", "utm_source": "x"})["Location"] == "/papers?q=diffusion"


def test_htmx_search_replaces_the_address_with_the_parameters_in_use(client, papers):
    response = client.get("/papers", {"q": "diffusion", **EMPTY_FORM, "listed": "on"}, headers={"HX-Request": "true"})
    assert response.status_code == 200  # no redirect: htmx is told which address to show
    assert response["HX-Replace-Url"] == "/papers?q=diffusion&listed=on"
    assert "HX-Push-Url" not in response
    html = response.content.decode()
    assert 'hx-push-url' not in html  # the server's header decides: replace, never one entry per keystroke


def test_pager_links_carry_only_the_parameters_in_use(client, many_papers):
    html = client.get("/papers", {"q": "quokka", "category": "cs.LG"}).content.decode()
    next_link = unescape(re.search(r'<a rel="next" href="\?([^"]+)"', html)[1])
    assert parse_qsl(next_link) == [("q", "quokka"), ("category", "cs.LG"), ("page", "2")]
    html = client.get("/papers", {"q": "quokka", "page": "2"}).content.decode()
    assert unescape(re.search(r'<a rel="prev" href="\?([^"]+)"', html)[1]) == "q=quokka"  # page 1 is the default


# Count and pages agree; a page past the last says so

@pytest.fixture
def many_papers(db):
    upsert_papers(records=[
        PaperRecord(arxiv_id=f"2602.{n:05d}", title=f"Quokka study number {n}", abstract="About quokkas.",
                    authors=["Ada Lovelace"], categories=["cs.LG"],
                    published_at=datetime(2026, 2, 1, tzinfo=timezone.utc))
        for n in range(1, 46)
    ])
    services.index_keywords(rebuild=True)


def test_result_count_and_pages_agree(client, many_papers):
    seen: list[str] = []
    for page in (1, 2, 3):
        html = client.get("/papers", {"q": "quokka", "page": page} if page > 1 else {"q": "quokka"}).content.decode()
        assert "45 results" in html and f"Page {page} of 3" in html
        seen += card_ids(html)
    assert len(seen) == 45 and len(set(seen)) == 45  # every result on exactly one page


@pytest.mark.parametrize("page", ["4", "999", "5000"])
def test_a_page_past_the_last_says_there_is_no_such_page(client, many_papers, page):
    response = client.get("/papers", {"q": "quokka", "page": page})
    html = response.content.decode()
    assert response.status_code == 404
    assert f"There is no page {page}" in html and "The 45 results fill 3 pages" in html
    assert card_ids(html) == []
    last = unescape(re.search(r'<a rel="last" href="\?([^"]+)"', html)[1])
    assert parse_qsl(last) == [("q", "quokka"), ("page", "3")]


# An over-long query is trimmed with a note

def test_trim_query_cuts_at_a_word_boundary():
    words = "diffusion " * 30  # 300 characters; the 250-character cut falls after "diffusion " number 25
    assert trim_query(words) == ("diffusion " * 25).strip()
    cut_inside_a_word = "ab " + "diffusion " * 30
    trimmed = trim_query(cut_inside_a_word)
    assert len(trimmed) <= MAX_QUERY_LENGTH and trimmed.endswith("diffusion") and cut_inside_a_word.startswith(trimmed)
    assert trim_query("x" * 300) == "x" * 250  # one endless word is cut where it must be
    assert trim_query("short query") == "short query"


def test_an_over_long_query_is_trimmed_searched_and_noted(client, papers):
    query = "diffusion probabilistic models " + " ".join(["image synthesis"] * 20)  # 350 characters
    response = client.get("/papers", {"q": query})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Your query was longer than 250 characters" in html
    searched = unescape(re.search(r'id="id_q" type="search" name="q" value="([^"]*)"', html)[1])
    assert 240 < len(searched) <= 250 and query.startswith(searched) and query[len(searched)] == " "  # whole words
    assert card_ids(html)[0] == "2601.00003"
    assert "longer than" not in client.get("/papers", {"q": "diffusion"}).content.decode()


# Why each result is there, and the other result notes

def fake_results(monkeypatch, **fields) -> SearchResults:
    papers = card_papers().in_bulk(list(Paper.objects.order_by("arxiv_id").values_list("pk", flat=True)[:3]))
    results = SearchResults(cards=[Card(paper=p) for p in papers.values()], total=3, page=1, per_page=20, **fields)
    monkeypatch.setattr("dailypapers.search.views.search_papers", lambda **kwargs: results)
    return results


def test_cards_show_which_fields_matched(client, papers, monkeypatch):
    first, second, third = Paper.objects.order_by("arxiv_id")[:3]
    fake_results(monkeypatch, matched={first.pk: ["title", "authors"], second.pk: ["meaning"]})
    html = client.get("/papers", {"q": "anything"}).content.decode()
    cards = dict(zip(card_ids(html), re.split(r'<article class="card"', html)[1:]))
    assert (
        '<span class="matched" title="why this paper is here">matched: title, authors</span>' in cards[first.arxiv_id]
    )
    assert ">similar meaning</span>" in cards[second.arxiv_id]
    assert 'class="matched"' not in cards[third.arxiv_id]  # nothing said when nothing is known


def test_list_pages_show_no_matched_line(client, papers):
    html = client.get("/papers/date/2026-01-05").content.decode()
    assert card_ids(html) and 'class="matched"' not in html


def test_correction_suggestion_and_author_links_are_escaped(client, papers, monkeypatch):
    author = Author.objects.get(name="Ada Lovelace")
    fake_results(monkeypatch, corrected="<b>diffusion</b>", suggestion='"><script>alert(1)</script>', authors=[author])
    html = client.get("/papers", {"q": "difusion", "category": "cs.LG"}).content.decode()
    assert "<script>alert(1)" not in html and "<b>diffusion</b>" not in html
    assert "Showing results for" in html and "&lt;b&gt;diffusion&lt;/b&gt;" in html
    suggestion = unescape(re.search(r'Did you mean <a href="\?([^"]+)"', html)[1])
    assert parse_qsl(suggestion) == [("q", '"><script>alert(1)</script>'), ("category", "cs.LG")]
    assert f'<a href="{author.get_absolute_url()}">Papers by <strong>Ada Lovelace</strong></a>' in html


def test_a_correction_is_not_suggested_twice(client, papers, monkeypatch):
    fake_results(monkeypatch, corrected="diffusion", suggestion="diffusion")
    html = client.get("/papers", {"q": "difusion"}).content.decode()
    assert re.search(r'Showing results for <a href="\?q=diffusion"><em>diffusion</em></a>', html)
    assert "Did you mean" not in html


def test_without_those_fields_nothing_extra_is_shown(client, papers):
    html = client.get("/papers", {"q": "diffusion"}).content.decode()
    assert "Showing results for" not in html and "Did you mean" not in html and "Papers by" not in html


# Empty results

def test_no_results_offers_to_drop_the_filters(client, papers):
    response = client.get("/papers", {"q": "diffusion", "category": "math.NT", "sort": "date"})
    html = response.content.decode()
    assert response.status_code == 200 and "No papers match" in html and "Check the spelling" in html
    assert "BibTeX</a>" not in html  # nothing to export
    assert "BibTeX</a>" in client.get("/papers", {"q": "diffusion"}).content.decode()
    no_filters = unescape(re.search(r'<a href="\?([^"]+)">Search without the filters', html)[1])
    assert parse_qsl(no_filters) == [("q", "diffusion"), ("sort", "date")]
    assert "2601.00003" in card_ids(client.get("/papers?" + no_filters).content.decode())


def test_an_arxiv_id_we_dont_hold_offers_to_fetch_it(client, papers):
    html = client.get("/papers", {"q": "arXiv:2612.99999v2"}).content.decode()
    assert "We don't have arXiv:2612.99999 yet" in html
    assert 'href="/accounts/login/?next=/papers/submit%3Fpaper%3D2612.99999"' in html  # signed out: log in first

    client.force_login(make_user())
    html = client.get("/papers", {"q": "https://arxiv.org/abs/2612.99999"}).content.decode()
    assert '<a class="button" href="/papers/submit?paper=2612.99999">Fetch it from arXiv</a>' in html
    # The submit page starts with that id filled in.
    submit = client.get("/papers/submit", {"paper": "2612.99999"}).content.decode()
    assert re.search(r'<input type="text" name="paper" value="2612.99999"', submit)

    held = client.get("/papers", {"q": "2601.00001"}).content.decode()
    assert card_ids(held) == ["2601.00001"] and "We don't have" not in held
    assert "We don't have" not in client.get("/papers", {"q": "diffusion"}).content.decode()
