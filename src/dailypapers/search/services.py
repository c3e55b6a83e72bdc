"""Writes of the search app: paper vectors and the two derived indexes (in the configured backend)."""

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from dailypapers.papers import services as papers_services
from dailypapers.papers.models import Authorship, DailyEntry, Paper

from . import keyword, keywords
from .backends import get_backend
from .embedders import get_embedder, paper_text
from .models import IndexState, PaperVector
from .vectors import ModelMismatch

logger = logging.getLogger(__name__)

# Papers modified this close before the last run are looked at again: an ingest batch
# stamps modified_at when it starts and commits a moment later.
_SLACK = timedelta(seconds=15)
_CHUNK = 2000


def _indexed_papers(papers) -> Iterator[keyword.IndexedPaper]:
    """IndexedPaper rows for a Paper queryset, a chunk at a time (bounded memory at any size)."""
    last_pk = 0
    base = papers.order_by("pk").annotate(
        on_list=Exists(DailyEntry.objects.filter(paper=OuterRef("pk")))
    ).values_list("pk", "title", "abstract", "categories", "organization__slug", "published_at", "on_list")
    while True:
        chunk = list(base.filter(pk__gt=last_pk)[:_CHUNK])
        if not chunk:
            return
        names: dict[int, list[str]] = {}
        for paper_id, name in (
            Authorship.objects.filter(paper__in=[row[0] for row in chunk])
            .order_by("paper_id", "position")
            .values_list("paper_id", "author__name")
        ):
            names.setdefault(paper_id, []).append(name)
        for pk, title, abstract, categories, org_slug, published_at, on_list in chunk:
            yield keyword.IndexedPaper(
                paper_id=pk, title=title, abstract=abstract, authors=names.get(pk, []),
                categories=categories or [], organization=org_slug or "",
                published=keyword.utc_day(published_at), listed=on_list,
            )
        last_pk = chunk[-1][0]


def index_keywords(*, rebuild: bool = False, on_progress: Callable[[int], object] | None = None) -> int:
    """Bring the keyword index up to date with the papers table; returns papers (re)indexed."""
    started = timezone.now()
    backend = get_backend()
    state, _ = IndexState.objects.get_or_create(name=_state_name(backend.name, "keyword"))
    if rebuild or state.indexed_until is None or not backend.has_keyword_index():
        count = backend.write_keywords(_indexed_papers(Paper.objects.all()), full=True, on_progress=on_progress)
    else:
        changed = Paper.objects.filter(modified_at__gte=state.indexed_until - _SLACK)
        count = backend.write_keywords(_indexed_papers(changed), full=False, on_progress=on_progress)
    state.indexed_until = started
    state.save(update_fields=["indexed_until", "updated_at"])
    return count


def _state_name(backend_name: str, index: str) -> str:
    """Each backend keeps its own progress marks: switching backends indexes everything anew."""
    return index if backend_name == "local" else f"{backend_name}-{index}"


def keyword_indexed_until() -> datetime | None:
    """When the configured backend's keyword index was last brought up to date (None: never built);
    read from the database alone (no connection to the backend)."""
    state = IndexState.objects.filter(name=_state_name(settings.SEARCH_BACKEND, "keyword")).first()
    return state.indexed_until if state else None


def _text_hash(title: str, abstract: str) -> str:
    return hashlib.sha1(paper_text(title, abstract).encode()).hexdigest()


def papers_needing_vectors(*, model_id: str):
    """Papers with no vector from this model, or whose text changed since."""
    state = IndexState.objects.filter(name="vectors").first()
    missing = ~Exists(PaperVector.objects.filter(paper=OuterRef("pk"), model_id=model_id))
    condition = Q(missing)
    if state and state.indexed_until:
        condition |= Q(modified_at__gte=state.indexed_until - _SLACK)
    return Paper.objects.filter(condition)


def _vector_chunks(rows) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(paper ids, vectors) of PaperVector rows, a chunk at a time."""
    keys: list[int] = []
    matrix: list[np.ndarray] = []
    for paper_id, blob in rows.order_by("paper_id").values_list("paper_id", "vector").iterator(chunk_size=_CHUNK):
        keys.append(paper_id)
        matrix.append(np.frombuffer(blob, dtype=np.float32))
        if len(keys) == _CHUNK:
            yield np.array(keys, dtype=np.uint64), np.vstack(matrix)
            keys, matrix = [], []
    if keys:
        yield np.array(keys, dtype=np.uint64), np.vstack(matrix)


def sync_vector_index(*, model_id: str, dim: int) -> int:
    """Put into the vector index every stored vector it may lack; returns the rows written.

    The index records up to when it holds every stored vector (`synced_until`, in
    its own manifest, so the mark and the rows change together). Rows updated since
    then, less the slack for late commits, are offered again; the index skips the
    ones it already holds. Without an index, one is built from every stored vector.
    This is how the index converges to the database when an indexer dies between
    storing a batch of vectors and indexing it. An index of another model (the
    embedder's model id changed) is rebuilt from the vectors of this one stored so
    far; the others are being recomputed (`papers_needing_vectors`).
    """
    started = timezone.now().isoformat()
    backend = get_backend()
    exists, synced_until = backend.vector_mark()
    stored = PaperVector.objects.filter(model_id=model_id)
    if not exists:
        return backend.build_vectors(_vector_chunks(stored), model_id=model_id, dim=dim, synced_until=started)
    if synced_until:
        stored = stored.filter(updated_at__gte=datetime.fromisoformat(synced_until) - _SLACK)
    try:
        written = sum(backend.add_vectors(keys=keys, vectors=matrix, model_id=model_id)
                      for keys, matrix in _vector_chunks(stored))
        backend.add_vectors(keys=np.zeros(0, dtype=np.uint64), vectors=np.zeros((0, dim), dtype=np.float32),
                            model_id=model_id, synced_until=started)
    except ModelMismatch:
        logger.info("the vector index holds another model's vectors: rebuilt with the %s vectors stored", model_id)
        return backend.build_vectors(_vector_chunks(PaperVector.objects.filter(model_id=model_id)),
                                     model_id=model_id, dim=dim, synced_until=started)
    return written


def embed_batch(*, rows: list[tuple[int, str, str]], embedder) -> int:
    """Embed (pk, title, abstract) rows whose stored vector is missing or stale, store the vectors
    (one row per paper: a batch done twice overwrites, never duplicates) and add them to the
    vector index. Returns the papers embedded. The task queue's claims call this (search.tasks)."""
    stored = dict(
        PaperVector.objects.filter(paper_id__in=[pk for pk, _, _ in rows], model_id=embedder.model_id)
        .values_list("paper_id", "text_hash")
    )
    todo = [(pk, t, a, h) for pk, t, a in rows if (h := _text_hash(t, a)) != stored.get(pk)]
    if not todo:
        return 0
    matrix = embedder.embed_documents([paper_text(t, a) for _, t, a, _ in todo])
    with transaction.atomic():
        PaperVector.objects.bulk_create(
            [
                PaperVector(paper_id=pk, model_id=embedder.model_id, text_hash=h, vector=row.tobytes())
                for (pk, _, _, h), row in zip(todo, matrix)
            ],
            update_conflicts=True, unique_fields=["paper"],
            update_fields=["model_id", "text_hash", "vector", "updated_at"],
        )
    # Searchable now; if this process dies before the next line, the next run's sync adds them.
    try:
        get_backend().add_vectors(keys=np.array([pk for pk, *_ in todo], dtype=np.uint64), vectors=matrix,
                                  model_id=embedder.model_id)
    except ModelMismatch:  # the first batch of a new model: the index is rebuilt for it (with this batch)
        sync_vector_index(model_id=embedder.model_id, dim=embedder.dim)
    return len(todo)


def papers_needing_keywords(*, model_id: str):
    """Papers Hugging Face gave no keywords, with a vector from this model, whose keywords are
    missing or were extracted from another text or by another model."""
    return Paper.objects.filter(ai_keywords=[], vector__model_id=model_id).exclude(
        keywords_text_hash=F("vector__text_hash"), keywords_model=model_id
    )


# The columns keyword extraction reads: (pk, title, abstract, the vector's text hash, the vector).
KEYWORD_COLUMNS = ("pk", "title", "abstract", "vector__text_hash", "vector__vector")


def extract_keywords_batch(*, rows: list[tuple[int, str, str, str, bytes]], embedder) -> int:
    """Extract and store the keywords of KEYWORD_COLUMNS rows (search.keywords); returns the papers
    done. Stored with the text hash they were extracted from: a batch done twice writes the same."""
    if not rows:
        return 0
    found = keywords.extract(
        papers=[(title, abstract, np.frombuffer(blob, dtype=np.float32)) for _, title, abstract, _, blob in rows],
        embedder=embedder,
    )
    return papers_services.set_keywords(
        extracted=[
            papers_services.ExtractedKeywords(paper_id=pk, keywords=words, text_hash=text_hash)
            for (pk, _, _, text_hash, _), words in zip(rows, found)
        ],
        model=embedder.model_id,
    )


def embed_pending(
    *, batch_size: int = 32, threads: int = 1, on_progress: Callable[[int], object] | None = None
) -> int:
    """Compute the vectors papers lack, store them, and add them to the vector index batch by batch."""
    started = timezone.now()
    embedder = get_embedder(threads=threads)
    sync_vector_index(model_id=embedder.model_id, dim=embedder.dim)
    done = 0
    pending = papers_needing_vectors(model_id=embedder.model_id).order_by("pk").values_list("pk", "title", "abstract")
    batch: list[tuple[int, str, str]] = []

    def flush() -> None:
        nonlocal done
        done += embed_batch(rows=batch, embedder=embedder)
        if on_progress:
            on_progress(len(batch))
        batch.clear()

    for row in pending.iterator(chunk_size=_CHUNK):
        batch.append(row)
        if len(batch) >= batch_size:
            flush()
    flush()
    IndexState.objects.update_or_create(name="vectors", defaults={"indexed_until": started})
    return done


def bring_indexes_current(*, rebuild: bool = False, on_progress: Callable[[int], object] | None = None) -> int:
    """The one way every command brings search up to date after papers changed (ingest, demo, index):
    the keyword index takes the changed papers (or everything, rebuilding), and a rebuild also rebuilds
    the vector index from the stored vectors. New vectors are computed by `embed_pending` (the
    background indexer), which is slow and is not part of an ingest. Returns papers keyword-indexed."""
    count = index_keywords(rebuild=rebuild, on_progress=on_progress)
    if rebuild:
        rebuild_vector_index()
    return count


def store_vectors(*, model_id: str, rows: Iterable[tuple[str, str, np.ndarray]]) -> int:
    """Store precomputed vectors, (arxiv id, text hash, vector) rows, for the papers we hold that lack
    one from this model; returns how many were stored. Nothing (0) when another embedder is configured
    (its vectors would not be comparable): `dailypapers index` computes its own."""
    if model_id != get_embedder().model_id:
        return 0
    rows = list(rows)
    papers = dict(Paper.objects.filter(arxiv_id__in=[a for a, _, _ in rows]).values_list("arxiv_id", "pk"))
    have = set(PaperVector.objects.filter(model_id=model_id).values_list("paper_id", flat=True))
    new = []
    for arxiv_id, text_hash, vector in rows:
        pk = papers.get(arxiv_id)
        if pk is None or pk in have:
            continue
        vector = vector.astype(np.float32)
        vector /= max(float(np.linalg.norm(vector)), 1e-12)
        new.append(PaperVector(paper_id=pk, model_id=model_id, text_hash=text_hash, vector=vector.tobytes()))
    with transaction.atomic():
        PaperVector.objects.bulk_create(new, batch_size=500)
    return len(new)


def paper_deleted(sender, instance: Paper, **kwargs) -> None:
    """post_delete of a Paper (connected in apps.py): out of the indexes in the deleting transaction."""
    get_backend().remove_papers([instance.pk])


def rebuild_vector_index() -> int:
    """A new vector index from the vectors in the database (nothing is recomputed)."""
    embedder = get_embedder()
    started = timezone.now().isoformat()
    stored = PaperVector.objects.filter(model_id=embedder.model_id)
    return get_backend().build_vectors(_vector_chunks(stored), model_id=embedder.model_id, dim=embedder.dim,
                                       synced_until=started)
