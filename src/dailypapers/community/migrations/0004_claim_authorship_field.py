"""Claims move from (paper, author) to an Authorship: step 1, the new column beside the old ones."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("community", "0003_pending_submission"),
        ("papers", "0004_refuse_stored_bad_links_and_slugs"),
    ]

    operations = [
        migrations.AddField(
            model_name="authorshipclaim",
            name="authorship",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.CASCADE, related_name="claims", to="papers.authorship"
            ),
        ),
        migrations.AlterField(
            model_name="authorshipclaim",
            name="paper",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.CASCADE, related_name="claims", to="papers.paper"
            ),
        ),
        migrations.AlterField(
            model_name="authorshipclaim",
            name="author",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.CASCADE, related_name="claims", to="papers.author"
            ),
        ),
    ]
