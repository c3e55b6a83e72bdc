"""JSON-lines files of arXiv metadata, plain or .gz, one paper per line.

Two formats, told apart line by line:
- the arXiv metadata snapshot (Kaggle "arxiv-metadata-oai-snapshot.json", which is
  arXivRaw as JSON): id, title, abstract, authors (a string) and authors_parsed
  ([[last, first, suffix], ...]), categories (space separated), versions
  [{"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}], update_date,
  comments, journal-ref, doi;
- daily listings (id, title, authors [...], categories [...], comment, abstract,
  listing_date): no submission date, so the listing day (00:00 UTC) stands in.
"""

import gzip
import json
from collections.abc import Iterator, Sequence
from pathlib import Path

from ..records import PaperRecord, Skipped, make_record
from .arxiv_oai import day_start, parse_arxiv_date, split_authors, version_fields


def read_files(*, paths: Sequence[Path]) -> Iterator[PaperRecord | Skipped]:
    for path in paths:
        # Bytes, not text: json.loads decodes each line itself, so one bad line is one Skipped.
        with gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb") as file:
            for number, line in enumerate(file, 1):
                if line.isspace():
                    continue
                where = f"{path}:{number}"
                try:
                    row = json.loads(line)
                    if not isinstance(row, dict):
                        raise ValueError("a line must be a JSON object")
                    yield _snapshot_record(row, where) if "listing_date" not in row else _listing_record(row, where)
                except (ValueError, RecursionError) as exc:  # RecursionError: JSON nested too deep
                    yield Skipped(where, f"unreadable line: {exc}")


def _snapshot_record(row: dict, where: str) -> PaperRecord | Skipped:
    """Values are passed on as read (the record validates them); only the arXiv formats are parsed here."""
    fields = version_fields(_versions(row.get("versions")))
    if "updated_at" not in fields and row.get("update_date"):
        fields["updated_at"] = day_start(row["update_date"])
    categories = row.get("categories")
    return make_record(
        where=where,
        raw_id=row.get("id"),
        title=row.get("title"),
        abstract=row.get("abstract"),
        authors=_snapshot_authors(row),
        categories=categories.split() if isinstance(categories, str) else categories,
        comments=row.get("comments"),
        journal_ref=row.get("journal-ref"),
        doi=row.get("doi"),
        **fields,
    )


def _snapshot_authors(row: dict) -> object:
    """Names from authors_parsed ([[last, first, suffix...], ...]), else from the authors string."""
    parsed = row.get("authors_parsed")
    if parsed and isinstance(parsed, list) and all(
        isinstance(name, list) and len(name) >= 2 and all(isinstance(part, str) for part in name) for name in parsed
    ):
        return [" ".join(part for part in (first, last, *suffix) if part) for last, first, *suffix in parsed]
    authors = row.get("authors")
    return split_authors(authors) if isinstance(authors, str) else authors


def _versions(versions: object) -> list:
    """[{"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}, ...] as (number, date) pairs."""
    if versions is None:
        return []
    if not isinstance(versions, list) or not all(
        isinstance(v, dict) and isinstance(v.get("version"), str) and isinstance(v.get("created"), str)
        for v in versions
    ):
        raise ValueError(f"versions must be a list of {{version, created}}: {str(versions)[:80]}")
    return [(int(v["version"].removeprefix("v")), parse_arxiv_date(v["created"])) for v in versions]


def _listing_record(row: dict, where: str) -> PaperRecord | Skipped:
    return make_record(
        where=where,
        raw_id=row.get("id"),
        title=row.get("title"),
        abstract=row.get("abstract"),
        authors=row.get("authors"),  # a list here: a string is refused, not split into characters
        categories=row.get("categories"),
        comments=row.get("comment"),
        published_at=day_start(row["listing_date"]),
    )
