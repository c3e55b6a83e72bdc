"""The one write path for papers: merge rules across sources, versions and snapshots."""

from datetime import date, datetime, timezone

import pytest

from dailypapers.papers.models import Author, DailyEntry, Paper
from dailypapers.papers.records import DailyRecord, PaperRecord, make_record
from dailypapers.papers.services import upsert_papers

pytestmark = pytest.mark.django_db


def authors_of(arxiv_id: str) -> list[str]:
    return [a.author.name for a in Paper.objects.get(arxiv_id=arxiv_id).authorships.select_related("author")]


def test_an_older_version_keeps_the_newer_author_list():
    upsert_papers(records=[PaperRecord(arxiv_id="2401.00001", title="T", version=2, authors=["New A", "New B"])])
    stats = upsert_papers(records=[PaperRecord(arxiv_id="2401.00001", title="T", version=1, authors=["Old A"])])
    assert str(stats) == "0 new / 0 updated / 1 unchanged / 0 skipped"
    assert authors_of("2401.00001") == ["New A", "New B"]
    upsert_papers(records=[PaperRecord(arxiv_id="2401.00001", title="T", version=3, authors=["Newest"])])
    assert authors_of("2401.00001") == ["Newest"]


def test_a_source_that_does_not_know_a_field_keeps_it():
    upsert_papers(
        records=[PaperRecord(arxiv_id="2401.00002", title="T", github_repo="https://github.com/a/b", upvotes=7)]
    )
    upsert_papers(records=[PaperRecord(arxiv_id="2401.00002", title="T v2", version=2, abstract="New abstract")])
    paper = Paper.objects.get(arxiv_id="2401.00002")
    assert (paper.title, paper.github_repo, paper.upvotes) == ("T v2", "https://github.com/a/b", 7)


def test_github_link_is_found_in_abstract_or_comments():
    upsert_papers(records=[PaperRecord(arxiv_id="2401.00003", title="T", abstract="x", comments="Code: https://github.com/org/repo.git.")])
    assert Paper.objects.get(arxiv_id="2401.00003").github_repo == "https://github.com/org/repo"


def test_an_overlong_author_name_is_cut_not_a_crash():
    record = make_record(where="t", raw_id="2506.02197", title="T", authors=["Someone and " * 50])
    assert str(upsert_papers(records=[record])) == "1 new / 0 updated / 0 unchanged / 0 skipped"
    assert len(Author.objects.get().name) == 300


def test_snapshots_of_different_days_converge_in_any_order():
    def snapshot(day: str, page: str, upvotes: int) -> PaperRecord:
        at = datetime.fromisoformat(day).replace(tzinfo=timezone.utc)
        return PaperRecord(arxiv_id="2604.07429", title="T", project_page=page, upvotes=upvotes,
                           daily=DailyRecord(day=date.fromisoformat(day), submitted_at=at))

    older, newer = snapshot("2026-04-10", "https://old.example", 10), snapshot("2026-04-16", "https://new.example", 25)
    upsert_papers(records=[newer, older])
    paper = Paper.objects.get()
    assert (paper.project_page, paper.upvotes) == ("https://new.example", 25)
    assert DailyEntry.objects.count() == 2
    assert str(upsert_papers(records=[older, newer])) == "0 new / 0 updated / 2 unchanged / 0 skipped"


def test_a_new_listing_marks_the_paper_modified():
    upsert_papers(records=[PaperRecord(arxiv_id="2401.00004", title="T")])
    before = Paper.objects.get().modified_at
    at = datetime(2026, 3, 16, 9, tzinfo=timezone.utc)
    upsert_papers(
        records=[PaperRecord(arxiv_id="2401.00004", title="T", daily=DailyRecord(day=at.date(), submitted_at=at))]
    )
    assert Paper.objects.get().modified_at > before
