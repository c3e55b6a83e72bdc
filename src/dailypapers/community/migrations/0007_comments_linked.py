"""Comments written before bare URLs became links are rendered again from their markdown, with the
renderer of the day (community.markdown), so old and new comments read alike."""

from django.db import migrations


def render_again(apps, schema_editor):
    from dailypapers.community import markdown

    Comment = apps.get_model("community", "Comment")  # noqa: N806 - a model class
    for comment in Comment.objects.filter(body__contains="://").only("pk", "body").iterator():
        Comment.objects.filter(pk=comment.pk).update(body_html=markdown.render(comment.body))


class Migration(migrations.Migration):

    dependencies = [("community", "0006_claim_paper_author_removed")]

    operations = [migrations.RunPython(render_again, migrations.RunPython.noop)]
