"""What every source yields: one PaperRecord per paper, or a Skipped with the reason.

This is where everything that comes in from outside is validated, once. Sources
pass on what they read; a PaperRecord turns each field into its type when it is
made (strings are strings, lists of strings are lists of strings, counts are
whole numbers in range, links are http(s) with a host, lengths fit the columns)
or drops the field and says why in `skipped_fields`. A record without a valid
arXiv id or title cannot be made: make_record returns a Skipped instead. So the
upsert never meets a value the database would refuse.

A field left as None means "this source does not know", so the upsert keeps what
the database already has (an arXiv ingest does not erase a GitHub link that came
from Hugging Face); a dropped field is None too.
"""

import functools
import hashlib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from typing import Protocol, cast, runtime_checkable
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from .models import Author, DailyEntry, HubUser, Organization, Paper

# New-style ids (0704.0001 onwards: YYMM.NNNN, YYMM.NNNNN from 2015) and old-style
# ids (archive[.SUBJ]/YYMMNNN), each with an optional version.
_NEW_ID = re.compile(r"(?P<id>\d{4}\.\d{4,5})(?:v(?P<v>\d+))?")
_OLD_ID = re.compile(r"(?P<id>[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v(?P<v>\d+))?")
_URL_PREFIX = re.compile(
    r"^(?:https?://)?(?:www\.|export\.)?(?:arxiv\.org/(?:abs|pdf|html)/|huggingface\.co/papers/)", re.I
)
GITHUB_URL = re.compile(r"https?://github\.com/[\w.\-]+/[\w.\-]+", re.I)


def _max_length(model, name: str) -> int:
    return model._meta.get_field(name).max_length


# The columns' limits: a value longer than its column would make PostgreSQL refuse the whole batch.
ARXIV_ID_MAX = _max_length(Paper, "arxiv_id")
DOI_MAX = _max_length(Paper, "doi")
CATEGORY_MAX = _max_length(Paper, "primary_category")
URL_MAX = _max_length(Paper, "github_repo")
AUTHOR_NAME_MAX = _max_length(Author, "name")
ORGANIZATION_SLUG_MAX = _max_length(Organization, "slug")
ORGANIZATION_NAME_MAX = _max_length(Organization, "name")
HF_NAME_MAX = _max_length(Organization, "hf_name")
SUBMITTER_NAME_MAX = _max_length(DailyEntry, "submitter_name")
HUB_FULLNAME_MAX = _max_length(HubUser, "fullname")
HUB_AVATAR_MAX = _max_length(HubUser, "avatar_url")
AI_SUMMARY_MODEL_MAX = _max_length(Paper, "ai_summary_model")
REPO_ADDED_BY_MAX = _max_length(Paper, "github_repo_added_by")
MEDIA_URLS_MAX = 20
# Hugging Face's ids are MongoDB ObjectIds: 24 hex digits.
OBJECT_ID = re.compile(r"[0-9a-f]{24}")
# An avatar HF sends as a path on its own site ("/avatars/<hash>.svg").
_HUB_AVATAR_PATH = re.compile(r"/(?!/)[\w\-./]+")
VERSION_MAX = 32767  # PositiveSmallIntegerField, on every database
STARS_MAX = 2**31 - 1  # PositiveIntegerField, on every database
# Imported upvotes and comments: local votes and comments are added on top of them,
# so leave room under the column's limit. No paper comes near a billion.
IMPORTED_COUNT_MAX = 10**9
AUTHORS_MAX = 32767  # an author's position is a PositiveSmallIntegerField

# Control characters other than whitespace, and lone surrogates (a JSON "\ud800"):
# they never mean anything in a title, a name or an abstract (they come from broken
# encodings and PDF extraction), and PostgreSQL refuses NUL and surrogates outright.
# They are removed rather than the record skipped: a good paper is not lost over an
# invisible byte. Whitespace controls (\t, \n, \r, \x0b, \x0c, \x1c-\x1f) are collapsed
# to a space with the rest of the whitespace.
_UNWANTED_CHARS = re.compile("[\x00-\x08\x0e-\x1b\x7f\ud800-\udfff]")
_WHITESPACE_OR_CONTROL = re.compile("[\\s\x00-\x1f\x7f\ud800-\udfff]")
_HTTP_URL = URLValidator(schemes=["http", "https"])
_SLUG = re.compile(r"[-a-zA-Z0-9_]+")  # Django's validate_slug, which <slug:...> URLs accept
_NOT_SLUG = re.compile(r"[^-a-zA-Z0-9_]+")
_DAILY_SOURCES = frozenset(DailyEntry.Source.values)


def _show(value: object) -> str:
    """A value for a reason message: its repr, cut short."""
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


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


def normal_title(text: str) -> str:
    """A title with case and punctuation set aside: two titles name the same paper when these are equal."""
    return re.sub(r"\W+", " ", text).strip().lower()


def _is_versionless_id(text: str) -> bool:
    """True for an id exactly as parse_arxiv_id gives it (cheaper than parsing it again)."""
    match = _NEW_ID.fullmatch(text) or _OLD_ID.fullmatch(text)
    return match is not None and match["v"] is None


@functools.lru_cache(maxsize=4096)  # Django's URLValidator is slow, and an organization's avatar repeats on each paper
def _checked_url(url: str) -> str:
    if len(url) > URL_MAX:
        raise ValueError(f"longer than {URL_MAX} characters")
    if _WHITESPACE_OR_CONTROL.search(url):
        raise ValueError(f"whitespace or control characters in {_show(url)}")
    try:
        _HTTP_URL(url)
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port out of range
    except (ValidationError, ValueError):
        raise ValueError(f"not an http(s) URL with a host: {_show(url)}") from None
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"a URL with a user name or password: {_show(url)}")
    return url


def clean_url(value: object) -> str:
    """The one rule for a link that came from outside and will be put in an href.

    http or https, with a host, no user name or password, no whitespace or control
    characters inside, at most URL_MAX characters (surrounding whitespace is dropped).
    Anything else (javascript:, data:, vbscript:, "//host", "http://") raises
    ValueError with the reason.
    """
    if not isinstance(value, str):
        raise ValueError(f"not a string: {_show(value)}")
    return _checked_url(value.strip())


def is_valid_slug(slug: object) -> bool:
    """True for what an organization's slug may be: what <slug:...> URLs accept, and fits the column."""
    return isinstance(slug, str) and len(slug) <= ORGANIZATION_SLUG_MAX and bool(_SLUG.fullmatch(slug))


def organization_slug(name: str) -> str:
    """The slug (its URL part) of an organization named `name`, e.g. on Hugging Face.

    A name that is already a valid slug stays as it is ("Qwen", "deepseek-ai"), so
    links match Hugging Face's. Any other name is written in ASCII with each run of
    other characters turned into "-", and ends with a short hash of the name, so
    that names which would read the same ("foo.bar", "foo bar", "foo-bar") never
    share an organization: "foo.bar" → "foo-bar-<8 hex>", "研究所" → "org-<8 hex>".
    Raises ValueError for a blank name.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"no organization name: {_show(name)}")
    name = name.strip()
    if is_valid_slug(name):
        return name
    digest = hashlib.sha1(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = _NOT_SLUG.sub("-", ascii_name).strip("-_") or "org"
    return f"{base[:ORGANIZATION_SLUG_MAX - len(digest) - 1].rstrip('-_')}-{digest}"


def find_github_repo(*texts: str | None) -> str | None:
    """The first GitHub repository URL in the texts (abstract, comments), normalised."""
    for text in texts:
        if text and (match := GITHUB_URL.search(text)):
            try:
                return clean_url(match.group(0).rstrip(".").removesuffix(".git"))
            except ValueError:  # too long for the column
                return None
    return None


def clean_text(value: object) -> str:
    """A string with its whitespace collapsed (arXiv hard-wraps titles and abstracts) and
    control characters removed. Raises ValueError for anything that is not a string."""
    if not isinstance(value, str):
        raise ValueError(f"not a string: {_show(value)}")
    return " ".join(_UNWANTED_CHARS.sub("", value).split())


def _strings(value: object, *, max_length: int | None = None, cut: bool = False) -> list[str]:
    """A list of cleaned, non-empty strings. A string is not a list of its characters."""
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"not a list: {_show(value)}")
    strings = []
    for item in value:
        text = clean_text(item) if isinstance(item, str) else None
        if text is None:
            raise ValueError(f"not a list of strings: it holds {_show(item)}")
        if max_length is not None and len(text) > max_length:
            if not cut:
                raise ValueError(f"longer than {max_length} characters: {_show(text)}")
            text = text[:max_length]
        if text:
            strings.append(text)
    return strings


def _authors(value: object) -> list[str]:
    # A name longer than any real one is several names glued together: keep its start.
    names = _strings(value, max_length=AUTHOR_NAME_MAX, cut=True)
    if len(names) > AUTHORS_MAX:
        raise ValueError(f"{len(names)} authors, more than {AUTHORS_MAX}")
    return names


def _categories(value: object) -> list[str]:
    categories = _strings(value)
    # The first is the primary category, which has a column; the rest live in a JSON list
    # (real listings carry MSC classes such as "94A29, 94A08, 68T01" there).
    if categories and len(categories[0]) > CATEGORY_MAX:
        raise ValueError(f"primary category longer than {CATEGORY_MAX} characters: {_show(categories[0])}")
    return categories


def _bounded_text(value: object, *, max_length: int) -> str:
    text = clean_text(value)
    if len(text) > max_length:
        raise ValueError(f"longer than {max_length} characters: {_show(text)}")
    return text


def _count(value: object, *, minimum: int = 0, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"not a whole number: {_show(value)}")
    if not minimum <= value <= maximum:
        raise ValueError(f"{value} is not between {minimum} and {maximum}")
    return value


def _moment(value: object) -> datetime:
    """An aware datetime in UTC (a naive one is taken as UTC, as arXiv and HF mean)."""
    if not isinstance(value, datetime):
        raise ValueError(f"not a date and time: {_show(value)}")
    try:
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    except OverflowError:
        raise ValueError(f"out of range: {value!r}") from None


@dataclass(frozen=True)
class OrganizationRecord:
    """An organization a paper is published under.

    slug: ours, in URLs; when empty it is derived from hf_name (organization_slug).
    hf_name: the organization's id on Hugging Face as sent ("" for none), which the
    Hugging Face-compatible API reports back.
    """

    slug: str
    name: str
    avatar_url: str = ""
    hf_name: str = ""


@dataclass(frozen=True)
class HubUserRecord:
    """What Hugging Face says of the user who listed a paper (its `submittedBy`)."""

    fullname: str = ""
    avatar_url: str = ""
    hf_id: str = ""
    is_pro: bool = False


@dataclass(frozen=True)
class DailyRecord:
    """The paper was on the daily list of `day`; `submitter` is the HF profile of submitter_name."""

    day: date
    submitted_at: datetime
    submitter_name: str = ""
    source: str = "hf-import"
    submitter: HubUserRecord | None = None


def _hub_user(user: object, problems: dict[str, str]) -> HubUserRecord | None:
    """A valid HubUserRecord: each bad field dropped (noted in problems), None when nothing is left."""
    if user is None:
        return None
    if not isinstance(user, HubUserRecord):
        problems["daily.submitter"] = f"not a user: {_show(user)}"
        return None
    fullname = avatar_url = hf_id = ""
    try:
        fullname = _bounded_text(user.fullname, max_length=HUB_FULLNAME_MAX) if user.fullname else ""
    except ValueError as exc:
        problems["daily.submitter.fullname"] = str(exc)
    if user.avatar_url:
        if isinstance(user.avatar_url, str) and len(user.avatar_url) <= HUB_AVATAR_MAX and (
            _HUB_AVATAR_PATH.fullmatch(user.avatar_url)
        ):
            avatar_url = user.avatar_url
        else:
            try:
                avatar_url = clean_url(user.avatar_url)
            except ValueError as exc:
                problems["daily.submitter.avatar_url"] = str(exc)
    if user.hf_id:
        if isinstance(user.hf_id, str) and OBJECT_ID.fullmatch(user.hf_id):
            hf_id = user.hf_id
        else:
            problems["daily.submitter.hf_id"] = f"not a 24-hex id: {_show(user.hf_id)}"
    is_pro = user.is_pro is True
    if not (fullname or avatar_url or hf_id or is_pro):
        return None
    return HubUserRecord(fullname=fullname, avatar_url=avatar_url, hf_id=hf_id, is_pro=is_pro)


def _organization(org: object, problems: dict[str, str]) -> OrganizationRecord:
    """A valid OrganizationRecord; its bad name or avatar is dropped, noted in problems."""
    if not isinstance(org, OrganizationRecord):
        raise ValueError(f"not an organization: {_show(org)}")
    hf_name = _bounded_text(org.hf_name, max_length=HF_NAME_MAX) if org.hf_name else ""
    slug = org.slug or (organization_slug(hf_name) if hf_name else "")
    if not is_valid_slug(slug):
        raise ValueError(f"no valid slug: {_show(slug)}")
    try:
        name = clean_text(org.name)[:ORGANIZATION_NAME_MAX] if org.name is not None else ""
    except ValueError as exc:
        problems["organization.name"], name = str(exc), ""
    avatar_url = ""
    if org.avatar_url:
        try:
            avatar_url = clean_url(org.avatar_url)
        except ValueError as exc:
            problems["organization.avatar_url"] = str(exc)
    return OrganizationRecord(slug=slug, name=name or hf_name or slug, avatar_url=avatar_url, hf_name=hf_name)


def _daily(daily: object, problems: dict[str, str]) -> DailyRecord:
    """A valid DailyRecord; a bad submitter name is dropped, noted in problems."""
    if not isinstance(daily, DailyRecord):
        raise ValueError(f"not a daily listing: {_show(daily)}")
    if type(daily.day) is not date:  # a datetime is a date too, but not a day
        raise ValueError(f"the day is not a date: {_show(daily.day)}")
    if daily.source not in _DAILY_SOURCES:
        raise ValueError(f"unknown source {_show(daily.source)}")
    try:
        submitter_name = _bounded_text(daily.submitter_name, max_length=SUBMITTER_NAME_MAX)
    except ValueError as exc:
        problems["daily.submitter_name"], submitter_name = str(exc), ""
    submitter = _hub_user(daily.submitter, problems) if submitter_name else None
    return replace(
        daily, submitted_at=_moment(daily.submitted_at), submitter_name=submitter_name, submitter=submitter
    )


def _optional_url(value: object) -> str | None:
    if isinstance(value, str) and not value.strip():
        return None  # no link is not a bad link
    return clean_url(value)


def _media_urls(value: object) -> list[str]:
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"not a list: {_show(value)}")
    if len(value) > MEDIA_URLS_MAX:
        raise ValueError(f"{len(value)} media links, more than {MEDIA_URLS_MAX}")
    return [clean_url(url) for url in value]


# How each optional field of PaperRecord is validated; each raises ValueError with the reason.
_OPTIONAL_FIELDS = {
    "version": lambda v: _count(v, minimum=1, maximum=VERSION_MAX),
    "abstract": clean_text,
    "authors": _authors,
    "categories": _categories,
    "published_at": _moment,
    "updated_at": _moment,
    "comments": clean_text,
    "journal_ref": clean_text,
    "doi": lambda v: _bounded_text(v, max_length=DOI_MAX),
    "github_repo": _optional_url,
    "github_stars": lambda v: _count(v, maximum=STARS_MAX),
    "project_page": _optional_url,
    "upvotes": lambda v: _count(v, maximum=IMPORTED_COUNT_MAX),
    "num_comments": lambda v: _count(v, maximum=IMPORTED_COUNT_MAX),
    "ai_summary": clean_text,
    "ai_keywords": _strings,
    "ai_summary_model": lambda v: _bounded_text(v, max_length=AI_SUMMARY_MODEL_MAX),
    "github_repo_added_by": lambda v: _bounded_text(v, max_length=REPO_ADDED_BY_MAX),
    "media_urls": _media_urls,
}


@dataclass
class PaperRecord:
    """One paper as a source read it, validated when made (see the module docstring).

    Sources may pass any value they read; each field ends up of its type or None.
    Raises ValueError when arxiv_id (versionless, as parse_arxiv_id gives it) or
    title is unusable. where: the file:line, URL or entry it came from.
    skipped_fields: {field: reason} of the fields dropped.
    """

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
    ai_summary_model: str | None = None
    github_repo_added_by: str | None = None
    media_urls: list[str] | None = None
    daily: DailyRecord | None = None
    extra: dict = field(default_factory=dict)
    where: str = field(default="", compare=False)
    skipped_fields: dict[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.arxiv_id, str) or len(self.arxiv_id) > ARXIV_ID_MAX:
            raise ValueError(f"not an arXiv id: {_show(self.arxiv_id)}")
        if not _is_versionless_id(self.arxiv_id):
            raise ValueError(f"not a versionless arXiv id: {_show(self.arxiv_id)}")
        if self.title is None:
            raise ValueError("missing title")
        try:
            self.title = clean_text(self.title)
        except ValueError as exc:
            raise ValueError(f"title: {exc}") from None
        if not self.title:
            raise ValueError("missing title")
        problems = self.skipped_fields
        for name, validate in _OPTIONAL_FIELDS.items():
            if (value := getattr(self, name)) is not None:
                try:
                    setattr(self, name, validate(value))
                except ValueError as exc:
                    setattr(self, name, None)
                    problems[name] = str(exc)
        for name, validate_nested in (("organization", _organization), ("daily", _daily)):
            if (value := getattr(self, name)) is not None:
                try:
                    setattr(self, name, validate_nested(value, problems))
                except ValueError as exc:
                    setattr(self, name, None)
                    problems[name] = str(exc)


@dataclass(frozen=True)
class Skipped:
    """A record a source could not read; `where` says which (file:line, entry id...)."""

    where: str
    reason: str


@dataclass(frozen=True)
class Page:
    """One page of a paged source: its records, and the token where the next page starts ("" after the last)."""

    records: list["PaperRecord | Skipped"]
    token: str


@runtime_checkable
class PagedSource(Protocol):
    """A source read page by page whose position can be saved and resumed (OAI-PMH). `key` names
    the run (its saved position); `pages(token=...)` yields from the start, or from a saved token."""

    @property
    def key(self) -> str: ...

    def pages(self, *, token: str = "") -> Iterator[Page]: ...


def make_record(*, where: str, raw_id: object, title: object, **fields) -> "PaperRecord | Skipped":
    """The PaperRecord for what a source read (an id as written, with or without a version),
    or a Skipped with the reason when it has no usable id or title."""
    if not isinstance(raw_id, str):
        return Skipped(where, f"not an arXiv id: {_show(raw_id)}")
    try:
        arxiv_id, id_version = parse_arxiv_id(raw_id)
    except ValueError as exc:
        return Skipped(where, str(exc))
    if fields.get("version") is None:
        fields["version"] = id_version
    try:
        # Any title a source read: PaperRecord's own validation refuses one that is not text.
        return PaperRecord(arxiv_id=arxiv_id, title=cast(str, title), where=where, **fields)
    except ValueError as exc:
        return Skipped(where, f"{arxiv_id}: {exc}")


def is_possible_arxiv_id(arxiv_id: str) -> bool:
    """Whether a well-formed, versionless id could name a real paper: its month is 01-12, new-style
    ids start at 0704 (April 2007) and have five digits from 1501 on (four before)."""
    if "/" in arxiv_id:  # old style: archive/YYMMNNN
        month = int(arxiv_id.split("/")[1][2:4])
        return 1 <= month <= 12
    yymm, number = arxiv_id.split(".")
    month = int(yymm[2:])
    return 1 <= month <= 12 and yymm >= "0704" and len(number) == (5 if yymm >= "1501" else 4)
