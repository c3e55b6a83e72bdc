"""Writes to papers. Every source goes through upsert_papers (ingest); every other change to a paper,
its counts or its daily entries goes through the small API below (mark_changed, adjust_counts,
set_organization, lock_comments, list_paper, unlist, set_keywords, set_summary), which stamps
modified_at when search must reindex the paper and invalidates exactly the cached pages that show
it. Nothing else writes papers."""

import functools
import logging
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import connection, models, transaction
from django.db.models import F, Max
from django.utils import timezone

from dailypapers import pagecache

from .models import Author, Authorship, DailyEntry, HarvestState, Organization, Paper, SummaryCache
from .records import OrganizationRecord, PagedSource, PaperRecord, Skipped, find_github_repo
from .sources.http import ExpiredPosition, SourceError

logger = logging.getLogger(__name__)

# Record fields copied as they are onto Paper when the record knows them.
_PLAIN_FIELDS = (
    "version", "title", "abstract", "published_at", "updated_at", "comments", "journal_ref", "doi",
    "github_repo", "github_stars", "project_page", "ai_summary", "ai_keywords",
)


@dataclass
class UpsertStats:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    # Fields dropped from records that were kept (a javascript: link, a negative count...).
    skipped_fields: int = 0

    @property
    def total(self) -> int:
        return self.new + self.updated + self.unchanged + self.skipped

    def __str__(self) -> str:
        line = f"{self.new} new / {self.updated} updated / {self.unchanged} unchanged / {self.skipped} skipped"
        return f"{line} / {self.skipped_fields} skipped fields" if self.skipped_fields else line


# --- the write API for everything that is not an ingest ----------------------------------------------

# Past this many papers a change is treated as site-wide: naming every page would cost more than
# re-rendering them.
_MANY_PAPERS = 500


def _pages_showing(paper_ids: Collection[int], *, lists_changed: bool = False) -> set[str] | None:
    """The cache scopes of the pages that show these papers (None: too many to name). Each paper's
    page; the lists it is on (its days, their weeks and months, the newest list when it is one of
    them) and trending; and the page of every paper on those days, which shows its rank there.
    `lists_changed`: a day gained its first entry or lost its last, so every list's previous/next
    links may change: site-wide (about once a day, and it keeps every cached page at two scope
    tokens to read). Read before a write that removes what is read (unlist)."""
    ids = set(paper_ids)
    if len(ids) > _MANY_PAPERS or lists_changed:
        return None
    scopes = {pagecache.paper_scope(pk) for pk in ids} | {pagecache.TRENDING}
    days = set(DailyEntry.objects.filter(paper_id__in=ids).values_list("day", flat=True))
    if days:
        for day in days:
            scopes |= pagecache.list_scopes(day)
        same_days = DailyEntry.objects.filter(day__in=days).values_list("paper_id", flat=True)
        scopes |= {pagecache.paper_scope(pk) for pk in same_days}
        if DailyEntry.objects.aggregate(day=Max("day"))["day"] in days:
            scopes.add(pagecache.LATEST)
    return scopes


def _invalidate(scopes: set[str] | None) -> None:
    """Now, and again when the transaction we are in commits: a page rendered in between, from
    what was read before the commit, would otherwise be cached under the new tokens."""
    def run() -> None:
        if scopes is None:
            pagecache.invalidate_all()
        else:
            pagecache.invalidate(scopes)

    run()
    if connection.in_atomic_block:
        transaction.on_commit(run)


def refresh_pages(*, paper_ids: Collection[int], lists: bool = True) -> None:
    """Something these papers' pages show changed, though not the paper's own fields (a comment edited,
    an authorship claim decided: `lists=False`, only the papers' own pages)."""
    if lists:
        _invalidate(_pages_showing(paper_ids))
    else:
        _invalidate({pagecache.paper_scope(pk) for pk in paper_ids})


def refresh_all_pages() -> None:
    """Every cached page (bulk ingests, admin edits of authors, organizations and entries)."""
    _invalidate(None)


def mark_changed(*, paper_ids: Collection[int], lists_changed: bool = False) -> None:
    """The papers changed in what search indexes (text, organization, being on a daily list):
    stamp modified_at, which the keyword index and the vectors follow, and refresh their pages."""
    scopes = _pages_showing(paper_ids, lists_changed=lists_changed)
    Paper.objects.filter(pk__in=list(paper_ids)).update(modified_at=timezone.now())
    _invalidate(scopes)


def adjust_counts(*, paper_id: int, upvotes: int = 0, comments: int = 0) -> None:
    """Move the paper's vote and comment counts by these amounts, never below zero, in the database
    (F expressions: two concurrent votes both count). Counts are not indexed by search, so modified_at
    stays (the feeds' updated dates follow it); the paper's pages and its lists are refreshed."""
    for field, delta in (("upvotes", upvotes), ("num_comments", comments)):
        if delta > 0:
            Paper.objects.filter(pk=paper_id).update(**{field: F(field) + delta})
        elif delta < 0:
            Paper.objects.filter(pk=paper_id, **{f"{field}__gte": -delta}).update(**{field: F(field) + delta})
    _invalidate(_pages_showing([paper_id]))


def set_organization(*, paper_id: int, organization: Organization | None) -> None:
    """The paper goes under this organization (None: under none). Search filters by it."""
    Paper.objects.filter(pk=paper_id).update(organization=organization)
    mark_changed(paper_ids=[paper_id])


def lock_comments(*, paper_ids: Collection[int], locked: bool) -> None:
    """Lock (or unlock) the papers' discussions: only their own pages show it."""
    Paper.objects.filter(pk__in=list(paper_ids)).update(comments_locked=locked)
    refresh_pages(paper_ids=paper_ids, lists=False)


@dataclass(frozen=True)
class ExtractedKeywords:
    """Keywords extracted from one paper's text (the text whose vector has text_hash)."""

    paper_id: int
    keywords: list[str]
    text_hash: str


def set_keywords(*, extracted: Collection[ExtractedKeywords], model: str) -> int:
    """Store keywords extracted by `model` (search.keywords) on these papers; returns how many.
    Search does not index keywords, so modified_at stays (stamping it would have the paper embedded
    and its keywords extracted again); the pages that show the papers are refreshed."""
    rows = {e.paper_id: e for e in extracted}
    if not rows:
        return 0
    papers = list(Paper.objects.filter(pk__in=list(rows)).only("pk"))
    for paper in papers:
        paper.extracted_keywords = [str(k) for k in rows[paper.pk].keywords]
        paper.keywords_model = model
        paper.keywords_text_hash = rows[paper.pk].text_hash
    with transaction.atomic():
        Paper.objects.bulk_update(papers, ["extracted_keywords", "keywords_model", "keywords_text_hash"])
    refresh_pages(paper_ids=[p.pk for p in papers])
    return len(papers)


def set_summary(*, paper_id: int, summary: str, model: str, content_hash: str) -> None:
    """The language model `model` summarised the paper's text (whose hash is content_hash) as
    `summary` (validated where it came in, papers.summaries). The cache row and the paper change in
    one transaction: never one without the other. Search never indexes summaries: modified_at stays."""
    with transaction.atomic():
        SummaryCache.objects.update_or_create(
            paper_id=paper_id, content_hash=content_hash, model=model, defaults={"summary": summary}
        )
        Paper.objects.filter(pk=paper_id).update(
            llm_summary=summary, llm_summary_model=model, llm_summary_hash=content_hash,
            llm_summary_checked_at=timezone.now(),
        )
    refresh_pages(paper_ids=[paper_id])


def set_no_summary(*, paper_id: int, model: str, content_hash: str) -> None:
    """`model` gave no usable summary of this text: the paper shows none from it (not another
    model's under its name), and is not asked again until its text or the model changes."""
    Paper.objects.filter(pk=paper_id).update(
        llm_summary="", llm_summary_model=model, llm_summary_hash=content_hash, llm_summary_checked_at=timezone.now()
    )
    refresh_pages(paper_ids=[paper_id])


def mark_summaries_checked(*, paper_ids: Collection[int]) -> None:
    """These papers' summaries still match their text and model (nothing shown changes)."""
    Paper.objects.filter(pk__in=list(paper_ids)).update(llm_summary_checked_at=timezone.now())


def list_paper(*, paper: Paper, day: date, submitted_at: datetime, submitted_by=None, source: str) -> DailyEntry:
    """Put the paper on the day's list. "On a daily list" is a search filter: modified_at is stamped."""
    new_day = not DailyEntry.objects.filter(day=day).exists()
    entry = DailyEntry.objects.create(
        paper=paper, day=day, submitted_by=submitted_by, submitted_at=submitted_at, source=source
    )
    mark_changed(paper_ids=[paper.pk], lists_changed=new_day)
    return entry


def unlist(*, entries: "models.QuerySet[DailyEntry]") -> int:
    """Take these entries off their days' lists; returns how many. The papers' modified_at is stamped
    ("on a daily list" is a search filter), and their pages and the lists they were on are refreshed."""
    rows = list(entries.values_list("pk", "paper_id", "day"))
    if not rows:
        return 0
    paper_ids = {paper_id for _, paper_id, _ in rows}
    days = {day for _, _, day in rows}
    scopes = _pages_showing(paper_ids)  # before the entries go: the days they were on
    with transaction.atomic():
        DailyEntry.objects.filter(pk__in=[pk for pk, _, _ in rows]).delete()
        Paper.objects.filter(pk__in=paper_ids).update(modified_at=timezone.now())
        emptied = days - set(DailyEntry.objects.filter(day__in=days).values_list("day", flat=True).distinct())
    _invalidate(None if emptied else scopes)
    return len(rows)


def upsert_papers(
    *,
    records: Iterable[PaperRecord | Skipped],
    batch_size: int = 1000,
    on_progress: Callable[[int], object] | None = None,
) -> UpsertStats:
    """Insert new papers, update changed ones, leave the rest untouched.

    Keyed by the versionless arXiv id; an older version never overwrites a newer
    one. Each batch is one transaction, so a crash leaves whole batches only.
    Skipped records, and the fields that records dropped, are logged with their
    reason and counted. Records are valid by construction (records.py), so a
    batch write never fails on what a source sent.
    """
    stats = UpsertStats()
    batch: dict[str, PaperRecord] = {}

    def flush() -> None:
        if batch:
            _write_batch(list(batch.values()), stats)
            if on_progress:
                on_progress(len(batch))
            batch.clear()

    for record in records:
        if isinstance(record, Skipped):
            stats.skipped += 1
            logger.warning("skipped %s: %s", record.where, record.reason)
            if on_progress:
                on_progress(1)
            continue
        for name, reason in record.skipped_fields.items():
            stats.skipped_fields += 1
            logger.warning("skipped field %s of %s (%s): %s", name, record.arxiv_id, record.where or "record", reason)
        if record.arxiv_id in batch:
            # The same paper twice in one batch: write what we have, then the newer one.
            flush()
        batch[record.arxiv_id] = record
        if len(batch) >= batch_size:
            flush()
    flush()
    if stats.new or stats.updated:
        refresh_all_pages()  # an ingest touches too many papers to name their pages
    return stats


def ingest(
    *,
    source: "Iterable[PaperRecord | Skipped] | PagedSource",
    on_progress: Callable[[int], object] | None = None,
) -> UpsertStats:
    """The one write loop of every ingest: a stream of records goes through upsert_papers; a paged
    source (OAI-PMH) is written page by page, each page's papers and the position after it saved in
    one transaction, so an interrupted run resumes at the page it did not finish. A run that went to
    the end starts afresh when run again."""
    if not isinstance(source, PagedSource):
        return upsert_papers(records=source, on_progress=on_progress)
    state, _ = HarvestState.objects.get_or_create(key=source.key)
    if state.resumption_token and state.completed_at is None:
        logger.info("resuming the harvest %s after %d pages", source.key, state.pages_done)
        token = state.resumption_token
    else:
        token, state.pages_done, state.completed_at = "", 0, None
    total = UpsertStats()
    try:
        for page in source.pages(token=token):
            with transaction.atomic():
                stats = upsert_papers(records=page.records, on_progress=on_progress)
                state.resumption_token = page.token
                state.pages_done += 1
                state.completed_at = None if page.token else timezone.now()
                state.save()
            for name in ("new", "updated", "unchanged", "skipped", "skipped_fields"):
                setattr(total, name, getattr(total, name) + getattr(stats, name))
    except ExpiredPosition as exc:
        # A saved position that expired would otherwise block every later run.
        state.resumption_token = ""
        state.save()
        raise SourceError(f"{exc}. The saved harvest position was dropped: run again to start afresh.") from None
    return total


def _paper_fields(record: PaperRecord, organizations: dict[str, Organization]) -> dict:
    """The Paper column values this record knows."""
    fields = {name: getattr(record, name) for name in _PLAIN_FIELDS if getattr(record, name) is not None}
    if record.categories is not None:
        fields["categories"] = record.categories
        fields["primary_category"] = record.categories[0] if record.categories else ""
    if record.organization is not None:
        fields["organization_id"] = organizations[record.organization.slug].pk
    if "github_repo" not in fields and (repo := find_github_repo(record.abstract, record.comments)):
        fields["github_repo"] = repo
    if record.upvotes is not None:
        fields["imported_upvotes"] = record.upvotes
    if record.num_comments is not None:
        fields["imported_comments"] = record.num_comments
    return fields


def _apply(paper: Paper, fields: dict) -> bool:
    """Set the fields on paper; True when anything changed. Totals follow their imported part."""
    changed = False
    for name, value in fields.items():
        old = getattr(paper, name)
        if name in ("imported_upvotes", "imported_comments"):
            # Snapshots of one paper taken on different days disagree; counts only grow
            # on Hugging Face, so the largest is the newest, and re-imports stay idempotent.
            value = max(old, value)
        if old == value:
            continue
        if name == "imported_upvotes":
            paper.upvotes = max(paper.upvotes - old + value, 0)
        elif name == "imported_comments":
            paper.num_comments = max(paper.num_comments - old + value, 0)
        setattr(paper, name, value)
        changed = True
    return changed


def _organizations(records: list[PaperRecord]) -> dict[str, Organization]:
    wanted: dict[str, OrganizationRecord] = {r.organization.slug: r.organization for r in records if r.organization}
    if not wanted:
        return {}
    existing = Organization.objects.in_bulk(list(wanted), field_name="slug")
    Organization.objects.bulk_create(
        [
            Organization(slug=o.slug, name=o.name, avatar_url=o.avatar_url, hf_name=o.hf_name)
            for s, o in wanted.items() if s not in existing
        ],
        ignore_conflicts=True,
    )
    orgs = Organization.objects.in_bulk(list(wanted), field_name="slug")
    for slug, rec in wanted.items():
        org = orgs[slug]
        changed = {
            name: value
            for name, value in (("name", rec.name), ("avatar_url", rec.avatar_url), ("hf_name", rec.hf_name))
            if value and getattr(org, name) != value
        }
        if changed:
            for name, value in changed.items():
                setattr(org, name, value)
            org.save(update_fields=list(changed))
    return orgs


def _author_ids(names: set[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    name_list = list(names)
    # Chunked: SQLite caps the number of query parameters.
    for start in range(0, len(name_list), 900):
        chunk = name_list[start:start + 900]
        ids.update(Author.objects.filter(name__in=chunk).values_list("name", "pk"))
    missing = [n for n in name_list if n not in ids]
    if missing:
        # Plain executemany: building ORM objects for hundreds of thousands of rows
        # was a third of the ingest time. ON CONFLICT works on SQLite and PostgreSQL.
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {Author._meta.db_table} (name) VALUES (%s) ON CONFLICT DO NOTHING",
                [(n,) for n in missing],
            )
        for start in range(0, len(missing), 900):
            ids.update(Author.objects.filter(name__in=missing[start:start + 900]).values_list("name", "pk"))
    return ids


@transaction.atomic
def _write_batch(records: list[PaperRecord], stats: UpsertStats) -> None:
    now = timezone.now()
    organizations = _organizations(records)
    existing = Paper.objects.in_bulk([r.arxiv_id for r in records], field_name="arxiv_id")
    latest_listing = dict(
        DailyEntry.objects.filter(paper__in=existing.values()).values("paper_id").annotate(day=Max("day"))
        .values_list("paper_id", "day")
    ) if any(r.daily for r in records) else {}

    new_papers: list[Paper] = []
    changed_papers: list[Paper] = []
    changed_fields: set[str] = set()
    touched: set[str] = set()  # arxiv ids with any change (paper, authors or daily entry)
    for record in records:
        fields = _paper_fields(record, organizations)
        paper = existing.get(record.arxiv_id)
        if paper is None:
            paper = Paper(arxiv_id=record.arxiv_id, **fields)
            paper.upvotes = paper.imported_upvotes
            paper.num_comments = paper.imported_comments
            new_papers.append(paper)
            continue
        if record.version is not None and paper.version is not None and record.version < paper.version:
            # An older version of a paper we already hold: keep the newer text.
            fields = {
                k: v for k, v in fields.items() if k not in {"version", "title", "abstract", "updated_at", "comments"}
            }
        if record.daily and latest_listing.get(paper.pk, record.daily.day) > record.daily.day:
            # A snapshot from an earlier list than one we already hold: it may only fill
            # gaps, so importing old and new lists in any order ends in the same state.
            fields = {
                k: v for k, v in fields.items() if k.startswith("imported_") or getattr(paper, k) in (None, "", [])
            }
        before = {name: getattr(paper, name) for name in fields}
        if _apply(paper, fields):
            changed_papers.append(paper)
            changed_fields.update(name for name in fields if before[name] != getattr(paper, name))
            touched.add(record.arxiv_id)

    _insert_papers(new_papers, now=now)
    if changed_papers:
        for paper in changed_papers:
            paper.modified_at = now
        if "imported_upvotes" in changed_fields:
            changed_fields.add("upvotes")
        if "imported_comments" in changed_fields:
            changed_fields.add("num_comments")
        Paper.objects.bulk_update(changed_papers, sorted(changed_fields | {"modified_at"}), batch_size=500)
    papers = existing | {p.arxiv_id: p for p in new_papers}
    new_ids = {p.arxiv_id for p in new_papers}

    listing_changed = _write_authorships(records, papers, new_ids) | _write_daily_entries(records, papers)
    if stale := listing_changed - touched - new_ids:
        # Authors or a new listing changed what search indexes: mark the paper modified.
        Paper.objects.filter(arxiv_id__in=stale).update(modified_at=now)
    touched |= listing_changed

    stats.new += len(new_ids)
    stats.updated += len(touched - new_ids)
    stats.unchanged += len(records) - len(new_ids) - len(touched - new_ids)


def _insert_papers(papers: list[Paper], *, now) -> None:
    """INSERT new papers with executemany. Django's bulk_create prepared every value through its
    field (25 columns × every paper) and was a third of a large ingest; here only the datetime
    and JSON columns need their database adaptation. Sets each paper's primary key."""
    if not papers:
        return
    fields = [f for f in Paper._meta.concrete_fields if not f.primary_key]
    adapt: list[Callable[[Any], Any] | None] = []
    for field in fields:
        if isinstance(field, models.JSONField):
            adapt.append(functools.partial(field.get_db_prep_save, connection=connection))
        elif isinstance(field, models.DateTimeField):
            adapt.append(connection.ops.adapt_datetimefield_value)
        else:
            adapt.append(None)
    for paper in papers:
        paper.created_at = paper.modified_at = now
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields if f.column)  # concrete: all have one
    placeholders = ", ".join(["%s"] * len(fields))
    rows = [
        tuple(value if convert is None else convert(value)
              for value, convert in ((getattr(paper, f.attname), a) for f, a in zip(fields, adapt)))
        for paper in papers
    ]
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {Paper._meta.db_table} ({columns}) VALUES ({placeholders})", rows)
    ids: dict[str, int] = {}
    wanted = [p.arxiv_id for p in papers]
    for start in range(0, len(wanted), 900):
        ids.update(Paper.objects.filter(arxiv_id__in=wanted[start:start + 900]).values_list("arxiv_id", "pk"))
    for paper in papers:
        paper.pk = ids[paper.arxiv_id]
        paper._state.adding, paper._state.db = False, connection.alias


def _write_authorships(records: list[PaperRecord], papers: dict[str, Paper], new_ids: set[str]) -> set[str]:
    with_authors = [
        r for r in records
        if r.authors is not None and not (
            # An older arXiv version keeps the newer author list, as it keeps the newer text.
            r.arxiv_id not in new_ids and r.version is not None
            and (stored := papers[r.arxiv_id].version) is not None and r.version < stored
        )
    ]
    current: dict[int, list[str]] = {}
    old_ids = [papers[r.arxiv_id].pk for r in with_authors if r.arxiv_id not in new_ids]
    if old_ids:
        rows = (
            Authorship.objects.filter(paper_id__in=old_ids)
            .order_by("paper_id", "position")
            .values_list("paper_id", "author__name")
        )
        for paper_id, name in rows:
            current.setdefault(paper_id, []).append(name)
    replace = [r for r in with_authors if current.get(papers[r.arxiv_id].pk, []) != r.authors]
    if not replace:
        return set()
    author_ids = _author_ids({name for r in replace for name in r.authors or ()})
    Authorship.objects.filter(
        paper_id__in=[papers[r.arxiv_id].pk for r in replace if r.arxiv_id not in new_ids]
    ).delete()
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {Authorship._meta.db_table} (paper_id, author_id, position) VALUES (%s, %s, %s)",
            [
                (papers[r.arxiv_id].pk, author_ids[name], position)
                for r in replace
                for position, name in enumerate(r.authors or ())
            ],
        )
    return {r.arxiv_id for r in replace}


def _write_daily_entries(records: list[PaperRecord], papers: dict[str, Paper]) -> set[str]:
    with_daily = [r for r in records if r.daily is not None]
    if not with_daily:
        return set()
    paper_ids = [papers[r.arxiv_id].pk for r in with_daily]
    existing = {
        (e.paper_id, e.day): e
        for e in DailyEntry.objects.filter(paper_id__in=paper_ids, day__in={r.daily.day for r in with_daily if r.daily})
    }
    create, update, touched = [], [], set()
    for r in with_daily:
        if (daily := r.daily) is None:  # never: with_daily holds only records with one
            continue
        paper = papers[r.arxiv_id]
        entry = existing.get((paper.pk, daily.day))
        if entry is None:
            create.append(
                DailyEntry(
                    paper=paper, day=daily.day, submitted_at=daily.submitted_at,
                    submitter_name=daily.submitter_name, source=daily.source,
                )
            )
            touched.add(r.arxiv_id)
        elif entry.source == daily.source and (
            entry.submitted_at != daily.submitted_at or entry.submitter_name != daily.submitter_name
        ):
            entry.submitted_at, entry.submitter_name = daily.submitted_at, daily.submitter_name
            update.append(entry)
            touched.add(r.arxiv_id)
    DailyEntry.objects.bulk_create(create, batch_size=500)
    DailyEntry.objects.bulk_update(update, ["submitted_at", "submitter_name"], batch_size=500)
    return touched
