"""Comments written before bare URLs became links are rendered again from their markdown, with the
renderer of the day (community.markdown) and their mentions linked as when they were posted, so old
and new comments read alike. Only comments holding "://" can change."""

from django.conf import settings
from django.db import migrations
from django.db.models.functions import Lower

from dailypapers.limits import MAX_MENTIONS


def render_again(apps, schema_editor):
    from dailypapers.community import markdown

    Comment = apps.get_model("community", "Comment")  # noqa: N806 - a model class
    User = apps.get_model(settings.AUTH_USER_MODEL)  # noqa: N806 - a model class
    for comment in Comment.objects.filter(body__contains="://").only("pk", "body").iterator():
        names = {n.lower() for n in markdown.mentions(comment.body)[:MAX_MENTIONS]}
        users = User.objects.annotate(lower_name=Lower("username")).filter(lower_name__in=names, is_active=True)
        usernames = {u.username.lower(): u.username for u in users} if names else {}
        Comment.objects.filter(pk=comment.pk).update(body_html=markdown.render(comment.body, usernames=usernames))


class Migration(migrations.Migration):

    dependencies = [
        ("community", "0006_claim_paper_author_removed"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(render_again, migrations.RunPython.noop)]
