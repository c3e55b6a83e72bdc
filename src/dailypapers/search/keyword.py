"""The keyword (BM25) index: tantivy, files under $DATA_DIR/search/keyword/.

Each full build goes into a new generation directory; the file CURRENT names the
one in use and is replaced atomically (os.replace), so a crash mid-build leaves
the previous index serving. Incremental updates commit into the current
generation. Web workers notice both (CURRENT or the generation's meta.json
changing) and reopen or reload without a restart.
"""

import json
import math
import os
import re
import shutil
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import cast

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
    builder.add_integer_field("listed", indexed=True)  # 1 when on some daily list
    return builder.build()


SCHEMA = _schema()
FIELD_NAMES = [
    "paper_id", "title", "abstract", "authors", "author", "category", "organization", "published", "listed",
]


@dataclass(frozen=True)
class IndexedPaper:
    paper_id: int
    title: str
    abstract: str
    authors: list[str]
    categories: list[str]
    organization: str
    published: date | None
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
        doc.add_text("author", _author_key(name))
    for category in paper.categories:
        doc.add_text("category", category)
    if paper.organization:
        doc.add_text("organization", paper.organization)
    doc.add_integer("published", day_number(paper.published) if paper.published else -1)
    doc.add_integer("listed", int(paper.listed))
    return doc


def _field_names(path: Path) -> list[str]:
    try:
        return [field["name"] for field in json.loads((path / "meta.json").read_text())["schema"]]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def current_generation() -> Path | None:
    try:
        name = (_root() / "CURRENT").read_text().strip()
    except FileNotFoundError:
        return None
    path = _root() / name
    return path if path.exists() else None


def is_writable(path: Path) -> bool:
    """Whether updates can go into this generation: one built with another schema (e.g. before the
    unread `upvotes` field was dropped) still serves searches, but tantivy refuses to write to it,
    so index_keywords builds a new generation from the database instead."""
    return _field_names(path) == FIELD_NAMES


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
        return any(
            (self.published_from, self.published_to, self.category, self.organization, self.author, self.listed_only)
        )


# The index's own analyzers, rebuilt for queries, so a query is cut exactly as the text was: tantivy's
# "en_stem" (title, abstract) and "default" (authors) are its simple tokenizer (splits on anything that is
# not alphanumeric, Unicode-aware: Cyrillic and Greek words are words, a run of Chinese characters is one
# token), tokens over 40 bytes dropped, lower-cased, and for en_stem the English stemmer. So a query in
# another script matches only the same word in the same script, and never by meaning (see search.query).
def _analyzer(*, stem: bool) -> tantivy.TextAnalyzer:
    builder = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple()).filter(tantivy.Filter.remove_long(40))
    builder = builder.filter(tantivy.Filter.lowercase())
    return (builder.filter(tantivy.Filter.stemmer("english")) if stem else builder).build()


_PLAIN = _analyzer(stem=False)
_STEMMED = _analyzer(stem=True)
TEXT_FIELDS = ("title", "authors", "abstract")


@dataclass(frozen=True)
class Term:
    word: str  # lower-cased, as the authors field holds it
    stem: str  # as the title and abstract fields hold it
    doc_freq: int  # papers holding it in the title, the abstract or the authors (the largest of the three)
    fuzzy_distance: int = 0  # > 0: matched nowhere; stands for the indexed words this many edits away

    def value(self, field: str) -> str:
        return self.word if field == "authors" else self.stem


@dataclass(frozen=True)
class Analysis:
    """A query as the index sees it: its terms (with document frequencies) and quoted phrases."""

    terms: list[Term]  # distinct meaningful words, in query order
    phrases: list[list[Term]]  # "quoted phrases"
    sequence: list[Term]  # every word in order, single letters too (for matching the query as a phrase)
    num_docs: int

    @property
    def matched(self) -> list[Term]:
        return [t for t in self.terms if t.doc_freq or t.fuzzy_distance]

    @property
    def fuzzy(self) -> list[Term]:
        return [t for t in self.terms if t.fuzzy_distance]

    def idf(self, term: Term) -> float:
        """BM25's idf; a fuzzy term counts as a word of one paper (a misspelt name is a rare name)."""
        doc_freq = term.doc_freq or 1
        return math.log(1 + (self.num_docs - doc_freq + 0.5) / (doc_freq + 0.5))

    def scored(self) -> tuple[list[Term], tuple[str, ...]]:
        """The terms and fields that BM25 ranks a query's papers on. A word in over COMMON_DOC_SHARE of the
        papers is left out (unless every word is): its idf is below ln 2, and it is what a top-k search cannot
        skip. A long query, a sentence, is not looked for among the authors."""
        terms = [t for t in self.matched if t.doc_freq <= COMMON_DOC_SHARE * self.num_docs] or self.matched
        return terms, (("title", "abstract") if len(self.matched) > LONG_QUERY_TERMS else TEXT_FIELDS)

    def reference_score(self) -> float:
        """What a paper matching every matched term once, in a title of ordinary length, scores: BM25
        divided by this keeps a lone hit's strength (min-max normalisation made it 0)."""
        return TITLE_BOOST * sum(self.idf(t) for t in self.matched) or 1.0

    def is_rare(self, term: Term) -> bool:
        return bool(term.fuzzy_distance) or 0 < term.doc_freq <= max(RARE_MIN_DOCS, RARE_DOC_SHARE * self.num_docs)


# A query word held by at most this share of the papers (or this many) is a name: a method, model,
# dataset or person (chosen on the bench/search.py relevance sets).
RARE_DOC_SHARE = 0.002
RARE_MIN_DOCS = 5
# Measured at 75k (bench/search.py keyword-latency) and on SciFact train: beyond 6 words, leaving out
# words in over half the papers and the authors field took keyword p50 from 11 to 2 ms for -0.001 nDCG@10.
# At 1M, leaving such words out of shorter queries too took their BM25 p50 from 12.2 to 5.5 ms (the six
# sets: README).
LONG_QUERY_TERMS = 6
COMMON_DOC_SHARE = 0.5
FUZZY_MAX_TERMS = 4


def fuzzy_distance(word: str) -> int:
    """Edits allowed when a word matches nothing: none below 5 letters (too many neighbours), 1 up to 8, 2 above."""
    return 0 if len(word) < 5 else 1 if len(word) <= 8 else 2


def _meaningful(word: str) -> bool:
    # Single ASCII letters and digits ("a", "x", the 6 of IL-6) match nearly everything and mean nothing alone.
    return len(word) > 1 or not word.isascii()


def stem(word: str) -> str:
    return (_STEMMED.analyze(word) or [word])[0]


def make_term(word: str, doc_freq: int) -> Term:
    return Term(word=word, stem=stem(word), doc_freq=doc_freq, fuzzy_distance=0 if doc_freq else fuzzy_distance(word))


def analyse(text: str, *, fuzzy: bool, lookup, num_docs: int) -> Analysis:
    """A query cut as the index cut its text, its words looked up by `lookup` (words -> {word: Term}, in
    one go, so a database backend asks once); the same for every backend. With `fuzzy`, an unknown word
    (in a short query) stands for the indexed words within 1-2 edits."""
    pieces = [(phrase, _PLAIN.analyze(phrase or loose)[:MAX_QUERY_TERMS]) for phrase, loose in
              re.findall(r'"([^"]*)"|([^"]+)', text)]
    every = _PLAIN.analyze(text)[:MAX_QUERY_TERMS]
    known = lookup(list(dict.fromkeys([w for _, words in pieces for w in words] + every)))
    terms: dict[str, Term] = {}
    phrases: list[list[Term]] = []
    for phrase, words in pieces:
        if phrase and len(words) > 1:
            phrases.append([known[w] for w in words])
        for word in filter(_meaningful, words):
            if len(terms) < MAX_QUERY_TERMS and word not in terms:
                terms[word] = known[word]
    sequence = [terms.get(w) or known[w] for w in every] if terms else []
    if not fuzzy or len(terms) > FUZZY_MAX_TERMS:
        # In a sentence an unknown word is one word of many; matching it fuzzily costs the most (an
        # automaton over the term dictionary per field) and finds the least.
        terms = {w: replace(t, fuzzy_distance=0) for w, t in terms.items()}
    return Analysis(terms=list(terms.values()), phrases=phrases, sequence=sequence, num_docs=num_docs)


class Snapshot:
    """One consistent view of the keyword index for one request."""

    def __init__(self, searcher: tantivy.Searcher):
        self.searcher = searcher

    def analyse(self, text: str, *, fuzzy: bool = True) -> Analysis:
        """The query's words looked up in the index; with `fuzzy`, an unknown word (in a short query)
        stands for the indexed words within 1-2 edits."""
        return analyse(text, fuzzy=fuzzy, lookup=lambda words: {w: self._term(w) for w in words},
                       num_docs=self.searcher.num_docs)

    def _term(self, word: str) -> Term:
        stemmed = stem(word)
        searcher = self.searcher
        return make_term(word, max(searcher.doc_freq("title", stemmed), searcher.doc_freq("abstract", stemmed),
                                   searcher.doc_freq("authors", word)))

    def _clauses(self, analysis: Analysis, terms: list[Term], fields=TEXT_FIELDS) -> list:
        """Should-clauses scoring these terms and the query's phrases in these fields: BM25, title boosted;
        a fuzzy term (tantivy scores those 1.0) scores the idf of a rare word."""
        clauses = []
        for field in fields:
            queries = []
            for term in terms:
                if term.fuzzy_distance:
                    queries.append(tantivy.Query.boost_query(tantivy.Query.fuzzy_term_query(
                        SCHEMA, field, term.value(field), distance=term.fuzzy_distance, transposition_cost_one=True,
                    ), analysis.idf(term)))
                elif term.doc_freq:
                    queries.append(tantivy.Query.term_query(SCHEMA, field, term.value(field), index_option="freq"))
            queries += [tantivy.Query.phrase_query(SCHEMA, field, [t.value(field) for t in phrase])
                        for phrase in analysis.phrases]
            if field == "title":
                queries = [tantivy.Query.boost_query(q, TITLE_BOOST) for q in queries]
            clauses += [(tantivy.Occur.Should, q) for q in queries]
        return clauses

    def _run(self, query: tantivy.Query, limit: int, **kwargs) -> list[tuple[int, float]]:
        return _ids_and_scores(self.searcher, query, limit, **kwargs)

    def lexical(self, analysis: Analysis, *, filters: Filters, limit: int,
                within: list[int] | None = None) -> dict[int, float]:
        """paper_id -> BM25 over title (boosted), authors and abstract, best `limit`."""
        terms, fields = analysis.scored()
        clauses = self._clauses(analysis, terms, fields)
        if not clauses:
            return {}
        query = _filtered(tantivy.Query.boolean_query(clauses), filters)
        if within is not None:
            query = tantivy.Query.boolean_query([
                (tantivy.Occur.Must, query),
                (tantivy.Occur.Must, tantivy.Query.term_set_query(SCHEMA, "paper_id", within)),
            ])
        return dict(self._run(query, limit))

    def containing(self, analysis: Analysis, terms: list[Term], *, filters: Filters, limit: int) -> set[int]:
        """Papers holding any of these terms (in any field)."""
        clauses = self._clauses(analysis, terms)
        if not clauses:
            return set()
        return {k for k, _ in self._run(_filtered(tantivy.Query.boolean_query(clauses), filters), limit)}

    def phrase(self, analysis: Analysis, *, field: str, filters: Filters, limit: int) -> set[int]:
        """Papers whose `field` holds all the query's words as one phrase, in order."""
        words: list[str | tuple[int, str]] = [t.value(field) for t in analysis.sequence]
        if len(words) < 2 or not all(t.doc_freq for t in analysis.sequence):
            return set()
        query = tantivy.Query.phrase_query(SCHEMA, field, words)
        return {k for k, _ in self._run(_filtered(query, filters), limit)}

    def author_papers(self, name: str, *, filters: Filters, limit: int) -> list[int]:
        """Papers with an author of exactly this name (any case), newest first."""
        query = _filtered(tantivy.Query.term_query(SCHEMA, "author", _author_key(name)), filters)
        return [k for k, _ in self._run(query, limit, order_by_field="published")]

    def has_author(self, name: str) -> bool:
        return bool(name) and self.searcher.doc_freq("author", _author_key(name)) > 0

    def filtered(self, *, filters: Filters, limit: int) -> list[int]:
        """Every paper passing the filters, newest first (a query that is only a filter)."""
        return [k for k, _ in self._run(_filtered(tantivy.Query.all_query(), filters), limit,
                                        order_by_field="published")]

    def matched_fields(self, analysis: Analysis, paper_ids: list[int]) -> dict[int, list[str]]:
        """For each of these papers, the fields (of TEXT_FIELDS, in that order) the query matches."""
        out: dict[int, list[str]] = {k: [] for k in paper_ids}
        if not paper_ids:
            return out
        among = (tantivy.Occur.Must, tantivy.Query.term_set_query(SCHEMA, "paper_id", paper_ids))
        for field in TEXT_FIELDS:
            clauses = self._clauses(analysis, analysis.matched, fields=(field,))
            if clauses:
                query = tantivy.Query.boolean_query([among, (tantivy.Occur.Must, tantivy.Query.boolean_query(clauses))])
                for paper_id, _ in self._run(query, len(paper_ids)):
                    out[paper_id].append(field)
        return out

    def matching(self, paper_ids: list[int], *, filters: Filters) -> set[int]:
        """Which of these papers pass the filters (the same filter semantics as search)."""
        if not paper_ids:
            return set()
        query = _filtered(tantivy.Query.term_set_query(SCHEMA, "paper_id", paper_ids), filters)
        return {paper_id for paper_id, _ in self._run(query, len(paper_ids))}


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
            elif mtime != self._meta_mtime and self._index is not None:
                self._index.reload()
                self._meta_mtime = mtime
            return self._index

    def snapshot(self) -> Snapshot | None:
        index = self.index()
        return Snapshot(index.searcher()) if index is not None else None

    def search(
        self, text: str, *, filters: Filters, limit: int, within: list[int] | None = None
    ) -> list[tuple[int, float]]:
        """(paper_id, BM25 score) best first, optionally among the papers `within`: the words as written
        (no fuzzy matching). Any text is plain words ("quoted phrases" stay phrases), never query syntax."""
        snapshot = self.snapshot()
        if snapshot is None:
            return []
        hits = snapshot.lexical(snapshot.analyse(text, fuzzy=False), filters=filters, limit=limit, within=within)
        return sorted(hits.items(), key=lambda item: (-item[1], item[0]))

    def matching(self, paper_ids: list[int], *, filters: Filters) -> set[int]:
        snapshot = self.snapshot()
        return snapshot.matching(paper_ids, filters=filters) if snapshot is not None else set()


def _ids_and_scores(searcher: tantivy.Searcher, query: tantivy.Query, limit: int,
                    **kwargs) -> list[tuple[int, float]]:
    """(paper_id, score) of the top hits, read from the fast field, not the document store."""
    hits = searcher.search(query, limit=limit, count=False, **kwargs).hits
    # paper_id is an integer fast field every document has: never a float or None.
    paper_ids = cast(list[int], searcher.fast_field_values("paper_id", [address for _, address in hits]))
    return [(paper_id, score) for paper_id, (score, _) in zip(paper_ids, hits)]


def _author_key(name: str) -> str:
    """How the author field holds a name: lower-cased, single spaces."""
    return " ".join(name.split()).lower()


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
        clauses.append((tantivy.Occur.Must, tantivy.Query.term_query(SCHEMA, "author", _author_key(filters.author))))
    if filters.listed_only:
        clauses.append((tantivy.Occur.Must, tantivy.Query.term_query(SCHEMA, "listed", 1)))
    return tantivy.Query.boolean_query(clauses)


reader = Reader()


def utc_day(value: datetime | None) -> date | None:
    return value.astimezone(timezone.utc).date() if value else None
