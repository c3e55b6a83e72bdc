"""Hugging Face daily papers: the /api/daily_papers lists, live or from saved files.

An item is {"paper": {...}, "publishedAt", "numComments", "submittedBy", "organization", ...}
as the API returns it; older lists (2024) lack some keys and ai_summary/ai_keywords
appear only from 2025. Each item becomes a PaperRecord with a DailyRecord for the
list's day, so the paper shows on that day here too.
"""

import gzip
import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from django.conf import settings

from ..records import DailyRecord, HubUserRecord, OrganizationRecord, PaperRecord, Skipped, make_record
from .http import SourceError, fetch

# Items per API request; a full page means there may be another one.
PAGE_SIZE = 100


def item_records(*, items: Iterable, day: date, where: str) -> Iterator[PaperRecord | Skipped]:
    """Records for the items of one day's list; where names the list (file, URL) in Skipped."""
    for index, item in enumerate(items):
        yield item_record(item, day=day, where=f"{where}[{index}]")


def item_record(item: object, *, day: date, where: str) -> PaperRecord | Skipped:
    """One item as the API sends it. Values are passed on as read: the record validates them."""
    fields = item if isinstance(item, dict) else {}
    paper = fields.get("paper")
    if not isinstance(paper, dict):
        return Skipped(where, "item has no paper object")
    try:
        published_at = _timestamp(paper.get("publishedAt"))
        submitted_at = _timestamp(paper.get("submittedOnDailyAt") or fields.get("publishedAt"))
    except ValueError as exc:
        return Skipped(where, f"bad date: {exc}")
    submitter = fields.get("submittedBy") or paper.get("submittedOnDailyBy") or {}
    if not isinstance(submitter, dict):
        submitter = {}
    org = fields.get("organization") or paper.get("organization")
    if isinstance(org, dict):
        # The slug is derived from HF's name, which is kept as sent (see OrganizationRecord); the values go
        # in as sent, maybe not text: PaperRecord validates them.
        org = OrganizationRecord(
            slug="", hf_name=org.get("name"), name=org.get("fullname"), avatar_url=org.get("avatar")  # type: ignore[arg-type]
        )
    return make_record(
        where=where,
        raw_id=paper.get("id"),
        title=paper.get("title") or fields.get("title"),
        abstract=paper.get("summary"),
        authors=_author_names(paper.get("authors")),
        published_at=published_at,
        upvotes=paper.get("upvotes"),
        num_comments=fields.get("numComments"),
        organization=org or None,
        github_repo=paper.get("githubRepo") or None,
        github_stars=paper.get("githubStars"),
        project_page=paper.get("projectPage") or None,
        ai_summary=paper.get("ai_summary"),
        ai_keywords=paper.get("ai_keywords"),
        ai_summary_model=paper.get("ai_summary_model"),
        github_repo_added_by=paper.get("githubRepoAddedBy"),
        # 2024's lists' "mediaUrl" is the thumbnail; "mediaUrls" are what the submitter attached.
        media_urls=paper.get("mediaUrls") or fields.get("mediaUrls"),
        daily=DailyRecord(
            day=day,
            submitted_at=submitted_at or datetime.combine(day, time.min, tzinfo=timezone.utc),
            submitter_name=submitter.get("name") or submitter.get("user") or "",
            source="hf-import",
            submitter=HubUserRecord(
                fullname=submitter.get("fullname") or "",
                avatar_url=submitter.get("avatarUrl") or "",
                hf_id=submitter.get("_id") or "",
                is_pro=submitter.get("isPro") is True,
            ),
        ),
    )


def _author_names(authors: object) -> object:
    """HF's [{"name": ...}, ...] as a list of names. Hidden authors are still authors of the
    paper (HF only hides their profile link). Anything else is passed on for the record to refuse."""
    if not isinstance(authors, list):
        return authors
    return [a["name"] if isinstance(a, dict) and "name" in a else a for a in authors]


def read_files(*, paths: Sequence[Path]) -> Iterator[PaperRecord | Skipped]:
    """Saved lists: YYYY-MM-DD.json (one day's API response) or .jsonl lines with a "_date"; .gz too."""
    for path in paths:
        name = path.name.removesuffix(".gz")
        if name.endswith(".jsonl"):
            yield from _read_jsonl(path)
        elif name.endswith(".json"):
            yield from _read_day_file(path)
        else:
            raise SourceError(f"{path}: expected a .json day file or a .jsonl file (optionally .gz)")


def _open(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")


def _read_day_file(path: Path) -> Iterator[PaperRecord | Skipped]:
    stem = path.name.removesuffix(".gz").removesuffix(".json")
    try:
        day = date.fromisoformat(stem)
    except ValueError:
        raise SourceError(f"{path}: the day comes from the file name, which must be YYYY-MM-DD.json") from None
    with _open(path) as file:
        try:
            items = json.load(file)
        except (ValueError, RecursionError) as exc:
            yield Skipped(str(path), f"not JSON: {exc}")
            return
    if not isinstance(items, list):
        yield Skipped(str(path), "not a list of daily-paper items")
        return
    yield from item_records(items=items, day=day, where=str(path))


def _read_jsonl(path: Path) -> Iterator[PaperRecord | Skipped]:
    with _open(path) as file:
        for number, line in enumerate(file, 1):
            where = f"{path}:{number}"
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                day = date.fromisoformat(item["_date"])
            except (ValueError, KeyError, TypeError, RecursionError) as exc:
                yield Skipped(where, f"not a daily-paper item with a _date: {exc!r}")
                continue
            yield item_record(item, day=day, where=where)


def fetch_days(*, first: date, last: date) -> Iterator[PaperRecord | Skipped]:
    """Each day's list from the live API, first to last inclusive (days without a list yield nothing)."""
    day = first
    while day <= last:
        yield from _fetch_day(day)
        day += timedelta(days=1)


def _fetch_day(day: date) -> Iterator[PaperRecord | Skipped]:
    url = f"{settings.HF_API_URL.rstrip('/')}/daily_papers"
    page = 0
    while True:
        response = fetch(url, params={"date": day.isoformat(), "limit": PAGE_SIZE, "p": page})
        try:
            items = response.json()
        except ValueError as exc:
            raise SourceError(f"{response.url}: the Hugging Face API did not return JSON ({exc})") from None
        if not isinstance(items, list):
            raise SourceError(f"{response.url}: expected a list of daily papers, got {type(items).__name__}")
        yield from item_records(items=items, day=day, where=str(response.url))
        if len(items) < PAGE_SIZE:
            return
        page += 1


def _timestamp(text: object) -> datetime | None:
    """HF's '2024-05-27T03:50:58.348Z' → an aware datetime."""
    if not text:
        return None
    if not isinstance(text, str):
        raise ValueError(f"not a timestamp: {text!r}")
    when = datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)
