"""What every source yields: one PaperRecord per paper, or a Skipped with the reason.

A field left as None means "this source does not know", so the upsert keeps what
the database already has (an arXiv ingest does not erase a GitHub link that came
from Hugging Face).
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime

# New-style ids (0704.0001 onwards: YYMM.NNNN, YYMM.NNNNN from 2015) and old-style
# ids (archive[.SUBJ]/YYMMNNN), each with an optional version.
_NEW_ID = re.compile(r"(?P<id>\d{4}\.\d{4,5})(?:v(?P<v>\d+))?")
_OLD_ID = re.compile(r"(?P<id>[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v(?P<v>\d+))?")
_URL_PREFIX = re.compile(
    r"^(?:https?://)?(?:www\.|export\.)?(?:arxiv\.org/(?:abs|pdf|html)/|huggingface\.co/papers/)", re.I
)
AUTHOR_NAME_MAX = 300  # Author.name's max_length
GITHUB_URL = re.compile(r"https?://github\.com/[\w.\-]+/[\w.\-]+", re.I)


def parse_arxiv_id(raw: str) -> tuple[str, int | None]:
    """'arXiv:2401.12345v2', an abs/pdf/HF URL or a bare id → ('2401.12345', 2).

    Raises ValueError with the reason for anything that is not an arXiv id.
    """
    text = (raw or "").strip()
    text = _URL_PREFIX.sub("", text)
    text = re.sub(r"^(?:oai:arXiv\.org:|arxiv:)", "", text, flags=re.I)
    text = re.sub(r"(?:\.pdf)?/?$", "", text)
    for pattern in (_NEW_ID, _OLD_ID):
        if match := pattern.fullmatch(text):
            version = int(match["v"]) if match["v"] else None
            if version == 0:
                break
            return match["id"], version
    raise ValueError(f"not an arXiv id: {raw!r}")


def find_github_repo(*texts: str | None) -> str | None:
    """The first GitHub repository URL in the texts (abstract, comments), normalised."""
    for text in texts:
        if text and (match := GITHUB_URL.search(text)):
            return match.group(0).rstrip(".").removesuffix(".git")
    return None


@dataclass(frozen=True)
class OrganizationRecord:
    slug: str
    name: str
    avatar_url: str = ""


@dataclass(frozen=True)
class DailyRecord:
    """The paper was on the daily list of `day`."""

    day: date
    submitted_at: datetime
    submitter_name: str = ""
    source: str = "hf-import"


@dataclass
class PaperRecord:
    arxiv_id: str
    title: str
    version: int | None = None
    abstract: str | None = None
    authors: list[str] | None = None
    categories: list[str] | None = None
    published_at: datetime | None = None
    updated_at: datetime | None = None
    comments: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    github_repo: str | None = None
    github_stars: int | None = None
    project_page: str | None = None
    organization: OrganizationRecord | None = None
    upvotes: int | None = None
    num_comments: int | None = None
    ai_summary: str | None = None
    ai_keywords: list[str] | None = None
    daily: DailyRecord | None = None
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Skipped:
    """A record a source could not read; `where` says which (file:line, entry id...)."""

    where: str
    reason: str


def clean_text(text: str | None) -> str | None:
    """Collapse the hard line wraps arXiv puts in titles and abstracts."""
    if text is None:
        return None
    return " ".join(text.split())


def make_record(*, where: str, raw_id: str | None, title: str | None, **fields) -> "PaperRecord | Skipped":
    """Validate the fields every source must have, and clean the text ones."""
    try:
        arxiv_id, id_version = parse_arxiv_id(raw_id or "")
    except ValueError as exc:
        return Skipped(where, str(exc))
    title = clean_text(title)
    if not title:
        return Skipped(where, f"{arxiv_id}: missing title")
    if fields.get("version") is None:
        fields["version"] = id_version
    if "abstract" in fields:
        fields["abstract"] = clean_text(fields["abstract"])
    if fields.get("authors") is not None:
        # A name longer than any real one is several names glued together; keep its start.
        fields["authors"] = [name[:AUTHOR_NAME_MAX] for name in (clean_text(a) for a in fields["authors"]) if name]
    return PaperRecord(arxiv_id=arxiv_id, title=title, **fields)
