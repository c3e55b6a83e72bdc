"""Claims move from (paper, author) to an Authorship: step 2, the data.

Each claim gets the authorship of its author on its paper. When that name appears more than once on
the paper (same-name authors are one Author row), the claim goes to the FIRST position: an old claim
does not say which of them the claimant was; a moderator can correct it in the admin. A claim whose
author is no longer on the paper (its author list changed since) has no authorship to go to and is
deleted. Going back, each claim gets its authorship's paper and author again.

A migration of its own, apart from the schema changes before and after it: PostgreSQL refuses to
alter a table with row updates pending on it in the same transaction.
"""

from django.db import migrations


def claims_to_authorships(apps, schema_editor):
    AuthorshipClaim = apps.get_model("community", "AuthorshipClaim")  # noqa: N806 - a model class
    Authorship = apps.get_model("papers", "Authorship")  # noqa: N806 - a model class
    for claim in AuthorshipClaim.objects.filter(authorship__isnull=True).iterator():
        first = (
            Authorship.objects.filter(paper_id=claim.paper_id, author_id=claim.author_id)
            .order_by("position").values_list("pk", flat=True).first()
        )
        if first is None:
            claim.delete()
        else:
            AuthorshipClaim.objects.filter(pk=claim.pk).update(authorship_id=first)


def authorships_to_claims(apps, schema_editor):
    AuthorshipClaim = apps.get_model("community", "AuthorshipClaim")  # noqa: N806 - a model class
    for claim in AuthorshipClaim.objects.select_related("authorship").iterator():
        AuthorshipClaim.objects.filter(pk=claim.pk).update(
            paper_id=claim.authorship.paper_id, author_id=claim.authorship.author_id
        )


class Migration(migrations.Migration):

    dependencies = [("community", "0004_claim_authorship_field")]

    operations = [migrations.RunPython(claims_to_authorships, authorships_to_claims)]
