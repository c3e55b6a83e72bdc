"""Malformed input through every real source and the real upsert (issue 8, item 7).

Each property test generates a batch of records for one source: valid ones, ones
with a bad optional field (which must be dropped and counted, the paper kept) and
ones that cannot be a paper (which must be skipped with a reason), mixed, and runs
them through the source and upsert_papers into the test database (SQLite or
PostgreSQL, where NUL bytes and out-of-range numbers used to abort the batch).
Asserted: nothing raises, every paper that should be there is, with the bad field
empty, and the counts say what was skipped.
"""

import json
import xml.sax.saxutils as saxutils
from dataclasses import dataclass
from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dailypapers.papers.models import Author, DailyEntry, HarvestState, Organization, Paper
from dailypapers.papers.records import parse_arxiv_id
from dailypapers.papers.services import ingest, upsert_papers
from dailypapers.papers.sources import arxiv_api, arxiv_oai, hf_daily, jsonl
from dailypapers.papers.sources.arxiv_oai import parse_arxiv_date

from .replay import ReplayServer

pytestmark = pytest.mark.django_db

EXAMPLES = settings(
    max_examples=25, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Characters no stored text may hold: PostgreSQL refuses NUL and surrogates, the rest are invisible junk.
FORBIDDEN = {chr(c) for c in [*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F, *range(0xD800, 0xE000)]}


@dataclass
class Case:
    """One generated record: 'valid', 'field' (one optional field is bad) or 'record' (not a paper)."""

    kind: str
    field: str = ""


def _not_an_arxiv_id(value: object) -> bool:
    try:
        parse_arxiv_id(value)
    except (ValueError, AttributeError, TypeError):
        return True
    return False


def _not_iso(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return True
    return False


def _not_an_arxiv_date(text: str) -> bool:
    try:
        parse_arxiv_date(text)
    except ValueError:
        return True
    return False


def _not_iso_day(text: str) -> bool:
    try:
        date.fromisoformat(text.strip())
    except ValueError:
        return True
    return False


# Text with every kind of junk a file can hold: NUL and other controls, surrogates from
# JSON escapes, any unicode.
JUNK_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=20)
XML_TEXT = st.text(st.characters(exclude_categories=("Cs", "Cc", "Cn")) | st.sampled_from("\t\n"), max_size=20)
NON_STRING = st.one_of(st.integers(), st.booleans(), st.floats(), st.lists(st.integers(), min_size=1, max_size=2),
                       st.dictionaries(st.text(max_size=2), st.integers(), min_size=1, max_size=1))
NOT_A_COUNT = st.one_of(
    st.integers(max_value=-1), st.integers(min_value=10**9 + 1), st.booleans(), st.floats(), st.text(max_size=4),
)
NOT_STARS = st.one_of(
    st.integers(max_value=-1), st.integers(min_value=2**31), st.booleans(), st.floats(), st.text(max_size=4)
)
BAD_URLS = st.one_of(
    st.sampled_from([
        "javascript:alert(document.domain)//github.com/a/b", "JavaScript:alert(1)", " javascript:alert(1)",
        "\tjavascript:alert(1)", "java\nscript:alert(1)", "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)", "//evil.example/a", "http://", "https://", "ftp://example.org/a",
        "https://user:pw@github.com/a/b", "https://github.com/a b", "https://github.com/\x00a",
        "https://github.com/" + "a" * 500,
    ]),
    st.integers().filter(bool), st.lists(st.text(max_size=3), min_size=1, max_size=2),
)
NOT_AN_ID = st.one_of(st.none(), st.integers(), st.lists(st.integers(), max_size=2), JUNK_TEXT.filter(_not_an_arxiv_id))
NO_TITLE = st.one_of(st.just(""), st.sampled_from(["\x00\x01", " \t\n", "\x7f"]), NON_STRING.filter(bool))
NOT_A_DAY_TEXT = st.text(min_size=1, max_size=12).filter(lambda t: t.strip() and _not_iso_day(t))


def _reset() -> None:
    """Each example starts from an empty database (hypothesis runs them all in one test)."""
    Paper.objects.all().delete()
    Author.objects.all().delete()
    Organization.objects.all().delete()
    HarvestState.objects.all().delete()


def _stored_empty(paper: Paper, field: str) -> bool:
    """The field a case spoiled holds nothing (or the default) in the database."""
    if field == "authors":
        return not paper.authorships.exists()
    if field == "organization":
        return paper.organization is None
    if field == "organization.avatar_url":
        return paper.organization is not None and paper.organization.avatar_url == ""
    if field == "daily.submitter_name":
        return DailyEntry.objects.get(paper=paper).submitter_name == ""
    column = {"upvotes": "imported_upvotes", "num_comments": "imported_comments"}.get(field, field)
    return getattr(paper, column) in (None, "", [], 0)


def _check(stats, cases: dict[str, Case]) -> None:
    kept = {i for i, c in cases.items() if c.kind != "record"}
    assert stats.skipped == sum(c.kind == "record" for c in cases.values())
    assert stats.skipped_fields == sum(c.kind == "field" for c in cases.values())
    assert stats.new == len(kept)
    assert set(Paper.objects.values_list("arxiv_id", flat=True)) == kept
    for paper in Paper.objects.select_related("organization"):
        case = cases[paper.arxiv_id]
        assert paper.title.startswith(f"Paper {paper.arxiv_id}")
        assert not FORBIDDEN & set(paper.title + paper.abstract + "".join(paper.authors.values_list("name", flat=True)))
        if case.kind == "field":
            assert _stored_empty(paper, case.field), (case, paper.__dict__)


def _batch(kinds: st.SearchStrategy, *, size: int = 8) -> st.SearchStrategy:
    """(arxiv id → (Case, mutation)) for a batch, each id unique."""
    return st.lists(kinds, min_size=1, max_size=size).map(
        lambda items: {f"2501.{n:05d}": item for n, item in enumerate(items, 1)}
    )


def _mutations(field_bad: dict, record_bad: dict, valid: st.SearchStrategy) -> st.SearchStrategy:
    """A Case with the key to change and its value: valid, one bad optional field, or one fatal flaw."""
    return st.one_of(
        valid.map(lambda text: (Case("valid"), "_text", text)),
        *[
            strategy.map(lambda v, k=key, f=field: (Case("field", f), k, v))
            for key, (field, strategy) in field_bad.items()
        ],
        *[strategy.map(lambda v, k=key: (Case("record"), k, v)) for key, strategy in record_bad.items()],
    )


# --- Hugging Face daily lists ---------------------------------------------------------------------

def _hf_item(arxiv_id: str, text: str = "") -> dict:
    return {
        "paper": {
            "id": arxiv_id, "title": f"Paper {arxiv_id} {text}", "summary": f"About {text}.",
            "authors": [{"name": f"Ada {text}"}, {"name": "Alan Turing"}], "publishedAt": "2025-01-02T03:04:05.000Z",
            "upvotes": 3, "githubRepo": "https://github.com/a/b", "githubStars": 5, "projectPage": "https://example.org/p",
            "ai_summary": "Summary.", "ai_keywords": ["keyword"],
        },
        "numComments": 1, "submittedBy": {"name": "akhaliq"},
        "organization": {"name": f"org-{arxiv_id}", "fullname": "ACME", "avatar": "https://example.org/a.png"},
    }


HF_FIELD_BAD = {
    "githubRepo": ("github_repo", BAD_URLS),
    "projectPage": ("project_page", BAD_URLS),
    "upvotes": ("upvotes", NOT_A_COUNT),
    "numComments": ("num_comments", NOT_A_COUNT),
    "githubStars": ("github_stars", NOT_STARS),
    "summary": ("abstract", NON_STRING),
    "authors": ("authors", st.one_of(st.text(min_size=1, max_size=8), st.integers(),
                                     st.lists(st.integers(), min_size=1, max_size=2), st.just([{"name": 5}]),
                                     st.just([{"nom": "x"}]))),
    "ai_summary": ("ai_summary", NON_STRING),
    "ai_keywords": ("ai_keywords", st.one_of(st.text(max_size=5), st.integers(), st.lists(st.integers(), min_size=1))),
    "publishedAt": ("published_at", st.just("0001-01-01T00:00:00+05:00")),  # out of range in UTC
    "organization": ("organization", st.one_of(
        st.text(min_size=1, max_size=5), st.just({"name": 5}), st.just({"name": ""}), st.just({"fullname": "No name"}),
        st.just({"name": "x" * 201}),
    )),
    "organization.avatar": ("organization.avatar_url", BAD_URLS),
    "submittedBy": ("daily.submitter_name",
                    st.one_of(NON_STRING.filter(bool), st.just("x" * 151)).map(lambda n: {"name": n})),
}
HF_RECORD_BAD = {
    "id": NOT_AN_ID,
    "title": NO_TITLE,
    "publishedAt": st.one_of(st.integers().filter(bool), st.text(min_size=1, max_size=12).filter(_not_iso)),
    "_paper": st.one_of(st.none(), st.integers(), st.text(max_size=4), st.lists(st.integers(), max_size=2)),
}
_HF_ITEM_KEYS = {"numComments", "submittedBy", "organization"}


def _hf_items(batch: dict) -> tuple[list, dict[str, Case]]:
    items, cases = [], {}
    for arxiv_id, (case, key, value) in batch.items():
        item = _hf_item(arxiv_id, value if key == "_text" else "")
        if key == "_paper":
            item["paper"] = value
        elif key == "organization.avatar":
            item["organization"]["avatar"] = value
        elif key in _HF_ITEM_KEYS:
            item[key] = value
        elif key != "_text":
            item["paper"][key] = value
        items.append(item)
        cases[arxiv_id] = case
    return items, cases


@EXAMPLES
@given(batch=_batch(_mutations(HF_FIELD_BAD, HF_RECORD_BAD, JUNK_TEXT)))
def test_hf_daily_file_with_malformed_items(tmp_path, batch):
    _reset()
    items, cases = _hf_items(batch)
    path = tmp_path / "2025-01-03.json"
    path.write_text(json.dumps(items))
    _check(upsert_papers(records=hf_daily.read_files(paths=[path])), cases)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | JUNK_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


@EXAMPLES
@given(junk=st.lists(st.tuples(st.sampled_from(sorted(_hf_item("x")["paper"]) + sorted(_HF_ITEM_KEYS)), JSON_VALUES),
                     min_size=1, max_size=6))
def test_hf_daily_arbitrary_values_never_crash_and_lose_nothing_valid(tmp_path, junk):
    """Any JSON in any key: no exception, every item counted, the valid items beside them all stored."""
    _reset()
    items = []
    for n, (key, value) in enumerate(junk, 1):
        item = _hf_item(f"2502.{n:05d}")
        (item if key in _HF_ITEM_KEYS else item["paper"])[key] = value
        items.append(item)
    valid = [f"2503.{n:05d}" for n in range(1, 4)]
    items[1:1] = [_hf_item(i) for i in valid]
    path = tmp_path / "2025-01-03.json"
    path.write_text(json.dumps(items))
    stats = upsert_papers(records=hf_daily.read_files(paths=[path]))
    assert stats.total == len(items) and stats.new == Paper.objects.count()
    assert set(valid) <= set(Paper.objects.values_list("arxiv_id", flat=True))


# --- JSON lines: the arXiv snapshot and daily listings -----------------------------------------------

def _snapshot_row(arxiv_id: str, text: str = "") -> dict:
    return {
        "id": arxiv_id, "title": f"Paper {arxiv_id} {text}", "abstract": f"About {text}.",
        "authors": "A. Author and B. Author", "authors_parsed": [["Author", "A.", ""], ["Author", "B.", ""]],
        "categories": "hep-th gr-qc", "comments": "5 pages", "journal-ref": None, "doi": "10.1/x",
        "versions": [{"version": "v1", "created": "Mon, 2 Apr 2007 10:00:00 GMT"}], "update_date": "2008-01-01",
    }


SNAPSHOT_FIELD_BAD = {
    "categories": ("categories", st.one_of(st.integers(), st.booleans(), st.lists(st.integers(), min_size=1),
                                           st.just("x" * 40 + " hep-th"))),
    "authors": ("authors", st.one_of(st.integers(), st.booleans(), st.lists(st.integers(), min_size=1))),
    "doi": ("doi", st.one_of(NON_STRING, st.text("abc", min_size=256, max_size=260))),
    "comments": ("comments", NON_STRING),
    "journal-ref": ("journal_ref", NON_STRING),
    "abstract": ("abstract", NON_STRING),
    "versions": ("version", st.just([{"version": "v40000", "created": "Mon, 2 Apr 2007 10:00:00 GMT"}])),
}
SNAPSHOT_RECORD_BAD = {
    "id": NOT_AN_ID,
    "title": NO_TITLE,
    "versions": st.one_of(st.integers(), st.text(max_size=4), st.just([{"version": 1}]),
                          st.just([{"version": "v1", "created": "yesterday"}]), st.just(["v1"])),
}


def _listing_row(arxiv_id: str, text: str = "") -> dict:
    return {
        "id": arxiv_id, "title": f"Paper {arxiv_id} {text}", "abstract": f"About {text}.",
        "authors": [f"Ada {text}", "Alan Turing"], "categories": ["cs.CL", "cs.LG"], "comment": "Code soon",
        "listing_date": "2025-03-18",
    }


LISTING_FIELD_BAD = {
    # A string is not a list of authors: it used to be split into one author per character.
    "authors": (
        "authors",
        st.one_of(st.text(min_size=1, max_size=10), st.integers(), st.lists(st.integers(), min_size=1)),
    ),
    "categories": ("categories", st.one_of(st.integers(), st.text(max_size=5), st.just(["x" * 40]))),
    "comment": ("comments", NON_STRING),
    "abstract": ("abstract", NON_STRING),
}
LISTING_RECORD_BAD = {
    "id": NOT_AN_ID,
    "title": NO_TITLE,
    "listing_date": st.one_of(st.integers(), NOT_A_DAY_TEXT),
}


def _lines(batch: dict, row) -> tuple[list[bytes], dict[str, Case]]:
    lines, cases = [], {}
    for arxiv_id, (case, key, value) in batch.items():
        line = row(arxiv_id, value if key == "_text" else "")
        if key == "authors":
            line.pop("authors_parsed", None)
        if key != "_text":
            line[key] = value
        lines.append(json.dumps(line).encode())
        cases[arxiv_id] = case
    return lines, cases


@EXAMPLES
@given(batch=_batch(_mutations(SNAPSHOT_FIELD_BAD, SNAPSHOT_RECORD_BAD, JUNK_TEXT)),
       garbage=st.lists(st.binary(max_size=10).filter(lambda b: b"\n" not in b), max_size=2))
def test_jsonl_snapshot_with_malformed_lines(tmp_path, batch, garbage):
    _reset()
    lines, cases = _lines(batch, _snapshot_row)
    # Lines that are not JSON objects at all: each one skipped.
    junk = [b"{" + g for g in garbage]
    path = tmp_path / "snapshot.jsonl"
    path.write_bytes(b"\n".join(lines + junk))
    stats = upsert_papers(records=jsonl.read_files(paths=[path]))
    stats.skipped -= len(junk)
    _check(stats, cases)


@EXAMPLES
@given(batch=_batch(_mutations(LISTING_FIELD_BAD, LISTING_RECORD_BAD, JUNK_TEXT)))
def test_jsonl_listing_with_malformed_lines(tmp_path, batch):
    _reset()
    lines, cases = _lines(batch, _listing_row)
    path = tmp_path / "listing.jsonl"
    path.write_bytes(b"\n".join(lines))
    _check(upsert_papers(records=jsonl.read_files(paths=[path])), cases)


def test_listing_authors_string_is_refused_not_split(tmp_path):
    path = tmp_path / "listing.jsonl"
    path.write_text(json.dumps({**_listing_row("2501.00001"), "authors": "Ada Lovelace"}) + "\n")
    stats = upsert_papers(records=jsonl.read_files(paths=[path]))
    assert (stats.new, stats.skipped_fields) == (1, 1)
    assert Author.objects.count() == 0  # not "A", "d", "a", ...


@pytest.mark.parametrize("row, skipped_fields, abstract", [
    ({**_listing_row("2501.00001"), "categories": 5}, 1, "About ."),  # was a TypeError
    # A NUL byte was a DataError on PostgreSQL.
    ({**_snapshot_row("2501.00001"), "abstract": "Nul \u0000by\u0000te"}, 0, "Nul byte"),
])
def test_the_reported_crashes_are_a_skipped_field_or_a_clean_text(tmp_path, row, skipped_fields, abstract):
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps(row) + "\n" + json.dumps(_listing_row("2501.00002")) + "\n")
    stats = upsert_papers(records=jsonl.read_files(paths=[path]))
    assert (stats.new, stats.skipped, stats.skipped_fields) == (2, 0, skipped_fields)
    assert Paper.objects.get(arxiv_id="2501.00001").abstract == abstract


def test_negative_github_stars_is_a_skipped_field(tmp_path):
    item = _hf_item("2501.00001")
    item["paper"]["githubStars"] = -5
    path = tmp_path / "2025-01-03.json"
    path.write_text(json.dumps([item, _hf_item("2501.00002")]))
    stats = upsert_papers(records=hf_daily.read_files(paths=[path]))
    assert str(stats) == "2 new / 0 updated / 0 unchanged / 0 skipped / 1 skipped fields"
    assert Paper.objects.get(arxiv_id="2501.00001").github_stars is None


# --- arXiv API (Atom) and OAI-PMH (arXivRaw), replayed over HTTP ----------------------------------------

@pytest.fixture
def replay(settings):
    server = ReplayServer().start()
    settings.ARXIV_API_URL = f"{server.url}/api/query"
    settings.ARXIV_OAI_URL = f"{server.url}/oai"
    settings.ARXIV_REQUEST_PAUSE_SECONDS = 0
    yield server
    server.stop()


def _atom_entry(arxiv_id: str, *, text: str = "", version: str = "v1", title: str | None = None,
                published: str = "2016-05-26T17:59:46Z", doi: str = "10.1/x", category: str = "math.CO",
                raw_id: str | None = None) -> str:
    title = f"Paper {arxiv_id} {text}" if title is None else title
    return (
        f"<entry><id>http://arxiv.org/abs/{saxutils.escape(arxiv_id + version if raw_id is None else raw_id)}</id>"
        f"<title>{saxutils.escape(title)}</title><updated>2016-05-27T10:00:00Z</updated>"
        f"<published>{saxutils.escape(published)}</published><summary>About {saxutils.escape(text)}.</summary>"
        f"<author><name>Ada {saxutils.escape(text)}</name></author><arxiv:doi>{saxutils.escape(doi)}</arxiv:doi>"
        f"<arxiv:primary_category term={saxutils.quoteattr(category)}/><category term={saxutils.quoteattr(category)}/>"
        f"<arxiv:comment>Code: javascript:alert(1)//github.com/a/b</arxiv:comment></entry>"
    )


ATOM_FIELD_BAD = {
    "version": ("version", st.integers(min_value=32768, max_value=10**6).map(lambda n: f"v{n}")),
    "doi": ("doi", st.text("abc", min_size=256, max_size=260)),
    "category": ("categories", st.text("abcdefgh.", min_size=33, max_size=40)),
    "published": ("published_at", st.just("0001-01-01T00:00:00+05:00")),
}
ATOM_RECORD_BAD = {
    "raw_id": XML_TEXT.filter(lambda t: _not_an_arxiv_id(f"http://arxiv.org/abs/{t}")),
    "title": st.sampled_from(["", " \n\t "]),
    "published": XML_TEXT.filter(lambda t: t.strip() and _not_iso(t.strip())),
}


def _atom_feed(batch: dict) -> tuple[str, dict[str, Case]]:
    entries, cases = [], {}
    for arxiv_id, (case, key, value) in batch.items():
        entries.append(_atom_entry(arxiv_id, text=value) if key == "_text" else _atom_entry(arxiv_id, **{key: value}))
        cases[arxiv_id] = case
    feed = (
        '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">'
        f"<opensearch:totalResults>{len(entries)}</opensearch:totalResults>{''.join(entries)}</feed>"
    )
    return feed, cases


@EXAMPLES
@given(batch=_batch(_mutations(ATOM_FIELD_BAD, ATOM_RECORD_BAD, XML_TEXT)))
def test_arxiv_api_feed_with_malformed_entries(replay, batch):
    _reset()
    feed, cases = _atom_feed(batch)
    replay.add("/api/query", {"search_query": "all:test", "sortBy": "relevance", "sortOrder": "descending",
                              "start": "0", "max_results": "100"}, feed.encode())
    stats = upsert_papers(records=arxiv_api.fetch_records(query="all:test", max_results=100))
    _check(stats, cases)
    # The comment's javascript: "link" never became the paper's GitHub link.
    assert not Paper.objects.exclude(github_repo="").exists()


def _oai_record(arxiv_id: str, *, text: str = "", version: str = "v1", title: str | None = None,
                date_text: str = "Mon, 2 Apr 2007 10:00:00 GMT", doi: str = "10.1/x", categories: str = "hep-th",
                raw_id: str | None = None, deleted: bool = False) -> str:
    title = f"Paper {arxiv_id} {text}" if title is None else title
    status = ' status="deleted"' if deleted else ""
    header = f"<header{status}><identifier>oai:arXiv.org:{arxiv_id}</identifier></header>"
    return (
        f'<record>{header}<metadata><arXivRaw xmlns="http://arxiv.org/OAI/arXivRaw/">'
        f"<id>{saxutils.escape(arxiv_id if raw_id is None else raw_id)}</id>"
        f"<version version={saxutils.quoteattr(version)}>"
        f"<date>{saxutils.escape(date_text)}</date></version><title>{saxutils.escape(title)}</title>"
        f"<authors>Ada {saxutils.escape(text)} and B. Author</authors>"
        f"<categories>{saxutils.escape(categories)}</categories>"
        f"<doi>{saxutils.escape(doi)}</doi><abstract>About {saxutils.escape(text)}.</abstract>"
        "</arXivRaw></metadata></record>"
    )


OAI_FIELD_BAD = {
    "version": ("version", st.integers(min_value=32768, max_value=10**6).map(lambda n: f"v{n}")),
    "doi": ("doi", st.text("abc", min_size=256, max_size=260)),
    "categories": ("categories", st.text("abcdefgh.", min_size=33, max_size=40)),
}
OAI_RECORD_BAD = {
    "raw_id": XML_TEXT.filter(_not_an_arxiv_id),
    "title": st.sampled_from(["", " \n\t "]),
    "date_text": XML_TEXT.filter(_not_an_arxiv_date),
    "deleted": st.just(True),
}


@EXAMPLES
@given(batch=_batch(_mutations(OAI_FIELD_BAD, OAI_RECORD_BAD, XML_TEXT)))
def test_oai_page_with_malformed_records(replay, batch):
    _reset()
    records, cases = [], {}
    for arxiv_id, (case, key, value) in batch.items():
        records.append(_oai_record(arxiv_id, text=value) if key == "_text" else _oai_record(arxiv_id, **{key: value}))
        cases[arxiv_id] = case
    page = (
        '<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        f"<ListRecords>{''.join(records)}</ListRecords></OAI-PMH>"
    )
    replay.add("/oai", {"verb": "ListRecords", "metadataPrefix": "arXivRaw", "from": "2014-10-01"}, page.encode())
    _check(ingest(source=arxiv_oai.Harvest(from_date=date(2014, 10, 1))), cases)
