"""The postgres search backend's tables (search.backends.postgres), on PostgreSQL only.

Conditional by design: on SQLite nothing happens; on a PostgreSQL without pgvector
(or pg_trgm) the full-text tables are created and the rest is left out, so the
migration always applies and the local backend works. The postgres backend checks
at start-up and says what is missing; `dailypapers index` completes the schema
once the extension is installed.
"""

from django.db import migrations


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from dailypapers.search.backends.postgres import install

    install(schema_editor.connection)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from dailypapers.search.backends.postgres import PREFIX

    with schema_editor.connection.cursor() as cursor:
        for table in ("document", "word", "state", "vector", "posting"):
            cursor.execute(f"DROP TABLE IF EXISTS {PREFIX}{table}")


class Migration(migrations.Migration):
    dependencies = [("search", "0002_papervector_updated_at")]
    operations = [migrations.RunPython(forward, backward)]
