"""Ingestion sources against recorded real responses, served by a real HTTP server on loopback."""

import gzip
import json
import re
import socket
import time
from datetime import date, datetime, timezone
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from dailypapers.papers import services
from dailypapers.papers.models import Author, Authorship, DailyEntry, HarvestState, Organization, Paper
from dailypapers.papers.records import PaperRecord, Skipped
from dailypapers.papers.services import upsert_papers
from dailypapers.papers.sources import arxiv_api, arxiv_oai, hf_daily, http, jsonl
from dailypapers.papers.sources.http import SourceError, fetch

from .replay import ReplayServer

FIXTURES = Path(__file__).parent / "fixtures"
OAI_FIRST_PAGE = {"verb": "ListRecords", "metadataPrefix": "arXivRaw", "from": "2014-10-01"}
OAI_SECOND_PAGE = {"verb": "ListRecords", "resumptionToken": "token-page-2"}


# --- fixtures -----------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def _quick_backoff(monkeypatch):
    monkeypatch.setattr(http, "BACKOFF_SECONDS", 0.01)


def oai_pages() -> tuple[str, str]:
    """ListRecordsResponse.xml (6 records) split into two pages joined by a resumption token."""
    text = (FIXTURES / "oai" / "ListRecordsResponse.xml").read_text()
    head, body = text.split("<ListRecords>\n", 1)
    records = re.findall(r"<record>.*?</record>\n", body, re.S)
    assert len(records) == 6
    tail = "</ListRecords>\n</OAI-PMH>\n"
    token = '<resumptionToken cursor="0" completeListSize="6">token-page-2</resumptionToken>'
    first = f'{head}<ListRecords>\n{"".join(records[:3])}{token}\n{tail}'
    second = f'{head}<ListRecords>\n{"".join(records[3:])}<resumptionToken cursor="3" completeListSize="6"/>\n{tail}'
    return first, second


@pytest.fixture
def oai(replay):
    first, second = oai_pages()
    replay.add("/oai", OAI_FIRST_PAGE, first)
    replay.add("/oai", OAI_SECOND_PAGE, second)
    return replay


def hf_day(replay: ReplayServer, day: str, items: list | None = None) -> None:
    body = json.dumps(items) if items is not None else (FIXTURES / "hf" / f"{day}.json").read_text()
    replay.add("/api/daily_papers", {"date": day, "limit": "100", "p": "0"}, body, content_type="application/json")


def snapshot_row(arxiv_id: str, *, title: str, versions: int, authors: str = "A. Author and B. Author") -> str:
    return json.dumps({
        "id": arxiv_id, "title": title, "abstract": f"Abstract of {title}.", "authors": authors,
        "categories": "hep-th gr-qc", "comments": None, "journal-ref": None, "doi": None,
        "versions": [{"version": f"v{n}", "created": f"Mon, {n} Apr 2007 10:00:00 GMT"}
                     for n in range(1, versions + 1)],
        "update_date": "2008-01-01",
    })


def ingest(*args: str) -> str:
    out = StringIO()
    call_command("ingest", *args, "--quiet", stdout=out)
    return out.getvalue().strip()


# --- http -------------------------------------------------------------------------------------

def test_fetch_retries_503_then_succeeds(replay):
    replay.add("/ok", {}, "fine", content_type="text/plain")
    replay.fail_next(2)
    assert fetch(f"{replay.url}/ok").text == "fine"
    assert len(replay.requests) == 3


def test_fetch_honours_retry_after(replay):
    replay.add("/ok", {}, "fine", content_type="text/plain")
    replay.fail_next(1, status=429, retry_after="1")
    started = time.monotonic()
    assert fetch(f"{replay.url}/ok").text == "fine"
    assert time.monotonic() - started >= 1.0
    assert len(replay.requests) == 2


def test_fetch_gives_up_with_a_readable_message(replay):
    replay.fail_next(5)
    with pytest.raises(SourceError, match=r"GET http://127\.0\.0\.1:\d+/ok: HTTP 503 .* \(gave up after 3 attempts\)"):
        fetch(f"{replay.url}/ok")
    assert len(replay.requests) == 3


def test_fetch_retries_after_a_timeout(replay, settings):
    settings.HTTP_TIMEOUT_SECONDS = 0.3
    replay.add("/ok", {}, "fine", content_type="text/plain")
    replay.hang_next(1, seconds=1.0)
    assert fetch(f"{replay.url}/ok").text == "fine"
    assert len(replay.requests) == 2


def test_fetch_does_not_retry_a_4xx(replay):
    with pytest.raises(SourceError, match="HTTP 404 Not Found: no recording for /missing"):
        fetch(f"{replay.url}/missing")
    assert len(replay.requests) == 1


def test_fetch_reports_a_refused_connection(settings):
    settings.HTTP_RETRIES = 1
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nobody listens here once the socket closes
    with pytest.raises(SourceError, match=r"connection failed .*gave up after 2 attempts"):
        fetch(f"http://127.0.0.1:{port}/")


def test_arxiv_requests_keep_the_pause(arxiv, settings):
    settings.ARXIV_REQUEST_PAUSE_SECONDS = 0.2
    records = list(arxiv_api.fetch_records(query="testing", max_results=30, page_size=10))
    assert len(records) == 30
    times = [seen.at for seen in arxiv.requests]
    assert len(times) == 3
    # The pause runs from the end of the previous answer (http._done), which came after the server saw
    # that request: so the server sees at least the pause between two arrivals, whatever the load.
    assert min(b - a for a, b in zip(times, times[1:])) >= 0.19


# --- arXiv API --------------------------------------------------------------------------------

def test_arxiv_api_entry_fields(arxiv):
    [record] = arxiv_api.fetch_records(id_list=["1605.08386"])
    assert record.arxiv_id == "1605.08386" and record.version == 1
    assert record.title == "Heat-bath random walks with Markov bases"
    assert record.authors == ["Caprice Stanley", "Tobias Windisch"]
    assert record.categories == ["math.CO", "math.ST"]
    assert record.published_at == datetime(2016, 5, 26, 17, 59, 46, tzinfo=timezone.utc)
    assert record.comments == "20 pages, 3 figures"
    assert record.abstract.startswith("Graphs on lattice points")
    assert arxiv.requests[0].params == {
        "id_list": "1605.08386", "sortBy": "relevance", "sortOrder": "descending", "start": "0", "max_results": "100",
    }


def test_arxiv_api_old_style_ids_and_journal_ref(arxiv):
    [record] = arxiv_api.fetch_records(id_list=["astro-ph/0601001"])
    assert record.arxiv_id == "astro-ph/0601001"
    assert record.journal_ref == "ActaAstron.56:1-50,2006"
    assert record.authors[:2] == ["Andrew Gould", "Susan Dorsher"]


def test_arxiv_api_decodes_utf8_names_and_ignores_unknown_ids(arxiv):
    [record] = arxiv_api.fetch_records(id_list=["0808.05394", "1707.08567"])
    assert record.arxiv_id == "1707.08567"
    assert "Dirk Wübben" in record.authors
    assert list(arxiv_api.fetch_records(id_list=["0000.0000"])) == []


def test_arxiv_api_error_feed_is_a_source_error(arxiv):
    with pytest.raises(SourceError, match="^arXiv API: incorrect id format for abc$"):
        list(arxiv_api.fetch_records(id_list=["abc"]))


def test_arxiv_api_pages_through_results_up_to_the_cap(arxiv):
    records = list(arxiv_api.fetch_records(query="testing", max_results=30, page_size=10))
    assert [r.arxiv_id for r in records] == list(dict.fromkeys(r.arxiv_id for r in records))  # no page twice
    assert [(s.params["start"], s.params["max_results"]) for s in arxiv.requests] == [
        ("0", "10"),
        ("10", "10"),
        ("20", "10"),
    ]


def test_arxiv_api_bad_xml_is_a_source_error(replay):
    replay.add("/api/query", {"id_list": "1605.08386", "sortBy": "relevance", "sortOrder": "descending",
                              "start": "0", "max_results": "100"}, "<feed><entry>")
    with pytest.raises(SourceError, match="unreadable XML"):
        list(arxiv_api.fetch_records(id_list=["1605.08386"]))


# --- OAI-PMH ----------------------------------------------------------------------------------

@pytest.mark.django_db
def test_oai_harvest_reads_every_page(oai):
    stats = services.ingest(source=arxiv_oai.Harvest(from_date=date(2014, 10, 1)))
    assert (stats.new, stats.skipped) == (6, 0)
    assert [s.params for s in oai.requests] == [OAI_FIRST_PAGE, OAI_SECOND_PAGE]
    paper = Paper.objects.get(arxiv_id="0704.0471")
    assert [a.author.name for a in paper.authorships.select_related("author")] == [
        "D.V. Shetty", "S.J. Yennello", "G.A. Souliotis",
    ]
    assert paper.title == ("Density dependence of the symmetry energy and the nuclear equation of state: "
                           "A Dynamical and Statistical model perspective")
    assert paper.categories == ["nucl-ex", "nucl-th"] and paper.primary_category == "nucl-ex"
    assert paper.doi == "10.1103/PhysRevC.76.024606 10.1103/PhysRevC.76.039902"
    assert paper.journal_ref == "Phys.Rev.C76:024606,2007; Erratum-ibid.C76:039902,2007"
    assert "&quot;" not in paper.abstract and '" stiff "' in paper.abstract
    multi = Paper.objects.get(arxiv_id="0704.0716")
    assert multi.version == 4
    assert multi.published_at == datetime(2007, 4, 5, 12, 45, 3, tzinfo=timezone.utc)
    assert multi.updated_at == datetime(2008, 11, 14, 9, 7, 25, tzinfo=timezone.utc)
    state = HarvestState.objects.get()
    assert state.completed_at is not None and state.resumption_token == "" and state.pages_done == 2


@pytest.mark.django_db(transaction=True)
def test_interrupted_oai_harvest_resumes_from_the_saved_token(replay):
    first, second = oai_pages()
    replay.add("/oai", OAI_FIRST_PAGE, first)
    # Page 2 fails: the server answers 503 until the retries run out.
    replay.add("/oai", OAI_SECOND_PAGE, "busy", status=503, content_type="text/plain")
    with pytest.raises(SourceError, match="HTTP 503"):
        services.ingest(source=arxiv_oai.Harvest(from_date=date(2014, 10, 1)))
    assert Paper.objects.count() == 3  # page 1 is saved
    state = HarvestState.objects.get()
    assert (state.resumption_token, state.pages_done, state.completed_at) == ("token-page-2", 1, None)

    replay.add("/oai", OAI_SECOND_PAGE, second)
    replay.requests.clear()
    stats = services.ingest(source=arxiv_oai.Harvest(from_date=date(2014, 10, 1)))
    assert [s.params for s in replay.requests] == [OAI_SECOND_PAGE]  # page 1 is not fetched again
    assert stats.new == 3 and Paper.objects.count() == 6
    state.refresh_from_db()
    assert state.completed_at is not None and state.pages_done == 2

    # A completed harvest run again starts afresh, and finds nothing new.
    replay.requests.clear()
    stats = services.ingest(source=arxiv_oai.Harvest(from_date=date(2014, 10, 1)))
    assert [s.params for s in replay.requests] == [OAI_FIRST_PAGE, OAI_SECOND_PAGE]
    assert (stats.new, stats.unchanged) == (0, 6)


@pytest.mark.django_db(transaction=True)
def test_crash_while_writing_a_page_keeps_page_and_token_together(oai, monkeypatch):
    write_batch = services._write_batch
    calls = []

    def crash_on_second_page(records, stats):
        calls.append(len(records))
        write_batch(records, stats)  # papers are inserted...
        if len(calls) == 2:
            raise RuntimeError("power cut")  # ...and then the process dies

    monkeypatch.setattr(services, "_write_batch", crash_on_second_page)
    with pytest.raises(RuntimeError):
        services.ingest(source=arxiv_oai.Harvest(from_date=date(2014, 10, 1)))
    assert sorted(Paper.objects.values_list("arxiv_id", flat=True)) == ["0704.0471", "0704.0716", "0704.0874"]
    assert HarvestState.objects.get().resumption_token == "token-page-2"


@pytest.mark.django_db
def test_an_expired_resumption_token_is_dropped(oai):
    HarvestState.objects.create(key=f"{oai.url}/oai|arXivRaw||2014-10-01|", resumption_token="3", pages_done=1)
    oai.add("/oai", {"verb": "ListRecords", "resumptionToken": "3"},
            (FIXTURES / "oai" / "ErrorResponseBadResumptionToken.xml").read_bytes())
    with pytest.raises(SourceError, match="badResumptionToken: .* run again to start afresh"):
        services.ingest(source=arxiv_oai.Harvest(from_date=date(2014, 10, 1)))
    assert services.ingest(source=arxiv_oai.Harvest(from_date=date(2014, 10, 1))).new == 6
    assert [s.params for s in oai.requests] == [
        {"verb": "ListRecords", "resumptionToken": "3"}, OAI_FIRST_PAGE, OAI_SECOND_PAGE,
    ]


@pytest.mark.django_db
def test_oai_no_records_match_is_an_empty_harvest(replay):
    replay.add("/oai", {"verb": "ListRecords", "metadataPrefix": "arXivRaw", "set": "moo"},
               (FIXTURES / "oai" / "ErrorResponseNoRecordsMatch.xml").read_bytes())
    stats = services.ingest(source=arxiv_oai.Harvest(set_spec="moo"))
    assert stats.total == 0
    assert HarvestState.objects.get().completed_at is not None


@pytest.mark.django_db
@pytest.mark.parametrize("file, message", [
    ("ErrorResponseBadArgument.xml", "OAI-PMH error badArgument: Verb 'ListRecords', illegal argument 'identifier'."),
    ("ErrorResponseBadResumptionToken.xml",
     "OAI-PMH error badResumptionToken: The resumptionToken supplied is illegal"),
])
def test_oai_errors_are_source_errors(replay, file, message):
    replay.add("/oai", {"verb": "ListRecords", "metadataPrefix": "arXivRaw"}, (FIXTURES / "oai" / file).read_bytes())
    with pytest.raises(SourceError, match=re.escape(message)):
        services.ingest(source=arxiv_oai.Harvest())


def test_oai_arxiv_format():
    records, token = arxiv_oai.parse_page(
        (FIXTURES / "oai" / "ListRecordsArXivFormat.xml").read_bytes(), metadata_prefix="arXiv"
    )
    first, second, deleted = records
    assert token == ""
    assert first.arxiv_id == "0704.0716" and first.authors == ["Christoph Richard"]
    assert first.published_at == datetime(2007, 4, 5, tzinfo=timezone.utc)
    assert first.updated_at == datetime(2008, 11, 14, tzinfo=timezone.utc)
    assert first.comments.startswith("54 pages, 2 figures; v2 updated and slightly expanded; v3 changes in some proofs")
    assert second.authors == ["N. C. Summers", "F. M. Nunes"] and second.updated_at == second.published_at
    assert deleted == Skipped("oai:arXiv.org:0704.9999", "deleted from arXiv")


@pytest.mark.parametrize("text, names", [
    ("D.V. Shetty, S.J. Yennello, and G.A. Souliotis", ["D.V. Shetty", "S.J. Yennello", "G.A. Souliotis"]),
    ("Joshua Berger, Maxim Perelstein, Michael Saelim and Philip Tanedo",
     ["Joshua Berger", "Maxim Perelstein", "Michael Saelim", "Philip Tanedo"]),
    ("Valeria M. Rosa and Patricio S. letelier", ["Valeria M. Rosa", "Patricio S. letelier"]),
    ("A. Alexander (1), B. Sandberg (2) ((1) MIT, (2) CERN)", ["A. Alexander", "B. Sandberg"]),
    ("John Smith, Jr., Jane Doe", ["John Smith, Jr.", "Jane Doe"]),
    ("T. S. Barman", ["T. S. Barman"]),
])
def test_split_authors(text, names):
    assert arxiv_oai.split_authors(text) == names


# --- Hugging Face -----------------------------------------------------------------------------

def test_hf_day_files():
    records = list(hf_daily.read_files(paths=sorted((FIXTURES / "hf").glob("*.json"))))
    assert all(isinstance(r, PaperRecord) for r in records)
    by_id = {r.arxiv_id: r for r in records}
    recent = by_id["2608.19880"]
    assert recent.title == "EnvHarness: Awakening Static Worlds for Agent Learning"
    assert recent.authors[:2] == ["Chengsong Huang", "Zifeng Wang"] and len(recent.authors) == 17
    assert (recent.upvotes, recent.num_comments, recent.github_stars) == (163, 1, 8)
    assert recent.github_repo == "https://github.com/google-research/envharness"
    assert recent.project_page == "https://envharness.com/"
    assert recent.organization.slug == "google" and recent.organization.name == "Google"
    assert "reinforcement learning" in recent.ai_keywords and recent.ai_summary.startswith("EnvHarness and EnvRigger")
    assert recent.published_at == datetime(2026, 8, 20, tzinfo=timezone.utc)
    assert recent.daily.day == date(2026, 8, 21) and recent.daily.submitter_name == "taesiri"
    assert recent.daily.submitted_at == datetime(2026, 8, 21, tzinfo=timezone.utc)
    old = by_id["2405.15738"]  # 2024: no submitter, no ai_*, no submittedOnDailyAt
    assert old.daily.day == date(2024, 5, 27) and old.daily.submitter_name == ""
    assert old.daily.submitted_at == datetime(2024, 5, 27, 3, 50, 58, 348000, tzinfo=timezone.utc)
    assert old.ai_keywords is None and old.organization is None
    assert old.title == "ConvLLaVA: Hierarchical Backbones as Visual Encoder for Large Multimodal Models"


def test_hf_jsonl_with_bad_lines(tmp_path):
    items = json.loads((FIXTURES / "hf" / "2025-03-17.json").read_text())
    path = tmp_path / "items.jsonl.gz"
    lines = [
        json.dumps({**items[0], "_date": "2025-03-17"}),
        "{not json",
        json.dumps({"_date": "2025-03-17", "paper": {"title": "no id"}}),
        json.dumps(items[1]),
    ]
    path.write_bytes(gzip.compress("\n".join(lines).encode()))
    first, bad_json, no_id, no_date = hf_daily.read_files(paths=[path])
    assert isinstance(first, PaperRecord) and first.daily.day == date(2025, 3, 17)
    assert bad_json.where == f"{path}:2" and "not a daily-paper item" in bad_json.reason
    assert no_id.where == f"{path}:3" and "not an arXiv id" in no_id.reason
    assert no_date.where == f"{path}:4" and "_date" in no_date.reason


def test_hf_day_file_needs_a_dated_name(tmp_path):
    path = tmp_path / "today.json"
    path.write_text("[]")
    with pytest.raises(SourceError, match="YYYY-MM-DD.json"):
        list(hf_daily.read_files(paths=[path]))


@pytest.mark.django_db
def test_hf_live_day_into_the_database_twice(replay):
    hf_day(replay, "2026-08-21")
    first = upsert_papers(records=hf_daily.fetch_days(first=date(2026, 8, 21), last=date(2026, 8, 21)))
    assert (first.new, first.skipped) == (17, 0)
    again = upsert_papers(records=hf_daily.fetch_days(first=date(2026, 8, 21), last=date(2026, 8, 21)))
    assert (again.new, again.updated, again.unchanged) == (0, 0, 17)
    assert DailyEntry.objects.filter(day=date(2026, 8, 21), source="hf-import").count() == 17
    paper = Paper.objects.get(arxiv_id="2608.19880")
    assert paper.upvotes == 163 and paper.organization == Organization.objects.get(slug="google")


def test_hf_range_and_pagination(replay, monkeypatch):
    monkeypatch.setattr(hf_daily, "PAGE_SIZE", 5)
    items = json.loads((FIXTURES / "hf" / "2024-05-27.json").read_text())
    for page in range(3):
        replay.add("/api/daily_papers", {"date": "2024-05-27", "limit": "5", "p": str(page)},
                   json.dumps(items[page * 5:page * 5 + 5]), content_type="application/json")
    replay.add(
        "/api/daily_papers", {"date": "2024-05-26", "limit": "5", "p": "0"}, "[]", content_type="application/json"
    )
    records = list(hf_daily.fetch_days(first=date(2024, 5, 26), last=date(2024, 5, 27)))
    assert [r.arxiv_id for r in records] == [item["paper"]["id"] for item in items]
    assert [(s.params["date"], s.params["p"]) for s in replay.requests] == [
        ("2024-05-26", "0"), ("2024-05-27", "0"), ("2024-05-27", "1"), ("2024-05-27", "2"),
    ]


def test_hf_api_error_message_is_passed_on(replay):
    replay.add("/api/daily_papers", {"date": "2030-01-01", "limit": "100", "p": "0"},
               '{"error": "Invalid date"}', status=400, content_type="application/json")
    with pytest.raises(SourceError, match='HTTP 400 Bad Request: {"error": "Invalid date"}'):
        list(hf_daily.fetch_days(first=date(2030, 1, 1), last=date(2030, 1, 1)))


# --- JSONL ------------------------------------------------------------------------------------

def test_jsonl_daily_listing_format():
    records = list(jsonl.read_files(paths=[FIXTURES / "jsonl" / "arxiv_cs_daily_200.jsonl.gz"]))
    assert len(records) == 200 and all(isinstance(r, PaperRecord) for r in records)
    first = records[0]
    assert first.arxiv_id == "2503.11677" and first.version is None
    assert first.categories == ["cs.HC", "cs.CV"] and first.comments is None
    assert first.published_at == datetime(2025, 3, 18, tzinfo=timezone.utc)
    assert first.authors[0] == "Jungyeon Park" and "\n" not in first.abstract


def test_jsonl_snapshot_format():
    shetty, richard, rosa = jsonl.read_files(paths=[FIXTURES / "jsonl" / "arxiv_snapshot_3.jsonl"])
    assert shetty.authors == ["D. V. Shetty", "S. J. Yennello", "G. A. Souliotis"]  # from authors_parsed
    assert shetty.categories == ["nucl-ex", "nucl-th"] and shetty.doi.startswith("10.1103/PhysRevC.76.024606")
    assert shetty.version == 1 and shetty.published_at == datetime(2007, 4, 3, 22, 4, 11, tzinfo=timezone.utc)
    assert richard.authors == ["Christoph Richard"]  # from the authors string
    assert richard.version == 4 and richard.updated_at == datetime(2008, 11, 14, 9, 7, 25, tzinfo=timezone.utc)
    assert (
        richard.journal_ref
        == "Polygons, polyominoes and polycubes, 247-299, Lecture Notes in Phys., 775, Springer, Dordrecht, 2009"
    )
    assert rosa.authors == ["Valeria M. Rosa", "Patricio S. letelier"]


def test_jsonl_bad_lines_are_skipped_with_file_and_line(tmp_path):
    path = tmp_path / "papers.jsonl"
    path.write_bytes(b"\n".join([
        snapshot_row("0704.0001", title="Fine", versions=1).encode(),
        b"{not json",
        b"[1, 2]",
        b'{"id": "nope", "title": "Bad id"}',
        b'{"id": "0704.0002", "title": "Bad version", "versions": [{"version": "v1", "created": "yesterday"}]}',
        b"\xff\xfe garbage",
    ]))
    fine, *skipped = jsonl.read_files(paths=[path])
    assert isinstance(fine, PaperRecord)
    assert [s.where for s in skipped] == [f"{path}:{n}" for n in (2, 3, 4, 5, 6)]
    assert all(isinstance(s, Skipped) for s in skipped)
    assert "not an arXiv id" in skipped[2].reason and "not a date" in skipped[3].reason


@pytest.mark.django_db
def test_jsonl_ingest_is_idempotent():
    path = FIXTURES / "jsonl" / "arxiv_cs_daily_200.jsonl.gz"
    assert str(upsert_papers(records=jsonl.read_files(paths=[path]))) == "200 new / 0 updated / 0 unchanged / 0 skipped"
    counts = (Paper.objects.count(), Author.objects.count(), Authorship.objects.count())
    assert str(upsert_papers(records=jsonl.read_files(paths=[path]))) == "0 new / 0 updated / 200 unchanged / 0 skipped"
    assert (Paper.objects.count(), Author.objects.count(), Authorship.objects.count()) == counts


@pytest.mark.django_db
def test_newer_version_updates_and_older_does_not(tmp_path):
    def ingest_row(name: str, **row) -> str:
        path = tmp_path / name
        path.write_text(snapshot_row("hep-th/0701001", **row) + "\n")
        return str(upsert_papers(records=jsonl.read_files(paths=[path])))

    assert ingest_row("v1.jsonl", title="First title", versions=1) == "1 new / 0 updated / 0 unchanged / 0 skipped"
    assert ingest_row("v2.jsonl", title="Second title", versions=2) == "0 new / 1 updated / 0 unchanged / 0 skipped"
    assert (
        ingest_row("v1-again.jsonl", title="First title", versions=1) == "0 new / 0 updated / 1 unchanged / 0 skipped"
    )
    paper = Paper.objects.get(arxiv_id="hep-th/0701001")
    assert (paper.title, paper.version) == ("Second title", 2)
    assert paper.updated_at == datetime(2007, 4, 2, 10, 0, tzinfo=timezone.utc)


@pytest.mark.django_db(transaction=True)
def test_crash_mid_batch_leaves_nothing_half_written(monkeypatch):
    def fail(*args):
        raise RuntimeError("disk full")

    # Papers and authors are already inserted in the batch when the daily entries fail.
    monkeypatch.setattr(services, "_write_daily_entries", fail)
    with pytest.raises(RuntimeError):
        upsert_papers(records=jsonl.read_files(paths=[FIXTURES / "jsonl" / "arxiv_cs_daily_200.jsonl.gz"]))
    assert (Paper.objects.count(), Author.objects.count(), Authorship.objects.count()) == (0, 0, 0)


# --- the ingest command -----------------------------------------------------------------------

@pytest.mark.django_db
def test_ingest_jsonl_command_prints_the_summary():
    path = str(FIXTURES / "jsonl" / "arxiv_cs_daily_200.jsonl.gz")
    assert ingest("jsonl", path) == "200 new / 0 updated / 0 unchanged / 0 skipped"
    assert ingest("jsonl", path) == "0 new / 0 updated / 200 unchanged / 0 skipped"


@pytest.mark.django_db
def test_ingest_hf_daily_command(replay):
    hf_day(replay, "2026-08-21")
    assert ingest("hf-daily", "--date", "2026-08-21") == "17 new / 0 updated / 0 unchanged / 0 skipped"
    files = [str(p) for p in sorted((FIXTURES / "hf").glob("*.json"))]
    assert ingest("hf-daily", *files).endswith("17 unchanged / 0 skipped")


@pytest.mark.django_db
def test_ingest_arxiv_api_command(arxiv):
    assert ingest("arxiv-api", "--id-list", "1605.08386") == "1 new / 0 updated / 0 unchanged / 0 skipped"
    assert ingest("arxiv-api", "--query", "testing", "--max-results", "20", "--page-size", "10").startswith("20 new")


@pytest.mark.django_db
def test_ingest_arxiv_oai_command(oai):
    assert ingest("arxiv-oai", "--from", "2014-10-01") == "6 new / 0 updated / 0 unchanged / 0 skipped"


@pytest.mark.django_db
@pytest.mark.parametrize("args, message", [
    (["jsonl", "/no/such/file.jsonl"], "no such file: /no/such/file.jsonl"),
    (["hf-daily", "--date", "2025-02-30"], "not a date (YYYY-MM-DD): '2025-02-30'"),
    (["hf-daily"], "hf-daily needs exactly one of --date D, --from D [--to D], or files"),
    (["hf-daily", "--date", "2025-03-17", "--from", "2025-03-01"], "hf-daily needs exactly one of"),
    (["hf-daily", "--from", "2025-03-17", "--to", "2025-03-01"], "--to 2025-03-01 is before --from 2025-03-17"),
    (["arxiv-api"], "arxiv-api needs --query or --id-list"),
    (["arxiv-api", "--id-list", "abc"], "arXiv API: incorrect id format for abc"),
    (["arxiv-api", "--query", "x", "--page-size", "5000"], "page size must be between 1 and 2000"),
    (["arxiv-oai", "--metadata-prefix", "oai_dc"], "invalid choice: 'oai_dc'"),
    (["nosuch"], "invalid choice: 'nosuch'"),
])
def test_ingest_command_errors(arxiv, args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        ingest(*args)
