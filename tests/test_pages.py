"""The list pages and paper page through the whole HTTP stack (Django's test client)."""

import re

import pytest

from dailypapers.papers import selectors
from dailypapers.papers.models import Paper
from dailypapers.papers.services import upsert_papers

from .helpers import client_for, make_paper, make_user

pytestmark = pytest.mark.django_db


def card_ids(html: str) -> list[str]:
    return re.findall(r'<article class="card" data-arxiv-id="([^"]+)"', html)


def test_papers_shows_latest_day_with_everything_a_card_carries(client, three_days):
    response = client.get("/papers")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Daily Papers" in html and "by AK and the research community" in html
    assert "Mar 17, 2026" in html
    assert card_ids(html) == ["2603.00005"]
    assert 'rel="prev" href="/papers/date/2026-03-16"' in html
    assert "Daily</a>" in html and "Weekly</a>" in html and "Monthly</a>" in html


def test_day_is_ordered_by_upvotes_then_submission_time(client, three_days):
    html = client.get("/papers/date/2026-03-16").content.decode()
    assert card_ids(html) == ["2603.00002", "2603.00003", "2603.00004"]
    top = html[html.index('data-arxiv-id="2603.00002"'):html.index('data-arxiv-id="2603.00003"')]
    assert ">40<" in top
    assert "ACME AI" in top and 'href="/organizations/acme-ai"' in top
    assert "GitHub ★ 1,234" in top and "https://github.com/acme/top" in top
    assert "Mar 10, 2026" in top  # published on arXiv
    assert "> 0<span class=\"sr-only\"> comments" in top
    other = html[html.index('data-arxiv-id="2603.00003"'):]
    assert "2 authors" in other


def test_previous_and_next_skip_empty_days(client, three_days):
    html = client.get("/papers/date/2026-03-16").content.decode()
    assert 'rel="prev" href="/papers/date/2026-03-13"' in html  # Friday, the weekend skipped
    assert 'rel="next" href="/papers/date/2026-03-17"' in html
    html = client.get("/papers/date/2026-03-13").content.decode()
    assert 'rel="prev"' not in html


def test_week_and_month(client, three_days):
    html = client.get("/papers/week/2026-W12").content.decode()
    assert card_ids(html) == ["2603.00002", "2603.00003", "2603.00004", "2603.00005"]
    assert 'rel="prev" href="/papers/week/2026-W11"' in html
    html = client.get("/papers/month/2026-03").content.decode()
    assert card_ids(html) == ["2603.00002", "2603.00003", "2603.00004", "2603.00001", "2603.00005"]


@pytest.mark.parametrize(
    "url, reason",
    [
        ("/papers/date/2026-13-45", "is not a date"),
        ("/papers/date/yesterday", "is not a date"),
        ("/papers/date/2026-3-1", "is not a date"),
        ("/papers/week/2026-W54", "is not an ISO week"),
        ("/papers/week/2026-12", "is not an ISO week"),
        ("/papers/month/2026-00", "is not a month"),
        ("/papers/month/march", "is not a month"),
    ],
)
def test_malformed_dates_get_a_400_with_the_reason(client, three_days, url, reason):
    response = client.get(url)
    assert response.status_code == 400
    assert reason in response.content.decode()


def test_empty_day_links_to_nearest_days(client, three_days):
    response = client.get("/papers/date/2026-03-14")
    html = response.content.decode()
    assert response.status_code == 200
    assert card_ids(html) == []
    assert "No papers on this day" in html
    assert 'href="/papers/date/2026-03-13"' in html and 'href="/papers/date/2026-03-16"' in html


def test_empty_site_explains_how_to_load_papers_to_staff_only(client, db):
    html = client.get("/papers").content.decode()
    assert "No papers yet" in html and "<code>dailypapers" not in html  # no admin commands for readers
    html = client_for(make_user("mod", staff=True)).get("/papers").content.decode()
    assert "dailypapers demo" in html


def test_trending_states_its_formula_and_decays_with_age(client, three_days):
    html = client.get("/papers/trending").content.decode()
    assert "upvotes ÷ (hours since listed + 2)^1.5" in html
    # 2603.00005: 3 votes, listed 0 h before the newest listing → 3 / 2^1.5 = 1.06;
    # 2603.00002: 40 votes, listed 27 h earlier → 40 / 29^1.5 = 0.256.
    ids = card_ids(html)
    assert ids[0] == "2603.00005"
    scores = [c.score for c in selectors.trending()]
    assert scores == sorted(scores, reverse=True)
    assert selectors.trending_score(upvotes=40, hours=27) == pytest.approx(40 / 29**1.5)
    # Listed more than 7 days before the newest listing: out of the window.
    assert "2603.00001" in ids
    upsert_papers(records=[make_paper("2603.00009", day="2026-03-25", upvotes=1)])
    assert "2603.00001" not in card_ids(client.get("/papers/trending").content.decode())


def test_paper_page(client, three_days):
    response = client.get("/papers/2603.00002")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'Top paper with <span class="tex" data-display="0">\\alpha</span> math' in html
    assert "#1 paper of the day" in html
    assert 'href="https://arxiv.org/abs/2603.00002"' in html and 'href="https://arxiv.org/pdf/2603.00002"' in html
    assert "Ada Lovelace" in html and "Alan Turing" in html
    assert "Listed on" in html and "akhaliq" in html
    assert "cs.CL" in html and "ACME AI" in html
    author_url = re.search(r'href="(/authors/\d+)">Ada Lovelace', html)[1]
    author_page = client.get(author_url).content.decode()
    assert len(card_ids(author_page)) == 6
    assert "2603.00003" in client.get("/papers/2603.00003").content.decode()


def test_rank_of_the_day_follows_the_list_order(client, three_days):
    assert "#2 paper of the day" in client.get("/papers/2603.00003").content.decode()
    assert "#3 paper of the day" in client.get("/papers/2603.00004").content.decode()


def test_versioned_id_redirects_and_old_style_ids_work(client, three_days):
    response = client.get("/papers/2603.00002v3")
    assert response.status_code == 301 and response["Location"] == "/papers/2603.00002"
    response = client.get("/papers/hep-th/9901001")
    assert response.status_code == 200 and "An old-style paper" in response.content.decode()
    response = client.get("/papers/hep-th/9901001v2.md")
    assert response.status_code == 301 and response["Location"] == "/papers/hep-th/9901001.md"


def test_unknown_and_invalid_ids_get_404_pages(client, three_days):
    response = client.get("/papers/2401.99999")
    assert response.status_code == 404 and "No paper 2401.99999" in response.content.decode()
    response = client.get("/papers/not-an-id")
    assert response.status_code == 404 and "is not an arXiv id" in response.content.decode()
    assert client.get("/papers/2401.99999.md").status_code == 404
    assert client.get("/authors/999999").status_code == 404
    assert client.get("/organizations/nobody").status_code == 404


def test_markdown_export(client, three_days):
    response = client.get("/papers/2603.00002.md")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    body = response.content.decode()
    assert body.startswith("# Top paper with $\\alpha$ math")
    assert "Ada Lovelace, Alan Turing" in body
    assert "## Abstract" in body and "https://arxiv.org/abs/2603.00002" in body


def test_organization_page(client, three_days):
    html = client.get("/organizations/acme-ai").content.decode()
    assert "ACME AI" in html and card_ids(html) == ["2603.00002"]


def test_cached_page_changes_after_an_ingest(client, three_days):
    assert card_ids(client.get("/papers/date/2026-03-17").content.decode()) == ["2603.00005"]
    upsert_papers(records=[make_paper("2603.00006", day="2026-03-17", upvotes=9)])
    assert card_ids(client.get("/papers/date/2026-03-17").content.decode()) == ["2603.00006", "2603.00005"]
    paper = Paper.objects.get(arxiv_id="2603.00005")
    assert paper.upvotes == 3


def test_home_redirects_to_papers(client, db):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/papers"


@pytest.mark.parametrize("url", ["/papers/month/9999-12", "/papers/week/9999-W52", "/papers/date/0001-01-01"])
def test_dates_at_the_edge_of_the_calendar_are_a_400_not_a_crash(client, db, url):
    response = client.get(url)
    assert response.status_code == 400 and "out of range" in response.content.decode()
