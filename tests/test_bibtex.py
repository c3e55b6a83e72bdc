"""BibTeX for every paper and every list: arXiv's style, stable keys, LaTeX-escaped, and read back
with a real BibTeX parser (bibtexparser 2, decoding LaTeX with pylatexenc)."""

from datetime import datetime, timezone

import bibtexparser
import pytest
from bibtexparser.middlewares import LatexDecodingMiddleware, SeparateCoAuthors
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from dailypapers.papers import bibtex
from dailypapers.papers.bibtex import BibPaper
from dailypapers.papers.services import upsert_papers
from dailypapers.search.services import index_keywords

from .helpers import make_paper


def parse(text: str):
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks, [b.error for b in library.failed_blocks]
    return library


def decoded(text: str):
    return parse_with(text, SeparateCoAuthors(), LatexDecodingMiddleware())


def parse_with(text, *middlewares):
    library = bibtexparser.parse_string(text, append_middleware=list(middlewares))
    assert not library.failed_blocks
    return library


ATTENTION = BibPaper(
    arxiv_id="1706.03762", title="Attention Is All You Need",
    authors=["Ashish Vaswani", "Noam Shazeer", "Niki Parmar"], year=2017, primary_category="cs.CL",
)


def test_an_entry_is_in_arxiv_style():
    assert bibtex.entry(ATTENTION) == (
        "@misc{vaswani2017attentionneed,\n"
        "      title={Attention Is All You Need},\n"
        "      author={Ashish Vaswani and Noam Shazeer and Niki Parmar},\n"
        "      year={2017},\n"
        "      eprint={1706.03762},\n"
        "      archivePrefix={arXiv},\n"
        "      primaryClass={cs.CL},\n"
        "      url={https://arxiv.org/abs/1706.03762},\n"
        "}\n"
    )
    entry = parse(bibtex.entry(ATTENTION)).entries[0]
    assert entry.entry_type == "misc" and entry.key == "vaswani2017attentionneed"
    assert {f.key: f.value for f in entry.fields} == {
        "title": "Attention Is All You Need", "author": "Ashish Vaswani and Noam Shazeer and Niki Parmar",
        "year": "2017", "eprint": "1706.03762", "archivePrefix": "arXiv", "primaryClass": "cs.CL",
        "url": "https://arxiv.org/abs/1706.03762",
    }


def test_special_characters_are_escaped_outside_maths_and_capitals_kept():
    paper = BibPaper(
        arxiv_id="2401.00001", year=2024, primary_category="cs.LG",
        title="R&D at 100% with $\\alpha_1 \\& x_2$: snake_case #1 for BERT and LLaMA-2 ~ fast^2",
        authors=["Zoë Müller-Łukasiewicz", "Barnes and Noble Team", "Lovelace, Ada"],
    )
    text = bibtex.entry(paper)
    assert r"R\&D at 100\% with $\alpha_1 \& x_2$: snake\_case \#1 for {BERT} and {LLaMA-2}" in text
    assert r"\textasciitilde{} fast\textasciicircum{}2" in text
    entry = decoded(text).entries[0]
    # A name holding the word "and" is braced whole, so it stays one name.
    assert entry["author"] == ["Zoë Müller-Łukasiewicz", "{Barnes and Noble Team}", "Lovelace, Ada"]
    title = entry["title"]
    assert "R&D at 100% with" in title and "snake_case #1 for BERT and LLaMA-2" in title
    assert entry.key == "mullerlukasiewicz2024rd100"


def test_unbalanced_braces_cannot_end_the_field_early():
    paper = BibPaper(arxiv_id="2401.00002", title="A } closing brace, then { one more {",
                     authors=["Ada Lovelace"], year=2024, primary_category="cs.AI")
    entry = parse(bibtex.entry(paper)).entries[0]
    assert entry["title"] == r"A \textbraceright{} closing brace, then \textbraceleft{} one more \textbraceleft{}"
    assert entry["eprint"] == "2401.00002"


def test_keys_are_stable_and_unique_within_a_file():
    twin = BibPaper(arxiv_id="1706.99999", title="Attention is all you need, again",
                    authors=["Ashish Vaswani"], year=2017, primary_category="cs.CL")
    other = BibPaper(arxiv_id="2401.00003", title="On the Road", authors=[], year=None, primary_category="")
    assert bibtex.base_key(twin) == bibtex.base_key(ATTENTION) == "vaswani2017attentionneed"
    assert bibtex.base_key(other) == "anonymousroad"
    # Suffixes follow arXiv-id order, whatever order the papers come in.
    expected = ["vaswani2017attentionneedb", "anonymousroad", "vaswani2017attentionneeda"]
    assert bibtex.keys([twin, other, ATTENTION]) == expected
    library = parse(bibtex.bibliography([twin, other, ATTENTION]))
    assert [e.key for e in library.entries] == expected
    assert [e["eprint"] for e in library.entries] == ["1706.99999", "2401.00003", "1706.03762"]
    assert "year" not in library.entries[1].fields_dict and "author" not in library.entries[1].fields_dict


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    title=st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=120),
    authors=st.lists(st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=40),
                     min_size=1, max_size=5),
)
def test_any_title_and_names_make_one_well_formed_entry(title, authors):
    if not title.strip() or not all(a.strip() for a in authors):
        return
    paper = BibPaper(arxiv_id="2401.12345", title=title, authors=authors, year=2024, primary_category="cs.CL")
    text = bibtex.entry(paper)
    library = parse(text)
    assert len(library.entries) == 1 and not library.comments
    entry = library.entries[0]
    assert entry.key == bibtex.base_key(paper) and entry.key.isascii()
    # Every field reads back whole: nothing in a title or a name can end it or start another.
    assert entry["eprint"] == "2401.12345" and entry["url"] == "https://arxiv.org/abs/2401.12345"
    assert entry["title"] == bibtex.escape(title, protect_capitals=True)


@pytest.fixture
def papers(three_days):
    upsert_papers(records=[make_paper(
        "2603.00006", day="2026-03-17", upvotes=1, title="Zero-shot $k$-NN & friends",
        authors=["Grace Hopper"], published_at=datetime(2026, 3, 11, tzinfo=timezone.utc),
        categories=["stat.ML", "cs.LG"],
    )])
    index_keywords(rebuild=True)


def test_a_paper_as_bib(client, papers):
    response = client.get("/papers/2603.00006.bib")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-bibtex; charset=utf-8"
    assert 'filename="2603.00006.bib"' in response["Content-Disposition"]
    entry = parse(response.content.decode()).entries[0]
    assert entry.key == "hopper2026zeroshot"
    assert entry["title"] == r"Zero-shot $k$-{NN} \& friends"
    assert entry["primaryClass"] == "stat.ML" and entry["year"] == "2026"


def test_old_style_and_versioned_ids(client, papers):
    assert parse(client.get("/papers/hep-th/9901001.bib").content.decode()).entries[0]["eprint"] == "hep-th/9901001"
    response = client.get("/papers/2603.00006v3.bib")
    assert response.status_code == 301 and response["Location"] == "/papers/2603.00006.bib"


@pytest.mark.parametrize("url, status, reason", [
    ("/papers/2699.99999.bib", 404, "No paper 2699.99999 here yet."),
    ("/papers/not-an-id.bib", 404, "is not an arXiv id"),
    ("/papers/date/2026-13-01.bib", 400, "is not a date"),
    ("/papers/week/2026-W60.bib", 400, "is not an ISO week"),
    ("/papers/month/26-03.bib", 400, "is not a month"),
    ("/papers.bib", 400, "Say what to search for"),
    ("/papers.bib?q=attention&sort=sideways", 400, "sideways is not one of the available choices"),
])
def test_bad_requests_say_why_in_plain_text(client, papers, url, status, reason):
    response = client.get(url)
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/plain")
    assert reason in response.content.decode()


def _eprints(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [e["eprint"] for e in parse(response.content.decode()).entries]


def test_lists_export_what_the_list_shows_in_its_order(client, papers):
    assert _eprints(client.get("/papers/date/2026-03-16.bib")) == ["2603.00002", "2603.00003", "2603.00004"]
    assert _eprints(client.get("/papers/date/2026-03-14.bib")) == []
    week = _eprints(client.get("/papers/week/2026-W12.bib"))
    assert week == ["2603.00002", "2603.00003", "2603.00004", "2603.00005", "2603.00006"]
    month = _eprints(client.get("/papers/month/2026-03.bib"))
    assert sorted(month) == sorted(week + ["2603.00001"]) and month[0] == "2603.00002"


def test_search_results_export_in_rank_order(client, papers):
    page = client.get("/papers", {"q": "Zero-shot k-NN friends"})
    assert b'href="/papers.bib?q=Zero-shot+k-NN+friends"' in page.content
    assert _eprints(client.get("/papers.bib", {"q": "Zero-shot k-NN friends"}))[0] == "2603.00006"
    assert _eprints(client.get("/papers.bib", {"q": "Grace Hopper"})) == ["2603.00006"]


def test_pages_offer_the_exports(client, papers):
    paper_page = client.get("/papers/2603.00006").content.decode()
    assert "<summary class=\"button\">Cite</summary>" in paper_page
    assert "@misc{hopper2026zeroshot," in paper_page and 'href="/papers/2603.00006.bib"' in paper_page
    assert 'href="/papers/date/2026-03-16.bib"' in client.get("/papers/date/2026-03-16").content.decode()
    assert 'href="/papers/week/2026-W12.bib"' in client.get("/papers/week/2026-W12").content.decode()
    assert 'href="/papers/month/2026-03.bib"' in client.get("/papers/month/2026-03").content.decode()
    assert 'href="/papers/trending.bib"' in client.get("/papers/trending").content.decode()
