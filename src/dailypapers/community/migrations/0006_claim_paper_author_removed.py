"""Claims move from (paper, author) to an Authorship: step 3, the old columns go, one claim per
user and authorship."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("community", "0005_claims_to_authorships"),
        ("papers", "0004_refuse_stored_bad_links_and_slugs"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="authorshipclaim", name="one_claim_per_author_entry"),
        migrations.RemoveField(model_name="authorshipclaim", name="paper"),
        migrations.RemoveField(model_name="authorshipclaim", name="author"),
        migrations.AlterField(
            model_name="authorshipclaim",
            name="authorship",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="claims", to="papers.authorship"
            ),
        ),
        migrations.AddConstraint(
            model_name="authorshipclaim",
            constraint=models.UniqueConstraint(fields=("user", "authorship"), name="one_claim_per_user_and_authorship"),
        ),
    ]
