"""arXiv OAI-PMH bulk harvest (ListRecords), resumable page by page.

https://info.arxiv.org/help/oa/index.html — records come in pages of about a
thousand, each page ending with a resumptionToken for the next. This module only
reads: `Harvest.pages` yields each page with that token, and papers.services.ingest
saves the page's papers and the token in one transaction (HarvestState), so an
interrupted harvest picks up at the page it did not finish. A harvest that ran to
the end starts afresh when run again (upserts are idempotent; the state exists only
to resume, and a rerun with an open "until" should see new papers).

Formats: arXivRaw (default: every version with its date, so version, published
and updated dates are exact) and arXiv (author names split into parts, but only
created/updated dates).
"""

import email.utils
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timezone

from django.conf import settings

from ..records import Page, PaperRecord, Skipped, make_record
from .http import ExpiredPosition, SourceError, fetch

OAI = "{http://www.openarchives.org/OAI/2.0/}"
METADATA_NS = {"arXivRaw": "{http://arxiv.org/OAI/arXivRaw/}", "arXiv": "{http://arxiv.org/OAI/arXiv/}"}

# Affiliations in parentheses ("A. Author (MIT)", "((1) CERN, (2) DESY)") are not names.
_PARENS = re.compile(r"\([^()]*\)")
# Authors are separated by commas, "and", or ", and".
_AUTHOR_SEPARATOR = re.compile(r"\s*,\s*(?:and\s+)?|\s+and\s+")
_SUFFIXES = {"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"}


class OAIError(SourceError):
    """An <error code="..."> answer from the repository."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"OAI-PMH error {code}: {message}")
        self.code = code


@dataclass(frozen=True)
class Harvest:
    """One harvest (a range, a set, a format): yields its pages, each with the token of the next.
    papers.services.ingest writes them and keeps the position under `key`, to resume."""

    from_date: date | None = None
    until: date | None = None
    set_spec: str = ""
    metadata_prefix: str = "arXivRaw"

    def __post_init__(self) -> None:
        if self.metadata_prefix not in METADATA_NS:
            raise SourceError(
                f"OAI-PMH: metadata prefix must be one of {', '.join(METADATA_NS)}, not {self.metadata_prefix!r}"
            )

    @property
    def key(self) -> str:
        parts = [self.metadata_prefix, self.set_spec, str(self.from_date or ""), str(self.until or "")]
        return "|".join([settings.ARXIV_OAI_URL, *parts])

    def pages(self, *, token: str = "") -> Iterator[Page]:
        """The pages from the start, or from the page `token` names (an interrupted harvest)."""
        if token:
            params = {"verb": "ListRecords", "resumptionToken": token}
        else:
            params = {
                "verb": "ListRecords",
                "metadataPrefix": self.metadata_prefix,
                "from": str(self.from_date or ""),
                "until": str(self.until or ""),
                "set": self.set_spec,
            }
        while True:
            response = fetch(settings.ARXIV_OAI_URL, params=params, min_interval=settings.ARXIV_REQUEST_PAUSE_SECONDS)
            try:
                records, token = parse_page(response.content, metadata_prefix=self.metadata_prefix)
            except OAIError as exc:
                if exc.code == "badResumptionToken":
                    raise ExpiredPosition(str(exc)) from None  # tokens expire
                raise
            yield Page(records=records, token=token)
            if not token:
                return
            params = {"verb": "ListRecords", "resumptionToken": token}


def parse_page(content: bytes, *, metadata_prefix: str) -> tuple[list[PaperRecord | Skipped], str]:
    """(records, next resumption token or "") of one ListRecords response."""
    try:
        root = ET.fromstring(content)
    except ET.ParseError as exc:
        raise SourceError(f"OAI-PMH returned unreadable XML ({exc})") from None
    if (error := root.find(f"{OAI}error")) is not None:
        code = error.get("code", "")
        if code == "noRecordsMatch":  # an empty range or set: nothing to harvest, not a failure
            return [], ""
        raise OAIError(code, " ".join((error.text or "").split()))
    list_records = root.find(f"{OAI}ListRecords")
    if list_records is None:
        raise SourceError("OAI-PMH response has neither ListRecords nor an error")
    parse = _raw_record if metadata_prefix == "arXivRaw" else _arxiv_record
    records: list[PaperRecord | Skipped] = []
    for record in list_records.iterfind(f"{OAI}record"):
        header = record.find(f"{OAI}header")
        identifier = header.findtext(f"{OAI}identifier", "") if header is not None else ""
        metadata = record.find(f"{OAI}metadata/{METADATA_NS[metadata_prefix]}{metadata_prefix}")
        if header is not None and header.get("status") == "deleted":
            records.append(Skipped(identifier, "deleted from arXiv"))
        elif metadata is None:
            records.append(Skipped(identifier or "OAI-PMH record", f"no {metadata_prefix} metadata"))
        else:
            records.append(parse(metadata, identifier))
    token = (list_records.findtext(f"{OAI}resumptionToken") or "").strip()
    return records, token


def _raw_record(meta: ET.Element, where: str) -> PaperRecord | Skipped:
    ns = METADATA_NS["arXivRaw"]
    try:
        versions = [
            (int(v.get("version", "").lstrip("v")), parse_arxiv_date(v.findtext(f"{ns}date", "")))
            for v in meta.iterfind(f"{ns}version")
        ]
    except ValueError as exc:
        return Skipped(where, f"bad version: {exc}")
    return make_record(
        where=where,
        raw_id=meta.findtext(f"{ns}id"),
        title=meta.findtext(f"{ns}title"),
        abstract=meta.findtext(f"{ns}abstract"),
        authors=split_authors(meta.findtext(f"{ns}authors", "")),
        categories=meta.findtext(f"{ns}categories", "").split(),
        comments=meta.findtext(f"{ns}comments"),
        journal_ref=meta.findtext(f"{ns}journal-ref"),
        doi=meta.findtext(f"{ns}doi"),
        **version_fields(versions),
    )


def _arxiv_record(meta: ET.Element, where: str) -> PaperRecord | Skipped:
    ns = METADATA_NS["arXiv"]
    authors = [
        " ".join(part for part in (a.findtext(f"{ns}{name}", "") for name in ("forenames", "keyname", "suffix"))
                 if part.strip())
        for a in meta.iterfind(f"{ns}authors/{ns}author")
    ]
    try:
        created, updated = (day_start(meta.findtext(f"{ns}{name}")) for name in ("created", "updated"))
    except ValueError as exc:
        return Skipped(where, f"bad date: {exc}")
    return make_record(
        where=where,
        raw_id=meta.findtext(f"{ns}id"),
        title=meta.findtext(f"{ns}title"),
        abstract=meta.findtext(f"{ns}abstract"),
        authors=authors,
        categories=meta.findtext(f"{ns}categories", "").split(),
        published_at=created,
        updated_at=updated or created,
        comments=meta.findtext(f"{ns}comments"),
        journal_ref=meta.findtext(f"{ns}journal-ref"),
        doi=meta.findtext(f"{ns}doi"),
    )


def split_authors(text: str) -> list[str]:
    """'D.V. Shetty, S.J. Yennello, and G.A. Souliotis' → ['D.V. Shetty', 'S.J. Yennello', 'G.A. Souliotis'].

    arXiv's free-text author lists (arXivRaw, the Kaggle snapshot): affiliations
    in parentheses are dropped, and "Jr."-style suffixes stay with their name.
    """
    previous = None
    while previous != text:
        previous, text = text, _PARENS.sub(" ", text)
    names: list[str] = []
    for part in _AUTHOR_SEPARATOR.split(" ".join(text.split())):
        part = part.strip(" ,;")
        if not part:
            continue
        if names and part.lower() in _SUFFIXES:
            names[-1] = f"{names[-1]}, {part}"
        else:
            names.append(part)
    return names


def version_fields(versions: list[tuple[int, datetime]]) -> dict:
    """version, published_at (v1's date) and updated_at (latest version's date) from (number, date) pairs."""
    if not versions:
        return {}
    versions = sorted(versions)
    return {"version": versions[-1][0], "published_at": versions[0][1], "updated_at": versions[-1][1]}


def parse_arxiv_date(text: str) -> datetime:
    """'Tue, 3 Apr 2007 22:04:11 GMT' (arXiv's version dates) → an aware datetime."""
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        raise ValueError(f"not a date: {text!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def day_start(text: object) -> datetime | None:
    """'2007-04-05' → midnight UTC of that day. Raises ValueError for anything else."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    if not isinstance(text, str):
        raise ValueError(f"not a date: {text!r}")
    return datetime.combine(date.fromisoformat(text.strip()), datetime.min.time(), tzinfo=timezone.utc)
