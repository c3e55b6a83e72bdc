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

from ..records import PaperRecord, Skipped, clean_text, make_record
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
                except (ValueError, TypeError, KeyError, AttributeError) as exc:
                    yield Skipped(where, f"unreadable line: {exc}")


def _snapshot_record(row: dict, where: str) -> PaperRecord | Skipped:
    if row.get("authors_parsed"):
        authors = [" ".join(part for part in (first, last, *suffix) if part) for last, first, *suffix in row["authors_parsed"]]
    else:
        authors = split_authors(row.get("authors") or "")
    fields = version_fields(
        [(int(v["version"].lstrip("v")), parse_arxiv_date(v["created"])) for v in row.get("versions") or ()]
    )
    if "updated_at" not in fields and row.get("update_date"):
        fields["updated_at"] = day_start(row["update_date"])
    return make_record(
        where=where,
        raw_id=row.get("id"),
        title=row.get("title"),
        abstract=row.get("abstract"),
        authors=authors,
        categories=(row.get("categories") or "").split(),
        comments=clean_text(row.get("comments")),
        journal_ref=clean_text(row.get("journal-ref")),
        doi=clean_text(row.get("doi")),
        **fields,
    )


def _listing_record(row: dict, where: str) -> PaperRecord | Skipped:
    return make_record(
        where=where,
        raw_id=row.get("id"),
        title=row.get("title"),
        abstract=row.get("abstract"),
        authors=row.get("authors"),
        categories=row.get("categories"),
        comments=clean_text(row.get("comment")),
        published_at=day_start(row["listing_date"]),
    )

