"""The keyword (BM25) index: tantivy, files under $DATA_DIR/search/keyword/.

Each full build goes into a new generation directory; the file CURRENT names the
one in use and is replaced atomically (os.replace), so a crash mid-build leaves
the previous index serving. Incremental updates commit into the current
generation. Web workers notice both (CURRENT or the generation's meta.json
changing) and reopen or reload without a restart.
"""

import os
import re
import shutil
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import tantivy
from django.conf import settings

# Measured on SciFact train (bench/search.py keyword-variants): a title boost of 2.5
# cost 0.09 nDCG@10 against 1.0; 1.5 keeps titles ahead for title-like queries at a
# small cost (exact titles are promoted separately, see search.selectors).
TITLE_BOOST = 1.5
MAX_QUERY_TERMS = 32  # long pasted texts: the first words carry the query, the rest only cost time
_EPOCH = date(1970, 1, 1)


def _root() -> Path:
    return Path(settings.DATA_DIR) / "search" / "keyword"


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("paper_id", stored=True, indexed=True, fast=True)
    builder.add_text_field("title", tokenizer_name="en_stem")
    builder.add_text_field("abstract", tokenizer_name="en_stem")
    builder.add_text_field("authors", tokenizer_name="default")
    builder.add_text_field("author", tokenizer_name="raw")  # lower-cased full names, for the filter
    builder.add_text_field("category", tokenizer_name="raw")
    builder.add_text_field("organization", tokenizer_name="raw")
    builder.add_integer_field("published", indexed=True, fast=True)  # days since 1970-01-01
    builder.add_integer_field("upvotes", fast=True)
    builder.add_integer_field("listed", indexed=True)  # 1 when on some daily list
    return builder.build()


SCHEMA = _schema()


@dataclass(frozen=True)
class IndexedPaper:
    paper_id: int
    title: str
    abstract: str
    authors: list[str]
    categories: list[str]
    organization: str
    published: date | None
    upvotes: int
    listed: bool


def day_number(day: date) -> int:
    return (day - _EPOCH).days


def _document(paper: IndexedPaper) -> tantivy.Document:
    doc = tantivy.Document()
    doc.add_integer("paper_id", paper.paper_id)
    doc.add_text("title", paper.title)
    doc.add_text("abstract", paper.abstract)
    doc.add_text("authors", ", ".join(paper.authors))
    for name in paper.authors:
        doc.add_text("author", name.lower())
    for category in paper.categories:
        doc.add_text("category", category)
    if paper.organization:
        doc.add_text("organization", paper.organization)
    doc.add_integer("published", day_number(paper.published) if paper.published else -1)
    doc.add_integer("upvotes", paper.upvotes)
    doc.add_integer("listed", int(paper.listed))
    return doc


def current_generation() -> Path | None:
    try:
        name = (_root() / "CURRENT").read_text().strip()
    except FileNotFoundError:
        return None
    path = _root() / name
    return path if path.exists() else None


def build(papers: Iterable[IndexedPaper], *, on_progress=None) -> Path:
    """Build a whole new generation from `papers`, then switch CURRENT to it."""
    root = _root()
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"gen-{time.time_ns()}"
    path.mkdir()
    index = tantivy.Index(SCHEMA, path=str(path))
    writer = index.writer(heap_size=256_000_000, num_threads=2)
    for paper in papers:
        writer.add_document(_document(paper))
        if on_progress:
            on_progress(1)
    writer.commit()
    writer.wait_merging_threads()
    tmp = root / "CURRENT.tmp"
    tmp.write_text(path.name)
    os.replace(tmp, root / "CURRENT")
    for old in root.glob("gen-*"):
        if old != path:
            # Readers that still have old files open keep them until they reopen (POSIX).
            shutil.rmtree(old, ignore_errors=True)
    return path


def update(papers: Iterable[IndexedPaper]) -> int:
    """Replace these papers' documents in the current generation (building one if none)."""
    path = current_generation()
    papers = list(papers)
    if path is None:
        build(papers)
        return len(papers)
    index = tantivy.Index(SCHEMA, path=str(path), reuse=True)
    writer = index.writer(heap_size=64_000_000, num_threads=1)
    for paper in papers:
        writer.delete_documents_by_term("paper_id", paper.paper_id)
        writer.add_document(_document(paper))
    writer.commit()
    writer.wait_merging_threads()
    return len(papers)


@dataclass(frozen=True)
class Filters:
    published_from: date | None = None
    published_to: date | None = None
    category: str = ""
    organization: str = ""
    author: str = ""
    listed_only: bool = False

    def __bool__(self) -> bool:
        return any((self.published_from, self.published_to, self.category, self.organization, self.author, self.listed_only))


class Reader:
    """A per-process reader that follows CURRENT and new commits."""

    def __init__(self):
        self._lock = threading.Lock()
        self._path: Path | None = None
        self._index: tantivy.Index | None = None
        self._meta_mtime = 0.0

    def index(self) -> tantivy.Index | None:
        path = current_generation()
        if path is None:
            return None
        meta = path / "meta.json"
        mtime = meta.stat().st_mtime if meta.exists() else 0.0
        with self._lock:
            if path != self._path:
                self._index = tantivy.Index.open(str(path))
                self._path, self._meta_mtime = path, mtime
            elif mtime != self._meta_mtime:
                self._index.reload()
                self._meta_mtime = mtime
            return self._index

    def search(
        self, text: str, *, filters: Filters, limit: int, within: list[int] | None = None
    ) -> list[tuple[int, float]]:
        """(paper_id, BM25 score) best first, optionally among the papers `within`.
        Lenient: query-syntax errors never raise."""
        index = self.index()
        if index is None:
            return []
        query, _errors = index.parse_query_lenient(
            plain_query(text), ["title", "abstract", "authors"], field_boosts={"title": TITLE_BOOST}
        )
        query = _filtered(query, filters)
        if within is not None:
            query = tantivy.Query.boolean_query([
                (tantivy.Occur.Must, query),
                (tantivy.Occur.Must, tantivy.Query.term_set_query(SCHEMA, "paper_id", within)),
            ])
        return _ids_and_scores(index.searcher(), query, limit)


    def matching(self, paper_ids: list[int], *, filters: Filters) -> set[int]:
        """Which of these papers pass the filters (the same filter semantics as search)."""
        index = self.index()
        if index is None or not paper_ids:
            return set()
        query = _filtered(tantivy.Query.term_set_query(SCHEMA, "paper_id", paper_ids), filters)
        return {paper_id for paper_id, _ in _ids_and_scores(index.searcher(), query, len(paper_ids))}


def _ids_and_scores(searcher: tantivy.Searcher, query: tantivy.Query, limit: int) -> list[tuple[int, float]]:
    """(paper_id, score) of the top hits, read from the fast field, not the document store."""
    hits = searcher.search(query, limit=limit, count=False).hits
    paper_ids = searcher.fast_field_values("paper_id", [address for _, address in hits])
    return [(paper_id, score) for paper_id, (score, _) in zip(paper_ids, hits)]


def plain_query(text: str) -> str:
    """The words of what people type, as tantivy query text: "quoted phrases" stay phrases;
    everything else that tantivy would read as syntax (IL-6, 4-PBA, field: prefixes, brackets,
    AND/OR/NOT) is plain text. Raw syntax cost 0.09 nDCG@10 on SciFact's claims."""
    parts, words = [], 0
    for phrase, loose in re.findall(r'"([^"]*)"|([^"]+)', text):
        if phrase:
            tokens = re.findall(r"\w+", phrase.lower())
            if tokens:
                parts.append('"' + " ".join(tokens) + '"')
                words += len(tokens)
        else:
            tokens = re.findall(r"\w+", loose.lower())[: max(MAX_QUERY_TERMS - words, 0)]
            parts.extend(tokens)
            words += len(tokens)
    return " ".join(parts)


def _filtered(query: tantivy.Query, filters: Filters) -> tantivy.Query:
    if not filters:
        return query
    clauses = [(tantivy.Occur.Must, query)]
    if filters.published_from or filters.published_to:
        clauses.append((tantivy.Occur.Must, tantivy.Query.range_query(
            SCHEMA, "published", tantivy.FieldType.Integer,
            day_number(filters.published_from) if filters.published_from else None,
            day_number(filters.published_to) if filters.published_to else None,
        )))
    if filters.category:
        clauses.append((tantivy.Occur.Must, tantivy.Query.term_query(SCHEMA, "category", filters.category)))
    if filters.organization:
        clauses.append((tantivy.Occur.Must, tantivy.Query.term_query(SCHEMA, "organization", filters.organization)))
    if filters.author:
        clauses.append((tantivy.Occur.Must, tantivy.Query.term_query(SCHEMA, "author", filters.author.strip().lower())))
    if filters.listed_only:
        clauses.append((tantivy.Occur.Must, tantivy.Query.term_query(SCHEMA, "listed", 1)))
    return tantivy.Query.boolean_query(clauses)


reader = Reader()


def utc_day(value: datetime | None) -> date | None:
    return value.astimezone(timezone.utc).date() if value else None
