"""The PostgreSQL backend: full-text search and pgvector in the site's own database.

Nothing lives on a web node: every node reads the same tables, and the indexer
(any machine) writes them in transactions, so a paper indexed is searchable on
every node at its commit.

Tables (raw SQL, created by migration search 0003 on PostgreSQL, or by
`dailypapers index` once pgvector has been installed later):

    search_pg_document  one row per paper: a weighted tsvector (title A, authors B,
                        abstract C; GIN), the filter columns, the distinct terms of
                        each field (to keep document frequencies exact on updates)
    search_pg_word      every indexed term with its document frequency per field
                        (the rare-term tier, BM25's idf) and a pg_trgm index (fuzzy)
    search_pg_vector    one halfvec per paper (pgvector; HNSW, cosine), per dimension
    search_pg_state     document count, the vector model and sync mark

The tsvectors are written from the same tokenizer as the local index (the
tantivy analyzers of search.keyword, run here in Python: simple tokens, lower
case, English Snowball stems for title and abstract, none for authors), not
from PostgreSQL's 'english' configuration: its parser and stop-word list cut
text differently (hyphenated words, "all", "you"), so document frequencies,
the rare-term tier, phrases and titles would disagree with the local backend;
with the same tokens, selectors.rank sees the same query either way.

Scores: per matched term and field, idf (of that field) x field weight (title
1.5, as the local index) x BM25's term-frequency part without length
normalisation (tf x 2.2 / (tf + 1.2): 1 for one occurrence, up to 2.2),
summed from search_pg_posting (one row per term, field and paper, read by an
index-only scan); a quoted phrase adds the idf of its words where the tsvector
holds it. A term matched fuzzily scores the idf of a rare word, as in the local
index. The tsvector (GIN) answers phrases, titles, and which fields matched.
"""

import logging
import math
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable

import numpy as np
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction

from .. import keyword
from ..keyword import (
    TEXT_FIELDS,
    TITLE_BOOST,
    Analysis,
    Filters,
    IndexedPaper,
    Term,
    day_number,
)
from ..query import edit_distance
from ..vectors import ModelMismatch

logger = logging.getLogger(__name__)

PREFIX = "search_pg_"
_LABEL = {"title": "A", "authors": "B", "abstract": "C"}
_RANK_WEIGHTS = {"title": "{0,0,0,1}", "authors": "{0,0,1,0}", "abstract": "{0,1,0,0}"}  # {D,C,B,A}
_BOOST = {"title": TITLE_BOOST, "authors": 1.0, "abstract": 1.0}
_ONE_OCCURRENCE = 1.6449340668  # ts_rank of a single occurrence is 1/this (sum of 1/n^2)
_BATCH = 2000
_FIELD = {"title": 0, "abstract": 1, "authors": 2}
K1 = 1.2  # BM25's, as tantivy's
_LOCK = 0x5EA4C4  # pg_advisory_xact_lock key: one index writer at a time
FUZZY_EXPANSIONS = 50  # indexed words one misspelt word may stand for
TRIGRAM_THRESHOLD = 0.2
STATE_SECONDS = 1.0  # pg_trgm similarity that shortlists words for the exact edit distance


def schema_sql(prefix: str = PREFIX, *, trigram: bool) -> list[str]:
    p = prefix
    statements = [
        f"""CREATE TABLE IF NOT EXISTS {p}document (
            paper_id bigint PRIMARY KEY, document tsvector NOT NULL,
            title_terms text[] NOT NULL, abstract_terms text[] NOT NULL, author_terms text[] NOT NULL,
            author_keys text[] NOT NULL, categories text[] NOT NULL, organization text NOT NULL,
            published integer NOT NULL, listed boolean NOT NULL)""",
        f"CREATE INDEX IF NOT EXISTS {p}document_fts ON {p}document USING gin (document)",
        f"CREATE INDEX IF NOT EXISTS {p}document_authors ON {p}document USING gin (author_keys)",
        f"CREATE INDEX IF NOT EXISTS {p}document_published ON {p}document (published DESC, paper_id)",
        f"""CREATE TABLE IF NOT EXISTS {p}word (kind char(1) NOT NULL, term text NOT NULL,
            df_title integer NOT NULL, df_abstract integer NOT NULL, df_authors integer NOT NULL,
            PRIMARY KEY (kind, term))""",
        f"CREATE TABLE IF NOT EXISTS {p}state (name text PRIMARY KEY, value text NOT NULL)",
        # Postings: what the keyword score is summed from. Scoring with ts_rank read every matching
        # tsvector out of TOAST once per term and field (75k papers: hundreds of ms for a common word);
        # an index-only scan of a term's postings is a few ms.
        f"""CREATE TABLE IF NOT EXISTS {p}posting (term text NOT NULL, field smallint NOT NULL,
            paper_id bigint NOT NULL, tf real NOT NULL)""",
        f"CREATE INDEX IF NOT EXISTS {p}posting_term ON {p}posting (term, field) INCLUDE (paper_id, tf)",
        f"CREATE INDEX IF NOT EXISTS {p}posting_paper ON {p}posting (paper_id)",
    ]
    if trigram:
        statements.append(f"CREATE INDEX IF NOT EXISTS {p}word_trgm ON {p}word USING gin (term gin_trgm_ops)")
    return statements


def vector_sql(prefix: str = PREFIX, *, half: bool) -> list[str]:
    kind = "halfvec" if half else "vector"
    return [f"""CREATE TABLE IF NOT EXISTS {prefix}vector (paper_id bigint PRIMARY KEY, model_id text NOT NULL,
                dim integer NOT NULL, embedding {kind} NOT NULL)"""]


def extensions(cursor) -> tuple[dict[str, str], set[str]]:
    """(installed extension -> version, available extension names)."""
    cursor.execute("SELECT extname, extversion FROM pg_extension")
    installed = dict(cursor.fetchall())
    cursor.execute("SELECT name FROM pg_available_extensions")
    return installed, {name for (name,) in cursor.fetchall()}


def install(conn, *, prefix: str = PREFIX) -> dict[str, str]:
    """Create what this backend needs, as far as the server allows: pg_trgm and pgvector when the server
    has them (and this role may create them), the full-text tables always, the vector table with pgvector.
    Idempotent; never fails for a missing extension (the backend's check says what is missing)."""
    with conn.cursor() as cursor:
        installed, available = extensions(cursor)
        for name in ("pg_trgm", "vector"):
            if name not in installed and name in available:
                try:
                    with transaction.atomic(using=conn.alias):
                        cursor.execute(f"CREATE EXTENSION IF NOT EXISTS {name}")
                except Exception as exc:  # noqa: BLE001 - e.g. not a superuser: reported by check()
                    logger.warning("could not create extension %s: %s", name, exc)
        installed, _ = extensions(cursor)
        for statement in schema_sql(prefix, trigram="pg_trgm" in installed):
            cursor.execute(statement)
        if "vector" in installed:
            for statement in vector_sql(prefix, half=_has_halfvec(installed["vector"])):
                cursor.execute(statement)
    return installed


def _has_halfvec(version: str) -> bool:
    major, minor = (int(x) for x in version.split(".")[:2])
    return (major, minor) >= (0, 7)


def _quote(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _tsvector(fields: list[tuple[list[str], str]]) -> str:
    """A tsvector literal of tokens in order, each field's positions labelled (title A, authors B, abstract C)."""
    positions: dict[str, list[str]] = defaultdict(list)
    at = 0
    for tokens, label in fields:
        for token in tokens:
            at += 1
            if at <= 16383 and len(positions[token]) < 256:  # tsvector's limits
                positions[token].append(f"{at}{label}")
    return " ".join(f"{_quote(t)}:{','.join(p)}" for t, p in positions.items() if p)


def _tokens(paper: IndexedPaper) -> tuple[list[str], list[str], list[str]]:
    return (keyword._STEMMED.analyze(paper.title), keyword._PLAIN.analyze(", ".join(paper.authors)),
            keyword._STEMMED.analyze(paper.abstract))


def _postings(paper_id: int, title: list[str], authors: list[str], abstract: list[str]) -> list[tuple]:
    out = []
    for field, tokens in (("title", title), ("abstract", abstract), ("authors", authors)):
        for term, tf in Counter(tokens).items():
            out.append((term, _FIELD[field], paper_id, tf * (K1 + 1) / (tf + K1)))
    return out


def _vector_text(row: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in row.tolist()) + "]"


_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")  # no flags, no extension
_COPY_TRAILER = (-1).to_bytes(2, "big", signed=True)


def _binary_vector_rows(keys: np.ndarray, matrix: np.ndarray, *, model_id: str, half: bool) -> bytes:
    """(paper_id, model_id, dim, embedding) rows in COPY's binary format: a field count, then each field's
    length and its bytes, big-endian; pgvector's binary vector is its dimension (int16), an unused int16
    and the elements (float4, or float2 for halfvec)."""
    name, (count, dim) = model_id.encode(), matrix.shape
    element = ">f2" if half else ">f4"
    row = np.dtype([("fields", ">i2"), ("key_size", ">i4"), ("key", ">i8"), ("model_size", ">i4"),
                    ("model", f"S{len(name)}"), ("dim_size", ">i4"), ("dim", ">i4"), ("vector_size", ">i4"),
                    ("vector_dim", ">u2"), ("unused", ">u2"), ("vector", element, (dim,))])
    rows = np.zeros(count, dtype=row)
    rows["fields"], rows["key_size"], rows["key"] = 4, 8, np.asarray(keys, dtype=np.int64)
    rows["model_size"], rows["model"] = len(name), name
    rows["dim_size"], rows["dim"] = 4, dim
    rows["vector_size"], rows["vector_dim"] = 4 + np.dtype(element).itemsize * dim, dim
    rows["vector"] = matrix
    return rows.tobytes()


def _filters_sql(filters: Filters) -> tuple[str, list]:
    clauses: list[str] = []
    params: list = []
    if filters.published_from:
        clauses.append("published >= %s")
        params.append(day_number(filters.published_from))
    if filters.published_to:
        clauses.append("published <= %s")
        params.append(day_number(filters.published_to))
    if filters.category:
        clauses.append("categories @> ARRAY[%s]::text[]")
        params.append(filters.category)
    if filters.organization:
        clauses.append("organization = %s")
        params.append(filters.organization)
    if filters.author:
        clauses.append("author_keys @> ARRAY[%s]::text[]")
        params.append(keyword._author_key(filters.author))
    if filters.listed_only:
        clauses.append("listed")
    return "".join(f" AND {c}" for c in clauses), params


class PgSnapshot:
    """One request's view: the same questions as search.keyword.Snapshot, answered in SQL."""

    def __init__(self, backend: "PostgresBackend", num_docs: int):
        self.backend, self.p, self.num_docs = backend, backend.prefix, num_docs
        self.field_df: dict[str, dict[str, int]] = {}  # query word -> field -> document frequency
        self.expansions: dict[str, dict[str, list[str]]] = {}  # misspelt word -> field -> indexed terms

    def _rows(self, sql: str, params: list) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    # --- what the query is
    def analyse(self, text: str, *, fuzzy: bool = True) -> Analysis:
        return keyword.analyse(text, fuzzy=fuzzy, lookup=self._lookup, num_docs=self.num_docs)

    def _lookup(self, words: list[str]) -> dict[str, Term]:
        if not words:
            return {}
        stems = {w: keyword.stem(w) for w in words}
        found: dict[tuple[str, str], tuple[int, int, int]] = {}
        for kind, term, title, abstract, authors in self._rows(
            f"SELECT kind, term, df_title, df_abstract, df_authors FROM {self.p}word "
            "WHERE (kind = 's' AND term = ANY(%s)) OR (kind = 'w' AND term = ANY(%s))",
            [list(set(stems.values())), words],
        ):
            found[(kind, term)] = (title, abstract, authors)
        out = {}
        for word in words:
            title, abstract, _ = found.get(("s", stems[word]), (0, 0, 0))
            authors = found.get(("w", word), (0, 0, 0))[2]
            self.field_df[word] = {"title": title, "abstract": abstract, "authors": authors}
            out[word] = keyword.make_term(word, max(title, abstract, authors))
        return out

    def _idf(self, analysis: Analysis, term: Term, field: str) -> float:
        # As tantivy's BM25: the idf of the term in that field.
        doc_freq = self.field_df.get(term.word, {}).get(field) or term.doc_freq or 1
        return math.log(1 + (analysis.num_docs - doc_freq + 0.5) / (doc_freq + 0.5))

    def _expand(self, term: Term) -> dict[str, list[str]]:
        """The indexed terms of each field within the term's edit distance (as tantivy's fuzzy term query:
        stems in title and abstract, words in authors; a swap of two letters is one edit)."""
        if term.word in self.expansions:
            return self.expansions[term.word]
        distance = term.fuzzy_distance
        out: dict[str, list[str]] = {"title": [], "abstract": [], "authors": []}
        wanted = {"s": term.stem, "w": term.word}
        if self.backend.trigram:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL pg_trgm.similarity_threshold = {TRIGRAM_THRESHOLD}")
                cursor.execute(
                    f"SELECT kind, term, df_title, df_abstract, df_authors FROM {self.p}word "
                    "WHERE (kind = 's' AND term %% %s) OR (kind = 'w' AND term %% %s)",
                    [term.stem, term.word])
                rows = cursor.fetchall()
        else:  # no pg_trgm: words of about the same length and the same first letter (misses first-letter typos)
            rows = self._rows(
                f"SELECT kind, term, df_title, df_abstract, df_authors FROM {self.p}word WHERE "
                "length(term) BETWEEN %s AND %s AND left(term, 1) IN (left(%s, 1), left(%s, 1))",
                [len(term.stem) - distance, len(term.word) + distance, term.stem, term.word])
        scored = []
        for kind, candidate, title, abstract, authors in rows:
            if candidate != wanted[kind] and edit_distance(wanted[kind], candidate, limit=distance) <= distance:
                scored.append((-(title + abstract + authors), candidate, kind, title, abstract, authors))
        for _, candidate, kind, title, abstract, authors in sorted(scored)[:FUZZY_EXPANSIONS]:
            if kind == "s":
                if title:
                    out["title"].append(candidate)
                if abstract:
                    out["abstract"].append(candidate)
            elif authors:
                out["authors"].append(candidate)
        self.expansions[term.word] = out
        return out

    # --- tsquery pieces
    def _term_query(self, term: Term, field: str) -> str:
        label = _LABEL[field]
        if term.fuzzy_distance:
            words = self._expand(term)[field]
            return " | ".join(f"{_quote(w)}:{label}" for w in words)
        return f"{_quote(term.value(field))}:{label}"

    def _phrase_query(self, phrase: list[Term], field: str) -> str:
        return " <-> ".join(f"{_quote(t.value(field))}:{_LABEL[field]}" for t in phrase)

    def _score(self, analysis: Analysis, terms: list[Term], fields=TEXT_FIELDS) -> tuple[list[str], list, list[str]]:
        """(score expressions, their params, tsqueries any of which a hit matches)."""
        parts, params, queries = [], [], []
        for field in fields:
            for term in terms:
                if term.fuzzy_distance:
                    query = self._term_query(term, field)
                    if query:
                        parts.append("%s * (document @@ %s::tsquery)::int")
                        params += [_BOOST[field] * analysis.idf(term), query]
                        queries.append(query)
                elif term.doc_freq and self.field_df.get(term.word, {}).get(field, 1):
                    query = self._term_query(term, field)
                    parts.append(f"%s * ts_rank('{_RANK_WEIGHTS[field]}', document, %s::tsquery)")
                    params += [_BOOST[field] * self._idf(analysis, term, field) * _ONE_OCCURRENCE, query]
                    queries.append(query)
            for phrase in analysis.phrases:
                if all(t.doc_freq for t in phrase):
                    query = self._phrase_query(phrase, field)
                    parts.append("%s * (document @@ %s::tsquery)::int")
                    params += [_BOOST[field] * sum(self._idf(analysis, t, field) for t in phrase), query]
                    queries.append(query)
        return parts, params, queries

    def _search(self, analysis: Analysis, terms: list[Term], *, filters: Filters, limit: int, fields=TEXT_FIELDS,
                within: list[int] | None = None) -> list[tuple[int, float]]:
        """Summed from the postings: each (term, field) with its weight (idf x field weight), best `limit`."""
        weights: dict[tuple[str, int], float] = {}
        fuzzy: dict[tuple[str, int], float] = {}
        for field in fields:
            for term in terms:
                if term.fuzzy_distance:  # scores the idf of a rare word wherever an expansion occurs
                    for word in self._expand(term)[field]:
                        key = (word, _FIELD[field])
                        fuzzy[key] = max(fuzzy.get(key, 0.0), _BOOST[field] * analysis.idf(term))
                elif term.doc_freq and self.field_df.get(term.word, {}).get(field, 1):
                    key = (term.value(field), _FIELD[field])
                    weights[key] = weights.get(key, 0.0) + _BOOST[field] * self._idf(analysis, term, field)
        phrases = [(phrase, field) for phrase in analysis.phrases if all(t.doc_freq for t in phrase)
                   for field in fields]
        if not weights and not fuzzy and not phrases:
            return []
        where, params = _filters_sql(filters)
        restrict, restrict_params = "", []
        if where:
            restrict = f" AND p.paper_id IN (SELECT paper_id FROM {self.p}document WHERE true{where})"
            restrict_params = params
        if within is not None:
            restrict += " AND p.paper_id = ANY(%s)"
            restrict_params = restrict_params + [list(within)]
        scores: dict[int, float] = defaultdict(float)
        if weights or fuzzy:
            keys = list(weights) + list(fuzzy)
            values = ", ".join(["(%s, %s::smallint, %s::real, %s::boolean)"] * len(keys))
            rows = self._rows(
                f"SELECT p.paper_id, sum(q.w * CASE WHEN q.flat THEN 1 ELSE p.tf END) AS score "
                f"FROM (VALUES {values}) AS q(term, field, w, flat) "
                f"JOIN {self.p}posting p ON p.term = q.term AND p.field = q.field "
                f"WHERE true{restrict} GROUP BY p.paper_id ORDER BY score DESC, p.paper_id LIMIT %s",
                [x for key in keys for x in (*key, weights.get(key) or fuzzy[key], key in fuzzy and key not in weights)]
                + restrict_params + [limit if not phrases else 4 * limit])
            for k, v in rows:
                scores[int(k)] += float(v)
        for phrase, field in phrases:  # quoted phrases: few papers; the tsvector knows positions
            rows = self._rows(
                f"SELECT paper_id FROM {self.p}document WHERE document @@ %s::tsquery{where}"
                + (" AND paper_id = ANY(%s)" if within is not None else "") + " LIMIT %s",
                [self._phrase_query(phrase, field), *params] + ([list(within)] if within is not None else []) + [limit])
            bonus = _BOOST[field] * sum(self._idf(analysis, t, field) for t in phrase)
            for (k,) in rows:
                scores[int(k)] += bonus
        return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:limit]

    # --- the questions of selectors.rank
    def lexical(self, analysis: Analysis, *, filters: Filters, limit: int,
                within: list[int] | None = None) -> dict[int, float]:
        terms, fields = analysis.scored()
        return dict(self._search(analysis, terms, filters=filters, limit=limit, fields=fields, within=within))

    def containing(self, analysis: Analysis, terms: list[Term], *, filters: Filters, limit: int) -> set[int]:
        return {k for k, _ in self._search(analysis, terms, filters=filters, limit=limit)}

    def phrase(self, analysis: Analysis, *, field: str, filters: Filters, limit: int) -> set[int]:
        if len(analysis.sequence) < 2 or not all(t.doc_freq for t in analysis.sequence):
            return set()
        where, params = _filters_sql(filters)
        rows = self._rows(f"SELECT paper_id FROM {self.p}document WHERE document @@ %s::tsquery{where} "
                          "ORDER BY paper_id LIMIT %s", [self._phrase_query(analysis.sequence, field), *params, limit])
        return {int(k) for (k,) in rows}

    def author_papers(self, name: str, *, filters: Filters, limit: int) -> list[int]:
        where, params = _filters_sql(filters)
        rows = self._rows(f"SELECT paper_id FROM {self.p}document WHERE author_keys @> ARRAY[%s]::text[]{where} "
                          "ORDER BY published DESC, paper_id LIMIT %s", [keyword._author_key(name), *params, limit])
        return [int(k) for (k,) in rows]

    def has_author(self, name: str) -> bool:
        return bool(name) and bool(self._rows(
            f"SELECT 1 FROM {self.p}document WHERE author_keys @> ARRAY[%s]::text[] LIMIT 1",
            [keyword._author_key(name)]))

    def filtered(self, *, filters: Filters, limit: int) -> list[int]:
        where, params = _filters_sql(filters)
        rows = self._rows(f"SELECT paper_id FROM {self.p}document WHERE true{where} "
                          "ORDER BY published DESC, paper_id LIMIT %s", [*params, limit])
        return [int(k) for (k,) in rows]

    def matched_fields(self, analysis: Analysis, paper_ids: list[int]) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {k: [] for k in paper_ids}
        if not paper_ids:
            return out
        checks, params = [], []
        for field in TEXT_FIELDS:
            _, _, queries = self._score(analysis, analysis.matched, fields=(field,))
            if queries:
                checks.append((field, "document @@ %s::tsquery"))
                params.append(" | ".join(f"({q})" for q in queries))
        if not checks:
            return out
        rows = self._rows(f"SELECT paper_id, {', '.join(c for _, c in checks)} FROM {self.p}document "
                          "WHERE paper_id = ANY(%s)", params + [list(paper_ids)])
        for paper_id, *hits in rows:
            out[int(paper_id)] = [field for (field, _), hit in zip(checks, hits) if hit]
        return out

    def matching(self, paper_ids: list[int], *, filters: Filters) -> set[int]:
        if not paper_ids:
            return set()
        where, params = _filters_sql(filters)
        rows = self._rows(f"SELECT paper_id FROM {self.p}document WHERE paper_id = ANY(%s){where}",
                          [list(paper_ids), *params])
        return {int(k) for (k,) in rows}


class PostgresBackend:
    name = "postgres"
    vectors_in_process = False  # pgvector is asked on the request's own connection

    def __init__(self, prefix: str = PREFIX):
        self.prefix = prefix
        self.trigram = False
        self.half = True
        self.iterative = False
        self._hnsw: set[int] = set()
        self._cached: tuple[float, dict[str, str]] | None = None

    def _forget(self) -> None:
        self._cached = None

    # --- start-up
    def check(self) -> None:
        if connection.vendor != "postgresql":
            raise ImproperlyConfigured("DAILYPAPERS_SEARCH_BACKEND=postgres needs DATABASE_URL=postgres://... "
                                       f"(the database is {connection.vendor})")
        with connection.cursor() as cursor:
            installed, available = extensions(cursor)
            cursor.execute("SELECT to_regclass(%s), to_regclass(%s)",
                           [f"{self.prefix}document", f"{self.prefix}vector"])
            tables = cursor.fetchone()
        if "vector" not in installed or None in tables:
            installed = install(connection, prefix=self.prefix)  # pgvector installed after the migrations ran
        if "vector" not in installed:
            where = connection.settings_dict.get("NAME")
            if "vector" in available:
                raise ImproperlyConfigured(
                    f"DAILYPAPERS_SEARCH_BACKEND=postgres: the pgvector extension is available but not created in "
                    f"database {where!r}, and this role may not create it: run `CREATE EXTENSION vector;` as a "
                    "superuser, then `dailypapers index --rebuild`")
            raise ImproperlyConfigured(
                f"DAILYPAPERS_SEARCH_BACKEND=postgres needs the pgvector extension, which this PostgreSQL server "
                f"(database {where!r}) does not have: install pgvector 0.7 or newer (e.g. the postgresql-NN-pgvector "
                "package), then `dailypapers index --rebuild`; or use DAILYPAPERS_SEARCH_BACKEND=local")
        self.trigram = "pg_trgm" in installed
        if not self.trigram:
            logger.warning("pg_trgm is not installed: misspelt words are matched only among words of the same "
                           "first letter")
        self.half = _has_halfvec(installed["vector"])
        self.iterative = tuple(int(x) for x in installed["vector"].split(".")[:2]) >= (0, 8)

    # --- state
    def _state(self) -> dict[str, str]:
        # Read again after STATE_SECONDS (a document count and a model name: what another node's indexer
        # changed shows within that), and at once after this process wrote.
        if self._cached is None or time.monotonic() - self._cached[0] > STATE_SECONDS:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT name, value FROM {self.prefix}state")
                self._cached = (time.monotonic(), dict(cursor.fetchall()))
        return self._cached[1]

    def _set_state(self, cursor, **values) -> None:
        self._cached = None
        transaction.on_commit(self._forget, robust=True)
        for name, value in values.items():
            cursor.execute(f"INSERT INTO {self.prefix}state (name, value) VALUES (%s, %s) "
                           "ON CONFLICT (name) DO UPDATE SET value = excluded.value", [name, str(value)])

    # --- keyword reads
    def snapshot(self) -> PgSnapshot | None:
        state = self._state()
        if "num_docs" not in state:
            return None
        return PgSnapshot(self, int(state["num_docs"]))

    def keyword_search(self, text: str, *, filters: Filters, limit: int,
                       within: list[int] | None = None) -> list[tuple[int, float]]:
        snapshot = self.snapshot()
        if snapshot is None:
            return []
        hits = snapshot.lexical(snapshot.analyse(text, fuzzy=False), filters=filters, limit=limit, within=within)
        return sorted(hits.items(), key=lambda item: (-item[1], item[0]))

    # --- keyword writes
    def has_keyword_index(self) -> bool:
        return "num_docs" in self._state()

    def write_keywords(self, papers: Iterable[IndexedPaper], *, full: bool,
                       on_progress: Callable[[int], object] | None = None) -> int:
        """In one transaction, so every node switches at the commit and a crash keeps the previous index."""
        p, count = self.prefix, 0
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])
            delta: Counter = Counter()
            if full:
                cursor.execute(f"DELETE FROM {p}document")
                cursor.execute(f"DELETE FROM {p}word")
                cursor.execute(f"DELETE FROM {p}posting")
            batch: list[IndexedPaper] = []

            def flush():
                nonlocal count
                if not full:
                    cursor.execute(f"SELECT title_terms, abstract_terms, author_terms FROM {p}document "
                                   "WHERE paper_id = ANY(%s)", [[b.paper_id for b in batch]])
                    for title, abstract, authors in cursor.fetchall():
                        delta.subtract(_term_keys(title, abstract, authors))
                if not full:
                    cursor.execute(f"DELETE FROM {p}posting WHERE paper_id = ANY(%s)", [[b.paper_id for b in batch]])
                rows, postings = [], []
                for paper in batch:
                    title, authors, abstract = _tokens(paper)
                    postings += _postings(paper.paper_id, title, authors, abstract)
                    terms = (sorted(set(title)), sorted(set(abstract)), sorted(set(authors)))
                    delta.update(_term_keys(*terms))
                    rows.append((paper.paper_id, _tsvector([(title, "A"), (authors, "B"), (abstract, "C")]), *terms,
                                 [keyword._author_key(n) for n in paper.authors], list(paper.categories),
                                 paper.organization, day_number(paper.published) if paper.published else -1,
                                 paper.listed))
                cursor.executemany(
                    f"""INSERT INTO {p}document (paper_id, document, title_terms, abstract_terms, author_terms,
                        author_keys, categories, organization, published, listed)
                        VALUES (%s, %s::tsvector, %s, %s, %s, %s, %s, %s, %s, %s)
                        ON CONFLICT (paper_id) DO UPDATE SET document = excluded.document,
                        title_terms = excluded.title_terms, abstract_terms = excluded.abstract_terms,
                        author_terms = excluded.author_terms, author_keys = excluded.author_keys,
                        categories = excluded.categories, organization = excluded.organization,
                        published = excluded.published, listed = excluded.listed""",
                    rows)
                with cursor.cursor.copy(f"COPY {p}posting (term, field, paper_id, tf) FROM STDIN") as copy:
                    for row in postings:
                        copy.write_row(row)
                count += len(batch)
                if on_progress:
                    on_progress(len(batch))
                batch.clear()

            for paper in papers:
                batch.append(paper)
                if len(batch) >= _BATCH:
                    flush()
            if batch:
                flush()
            words: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
            for (field, kind, term), n in delta.items():
                if n:
                    words[(kind, term)][field] += n
            cursor.executemany(
                f"""INSERT INTO {p}word (kind, term, df_title, df_abstract, df_authors) VALUES (%s, %s, %s, %s, %s)
                    ON CONFLICT (kind, term) DO UPDATE SET df_title = {p}word.df_title + excluded.df_title,
                    df_abstract = {p}word.df_abstract + excluded.df_abstract,
                    df_authors = {p}word.df_authors + excluded.df_authors""",
                [(kind, term, *dfs) for (kind, term), dfs in words.items()])
            if not full:
                cursor.execute(f"DELETE FROM {p}word WHERE df_title <= 0 AND df_abstract <= 0 AND df_authors <= 0")
            cursor.execute(f"SELECT count(*) FROM {p}document")
            self._set_state(cursor, num_docs=cursor.fetchone()[0])
        if full:
            _vacuum(p, ("document", "word", "posting"))
        return count

    def remove_papers(self, paper_ids: list[int]) -> int:
        """Every row of these papers, and their terms' document frequencies, in the caller's transaction
        (the one deleting the papers): every node stops finding them at its commit."""
        p = self.prefix
        with transaction.atomic(), connection.cursor() as cursor:
            # After a running full rebuild (which would otherwise write them back from its earlier read).
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])
            cursor.execute(f"DELETE FROM {p}document WHERE paper_id = ANY(%s) "
                           "RETURNING title_terms, abstract_terms, author_terms", [list(paper_ids)])
            removed = cursor.fetchall()
            cursor.execute(f"DELETE FROM {p}posting WHERE paper_id = ANY(%s)", [list(paper_ids)])
            cursor.execute(f"DELETE FROM {p}vector WHERE paper_id = ANY(%s)", [list(paper_ids)])
            if not removed:
                return 0
            words: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
            for title, abstract, authors in removed:
                for field, kind, term in _term_keys(title, abstract, authors):
                    words[(kind, term)][field] += 1
            cursor.executemany(
                f"UPDATE {p}word SET df_title = df_title - %s, df_abstract = df_abstract - %s, "
                "df_authors = df_authors - %s WHERE kind = %s AND term = %s",
                [(*dfs, kind, term) for (kind, term), dfs in words.items()])
            cursor.execute(f"DELETE FROM {p}word WHERE df_title <= 0 AND df_abstract <= 0 AND df_authors <= 0")
            cursor.execute(f"SELECT count(*) FROM {p}document")
            self._set_state(cursor, num_docs=cursor.fetchone()[0])
        return len(removed)

    # --- vectors
    def _vector_type(self, dim: int) -> str:
        return f"{'halfvec' if self.half else 'vector'}({int(dim)})"

    def _ensure_hnsw(self, cursor, dim: int) -> None:
        if dim in self._hnsw:
            return
        kind = self._vector_type(dim)
        ops = "halfvec_cosine_ops" if self.half else "vector_cosine_ops"
        cursor.execute(f"CREATE INDEX IF NOT EXISTS {self.prefix}vector_hnsw_{int(dim)} ON {self.prefix}vector "
                       f"USING hnsw ((embedding::{kind}) {ops}) WHERE dim = {int(dim)}")
        self._hnsw.add(dim)

    def nearest(self, vector: np.ndarray, *, model_id: str, limit: int) -> list[tuple[int, float]]:
        state = self._state()
        if limit <= 0 or "vectors_model" not in state:
            return []
        if state["vectors_model"] != model_id:
            raise ModelMismatch(f"the vector index holds {state['vectors_model']} vectors, the query is {model_id}")
        vector = np.asarray(vector, dtype=np.float32).ravel()
        kind = self._vector_type(len(vector))
        with transaction.atomic(), connection.cursor() as cursor:
            # HNSW returns at most ef_search rows per scan: ask for as many as wanted (pgvector caps it at 1000).
            ef_search = min(1000, max(settings.SEARCH_PG_EF_SEARCH, int(limit)))
            cursor.execute(f"SET LOCAL hnsw.ef_search = {ef_search}"
                           + ("; SET LOCAL hnsw.iterative_scan = strict_order" if self.iterative else ""))
            cursor.execute(
                f"SELECT paper_id, 1 - (embedding::{kind} <=> %s::{kind}) FROM {self.prefix}vector "
                f"WHERE dim = %s ORDER BY embedding::{kind} <=> %s::{kind} LIMIT %s",
                [_vector_text(vector), len(vector), _vector_text(vector), limit])
            return [(int(k), float(s)) for k, s in cursor.fetchall()]

    def similarities(self, vector: np.ndarray, *, keys: list[int]) -> dict[int, float]:
        if not keys:
            return {}
        vector = np.asarray(vector, dtype=np.float32).ravel()
        kind = self._vector_type(len(vector))
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT paper_id, 1 - (embedding::{kind} <=> %s::{kind}) FROM {self.prefix}vector "
                           "WHERE paper_id = ANY(%s) AND dim = %s",
                           [_vector_text(vector), list(map(int, keys)), len(vector)])
            return {int(k): float(s) for k, s in cursor.fetchall()}

    def vector_mark(self) -> tuple[bool, str | None]:
        state = self._state()
        return "vectors_model" in state, state.get("vectors_synced_until") or None

    def _write_vectors(self, cursor, keys: np.ndarray, matrix: np.ndarray, model_id: str) -> None:
        cursor.executemany(
            f"INSERT INTO {self.prefix}vector (paper_id, model_id, dim, embedding) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (paper_id) DO UPDATE SET model_id = excluded.model_id, dim = excluded.dim, "
            "embedding = excluded.embedding",
            [(int(k), model_id, matrix.shape[1], _vector_text(v)) for k, v in zip(keys, matrix)])

    def _copy_vectors(self, cursor, keys: np.ndarray, matrix: np.ndarray, model_id: str) -> None:
        """New rows (the table was emptied) in COPY's binary format, made by numpy a chunk at a time: the
        rows of _write_vectors' INSERTs, each vector formatted as text and parsed again by the server, went
        in at ~860 a second on a busy box."""
        with cursor.cursor.copy(f"COPY {self.prefix}vector (paper_id, model_id, dim, embedding) FROM STDIN "
                                "(FORMAT BINARY)") as copy:
            copy.write(_COPY_HEADER)
            copy.write(_binary_vector_rows(keys, matrix, model_id=model_id, half=self.half))
            copy.write(_COPY_TRAILER)

    def build_vectors(self, chunks, *, model_id: str, dim: int, synced_until: str | None) -> int:
        p = self.prefix
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK + 1])
            # TRUNCATE, not DELETE: CREATE INDEX also indexes the rows its own transaction deleted (others still
            # see them until commit), so after DELETE a rebuild built its graph over the old rows too (bench/
            # search.py backends-vectors: 1.21M tuples for 1M vectors after a 250k build, past its build memory;
            # twice the build time at 20k). Searches wait either way: dropping the index locks the table.
            cursor.execute(f"TRUNCATE {p}vector")
            # Loading first and indexing after is several times faster than inserting into the HNSW graph.
            cursor.execute(f"DROP INDEX IF EXISTS {p}vector_hnsw_{int(dim)}")
            self._hnsw.discard(dim)
            started = time.monotonic()
            count = 0
            for keys, matrix in chunks:
                self._copy_vectors(cursor, keys, np.asarray(matrix, dtype=np.float32), model_id)
                count += len(keys)
            loaded = time.monotonic()
            # The graph is built in memory while it fits in maintenance_work_mem; past it pgvector goes on
            # inserting into the on-disk graph, many times slower (1M vectors would take hours).
            cursor.execute(f"SET LOCAL maintenance_work_mem = '{hnsw_build_memory_mb(count, dim)}MB'")
            self._ensure_hnsw(cursor, dim)
            logger.info("vector index: %d vectors written in %.1f s, HNSW built in %.1f s", count,
                        loaded - started, time.monotonic() - loaded)
            self._set_state(cursor, vectors_model=model_id, vectors_synced_until=synced_until or "")
        _vacuum(p, ("vector",))
        return count

    def add_vectors(self, *, keys: np.ndarray, vectors: np.ndarray, model_id: str,
                    synced_until: str | None = None) -> int:
        keys = np.asarray(keys, dtype=np.uint64)
        vectors = np.asarray(vectors, dtype=np.float32)
        if len(vectors) != len(keys):
            raise ValueError(f"{len(keys)} keys for {len(vectors)} vectors")
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SELECT value FROM {self.prefix}state WHERE name = 'vectors_model'")
            known = cursor.fetchone()
            if known and known[0] != model_id:
                raise ModelMismatch(f"the vector index was built with {known[0]}, not {model_id}: "
                                    "run `dailypapers index --rebuild`")
            if len(keys):
                self._ensure_hnsw(cursor, vectors.shape[1])
                # The last of repeated keys wins, as in the local index.
                last = {int(k): i for i, k in enumerate(keys)}
                self._write_vectors(cursor, np.array(list(last), dtype=np.uint64), vectors[list(last.values())],
                                    model_id)
            values = {"vectors_model": model_id}
            if synced_until is not None:
                values["vectors_synced_until"] = synced_until
            self._set_state(cursor, **values)
        return len(set(keys.tolist()))

    def vector_keys(self) -> np.ndarray:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT paper_id FROM {self.prefix}vector ORDER BY paper_id")
            return np.array([k for (k,) in cursor.fetchall()], dtype=np.uint64)


def hnsw_build_memory_mb(count: int, dim: int) -> int:
    """maintenance_work_mem for building the HNSW graph of `count` vectors in memory: per vector its halfvec
    (2 bytes a dimension) and ~700 bytes of graph (pgvector's m = 16: 32 neighbours on the lowest layer),
    a fifth more for slack; at least 256 MB, at most settings.SEARCH_PG_BUILD_MEMORY_MB."""
    wanted = math.ceil(count * (2 * dim + 700) * 1.2 / 2**20)
    return max(256, min(settings.SEARCH_PG_BUILD_MEMORY_MB, wanted))


def _vacuum(prefix: str, tables: tuple[str, ...]) -> None:
    """Fresh statistics (or the planner guesses: sequential scans) and, outside a transaction, a vacuum:
    it sets the visibility map, without which the postings' index-only scans visit the heap (14 -> 1 ms)."""
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"{'ANALYZE' if connection.in_atomic_block else 'VACUUM ANALYZE'} {prefix}{table}")


def _term_keys(title: list[str], abstract: list[str], authors: list[str]) -> list[tuple[int, str, str]]:
    """(field index into df_title/df_abstract/df_authors, kind, term) of a document's distinct terms."""
    return [(0, "s", t) for t in title] + [(1, "s", t) for t in abstract] + [(2, "w", t) for t in authors]
