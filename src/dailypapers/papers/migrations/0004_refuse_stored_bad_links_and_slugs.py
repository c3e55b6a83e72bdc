"""Apply today's ingestion rules to what earlier imports stored unchecked.

Links the URL rule refuses (javascript:, data:, no host...) are blanked, and
organization slugs that are not valid slugs (imported Hugging Face names such as
"foo.bar", which broke every page that links the organization) are re-derived;
the name as imported is kept in hf_name. The rules are imported, not copied, so
there is one of each: this migration only ever runs on data stored before them.
"""

from django.db import migrations
from django.db.models import Q

from dailypapers.papers.records import clean_url, is_valid_slug, organization_slug

CHUNK = 2000


def _refused(url: str) -> bool:
    try:
        clean_url(url)
    except ValueError:
        return True
    return False


def forwards(apps, schema_editor):
    Paper = apps.get_model("papers", "Paper")
    Organization = apps.get_model("papers", "Organization")
    for name in ("github_repo", "project_page"):
        bad = [
            pk for pk, url in Paper.objects.exclude(**{name: ""}).values_list("pk", name).iterator(chunk_size=CHUNK)
            if _refused(url)
        ]
        for start in range(0, len(bad), CHUNK):
            Paper.objects.filter(pk__in=bad[start:start + CHUNK]).update(**{name: ""})
    for org in Organization.objects.filter(~Q(avatar_url="") | ~Q(slug__regex=r"^[-a-zA-Z0-9_]{1,100}$")).order_by("pk"):
        changed = []
        if org.avatar_url and _refused(org.avatar_url):
            org.avatar_url = ""
            changed.append("avatar_url")
        if not is_valid_slug(org.slug):
            org.hf_name = org.hf_name or org.slug[:200]
            slug, n = organization_slug(org.slug), 1
            while Organization.objects.filter(slug=slug).exists():
                n += 1
                slug = f"{organization_slug(org.slug)[:95]}-{n}"
            org.slug = slug
            changed += ["slug", "hf_name"]
        if changed:
            org.save(update_fields=changed)


class Migration(migrations.Migration):
    dependencies = [("papers", "0003_organization_hf_name")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
