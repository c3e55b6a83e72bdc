from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("search", "0001_initial"),
    ]

    operations = [
        # It was always set on every save (auto_now); the name now says so, and the index
        # lets the vector index catch up on recently updated rows.
        migrations.RenameField(model_name="papervector", old_name="created_at", new_name="updated_at"),
        migrations.AlterField(
            model_name="papervector", name="updated_at", field=models.DateTimeField(auto_now=True, db_index=True),
        ),
    ]
