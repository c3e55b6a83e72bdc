"""Writes of collections. Only a collection's owner changes it; a banned user reads but doesn't write.
Every refusal is a community Refused with a sentence for the user."""

import re

import bibtexparser
from bibtexparser.model import DuplicateBlockKeyBlock, Entry
from django.db import IntegrityError, transaction
from django.db.models import Max
from pylatexenc.latex2text import LatexNodes2Text

from dailypapers.community.services import Refused, ensure_can_post
from dailypapers.papers.models import Paper
from dailypapers.papers.records import parse_arxiv_id

from .models import READING_LIST_TITLE, Collection, CollectionItem
from .selectors import paper_titled

MAX_COLLECTIONS_PER_USER = 200
MAX_ITEMS_PER_COLLECTION = 5_000
MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_ENTRIES = 2_000
# Entries with neither a held arXiv id nor a DOI are looked up by title through search, at most this
# many per file (each is a search); the rest are listed as unmatched.
MAX_TITLE_LOOKUPS = 200


def _ensure_owner(*, user, collection: Collection) -> None:
    ensure_can_post(user)
    if collection.owner_id != user.pk:
        raise Refused("Only its owner changes a collection.")


def reading_list(*, user) -> Collection:
    """The user's default collection, made on first use (a race makes it once: the constraint)."""
    existing = Collection.objects.filter(owner=user, is_default=True).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Collection.objects.create(owner=user, title=READING_LIST_TITLE, is_default=True)
    except IntegrityError:
        return Collection.objects.get(owner=user, is_default=True)


def create_collection(*, user, title: str, description: str = "", is_public: bool = False) -> Collection:
    ensure_can_post(user)
    if Collection.objects.filter(owner=user).count() >= MAX_COLLECTIONS_PER_USER:
        raise Refused(f"You have {MAX_COLLECTIONS_PER_USER} collections, the most one user may have.")
    return Collection.objects.create(owner=user, title=title, description=description, is_public=is_public)


def update_collection(*, user, collection: Collection, title: str, description: str, is_public: bool) -> Collection:
    _ensure_owner(user=user, collection=collection)
    collection.title, collection.description, collection.is_public = title, description, is_public
    collection.save(update_fields=["title", "description", "is_public", "updated_at"])
    return collection


def delete_collection(*, user, collection: Collection) -> None:
    _ensure_owner(user=user, collection=collection)
    if collection.is_default:
        raise Refused("The Reading list stays; remove its papers instead.")
    collection.delete()


def _touch(collection: Collection) -> None:
    collection.save(update_fields=["updated_at"])


def add_papers(*, user, collection: Collection, papers: list[Paper]) -> int:
    """Append papers not in the collection yet, in the order given; returns how many were added."""
    _ensure_owner(user=user, collection=collection)
    with transaction.atomic():
        locked = Collection.objects.select_for_update().get(pk=collection.pk)  # one writer orders positions
        present = set(locked.items.filter(paper__in=papers).values_list("paper_id", flat=True))
        fresh = list({p.pk: p for p in papers if p.pk not in present}.values())
        if locked.items.count() + len(fresh) > MAX_ITEMS_PER_COLLECTION:
            raise Refused(f"A collection holds at most {MAX_ITEMS_PER_COLLECTION:,} papers.")
        start = (locked.items.aggregate(last=Max("position"))["last"] or 0) + 1
        CollectionItem.objects.bulk_create(
            [CollectionItem(collection=locked, paper=p, position=start + i) for i, p in enumerate(fresh)]
        )
        _touch(locked)
    return len(fresh)


def remove_paper(*, user, collection: Collection, paper: Paper) -> bool:
    _ensure_owner(user=user, collection=collection)
    removed, _ = CollectionItem.objects.filter(collection=collection, paper=paper).delete()
    if removed:
        _touch(collection)
    return bool(removed)


def toggle_saved(*, user, paper: Paper) -> bool:
    """Save to the Reading list, or take it off; returns whether it is saved now."""
    ensure_can_post(user)
    collection = reading_list(user=user)
    if remove_paper(user=user, collection=collection, paper=paper):
        return False
    add_papers(user=user, collection=collection, papers=[paper])
    return True


def move_paper(*, user, collection: Collection, paper: Paper, offset: int) -> None:
    """Move a paper up (offset < 0) or down, the papers it passes shifting by one."""
    _ensure_owner(user=user, collection=collection)
    with transaction.atomic():
        Collection.objects.select_for_update().filter(pk=collection.pk).get()  # one reorder at a time
        items = list(collection.items.order_by("position"))
        old = next((i for i, item in enumerate(items) if item.paper_id == paper.pk), None)
        if old is None:
            raise Refused("That paper is not in this collection.")
        new = min(max(old + offset, 0), len(items) - 1)
        if new == old:
            return
        positions = [item.position for item in items]
        items.insert(new, items.pop(old))
        span = slice(min(old, new), max(old, new) + 1)  # only the papers between move
        for item, position in zip(items[span], positions[span], strict=True):
            item.position = position
        CollectionItem.objects.bulk_update(items[span], ["position"])
        _touch(collection)


def set_note(*, user, collection: Collection, paper: Paper, note: str) -> None:
    _ensure_owner(user=user, collection=collection)
    if not CollectionItem.objects.filter(collection=collection, paper=paper).update(note=note):
        raise Refused("That paper is not in this collection.")
    _touch(collection)


# --- .bib import ---------------------------------------------------------------------------------

_ARXIV_IN_URL = re.compile(r"arxiv\.org/(?:abs|pdf)/([^\s?#]+?)(?:\.pdf)?(?:[?#]|$)", re.I)
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)", re.I)


def _arxiv_id(fields: dict) -> str | None:
    candidates = [fields.get("eprint", "")]
    if (journal := fields.get("journal", "")).lower().startswith("arxiv"):
        candidates.append(journal.split(":", 1)[-1].split()[0] if ":" in journal else "")
    if match := _ARXIV_IN_URL.search(fields.get("url", "")):
        candidates.append(match[1])
    for candidate in candidates:
        candidate = re.sub(r"^arxiv:", "", candidate.strip(), flags=re.I)
        try:
            return parse_arxiv_id(candidate)[0]
        except ValueError:
            continue
    return None


def match_entries(*, text: str) -> tuple[list[Paper], list[str]]:
    """The papers a .bib file's entries are, matched by eprint (or an arXiv URL), DOI, then exact
    title; and a line for each entry that matched none. Raises Refused for a file that isn't BibTeX."""
    library = bibtexparser.parse_string(text)
    # A key used twice is still an entry to match (files merged from several sources repeat keys).
    # Only duplicated entries: a duplicated @string is a String block, with no fields to match.
    entries = library.entries + [b.ignore_error_block for b in library.failed_blocks
                                 if isinstance(b, DuplicateBlockKeyBlock) and isinstance(b.ignore_error_block, Entry)]
    failed = [b for b in library.failed_blocks if not isinstance(b, DuplicateBlockKeyBlock)]
    if not entries:
        raise Refused("No BibTeX entries found in that file." + (
            f" {len(failed)} block(s) could not be read." if failed else ""
        ))
    if len(entries) > MAX_IMPORT_ENTRIES:
        raise Refused(f"That file has {len(entries):,} entries; import at most {MAX_IMPORT_ENTRIES:,} at a time.")
    latex = LatexNodes2Text()
    wanted = []
    for entry in sorted(entries, key=lambda e: e.start_line or 0):
        fields = {f.key.lower(): " ".join(latex.latex_to_text(str(f.value)).split()) for f in entry.fields}
        doi = _DOI_PREFIX.sub("", fields.get("doi", "")).lower()
        wanted.append((entry.key, fields.get("title", ""), _arxiv_id(fields), doi))
    by_id = Paper.objects.in_bulk([w[2] for w in wanted if w[2]], field_name="arxiv_id")
    dois = {w[3] for w in wanted if w[3]}
    by_doi = {p.doi.lower(): p for p in Paper.objects.filter(doi__iregex=_any_of(dois))} if dois else {}
    matched, unmatched, title_lookups = [], [], 0
    for key, title, arxiv_id, doi in wanted:
        paper = by_id.get(arxiv_id) or by_doi.get(doi)
        if paper is None and title and title_lookups < MAX_TITLE_LOOKUPS:
            title_lookups += 1
            paper = paper_titled(title=title)
        if paper is not None:
            matched.append(paper)
        else:
            held = f" (arXiv {arxiv_id}, not held here)" if arxiv_id else ""
            unmatched.append(f"{key}: {title or '(no title)'}{held}")
    unmatched += [f"(a block at line {(b.start_line or 0) + 1} is not BibTeX)" for b in failed]
    return matched, unmatched


def _any_of(values: set[str]) -> str:
    return "^(" + "|".join(re.escape(v) for v in sorted(values)) + ")$"


def import_bib(*, user, collection: Collection, data: bytes) -> tuple[int, int, list[str]]:
    """Add a .bib file's papers to the collection: (matched, added, lines for the unmatched)."""
    _ensure_owner(user=user, collection=collection)
    if len(data) > MAX_IMPORT_BYTES:
        raise Refused(f"That file is over {MAX_IMPORT_BYTES // (1024 * 1024)} MB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")  # older .bib files; any bytes decode
    if not text.strip() or "\x00" in text:
        raise Refused("That file is empty or not text: upload a .bib file.")
    matched, unmatched = match_entries(text=text)
    added = add_papers(user=user, collection=collection, papers=matched)
    return len(matched), added, unmatched
