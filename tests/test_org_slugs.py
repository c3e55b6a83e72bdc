"""Organization slugs are derived and validated in one place (issue 8, item 8).

An imported Hugging Face organization whose name is not a valid slug ("foo.bar",
unicode, spaces) used to be stored as its slug, and every page that links the
organization answered 500 (NoReverseMatch). Now records.organization_slug derives
the slug, the name as sent is kept in hf_name, and the Hugging Face-compatible API
reports that name back.
"""

import json
import re
from io import StringIO

import pytest
from django.core.management import call_command

from dailypapers.papers.models import Organization
from dailypapers.papers.records import OrganizationRecord, PaperRecord, is_valid_slug, organization_slug

HF_NAMES = ["foo.bar", "Zürich AI Lab", "研究 所", " spaced out ", "a" * 150]


@pytest.mark.parametrize("name", ["google", "Qwen", "deepseek-ai", "meta_llama", "x" * 100])
def test_a_name_that_is_a_slug_stays_as_it_is(name):
    assert organization_slug(name) == name


@pytest.mark.parametrize("name", HF_NAMES)
def test_any_other_name_gets_a_valid_slug(name):
    slug = organization_slug(name)
    assert is_valid_slug(slug) and slug != name
    assert organization_slug(name) == slug  # the same organization on every import


def test_derived_slugs_read_like_the_name_and_never_merge_two_names():
    assert re.fullmatch(r"foo-bar-[0-9a-f]{8}", organization_slug("foo.bar"))
    assert re.fullmatch(r"Zurich-AI-Lab-[0-9a-f]{8}", organization_slug("Zürich AI Lab"))
    assert re.fullmatch(r"org-[0-9a-f]{8}", organization_slug("研究所"))
    assert len({organization_slug(n) for n in ("foo.bar", "foo bar", "foo/bar", "foo-bar")}) == 4


@pytest.mark.parametrize("name", ["", "   ", None, 5])
def test_a_blank_name_has_no_slug(name):
    with pytest.raises(ValueError):
        organization_slug(name)


def test_a_record_with_an_invalid_slug_drops_the_organization():
    record = PaperRecord(arxiv_id="2401.00001", title="T", organization=OrganizationRecord(slug="foo.bar", name="Foo"))
    assert record.organization is None and "organization" in record.skipped_fields


def _item(arxiv_id: str, org_name: str) -> dict:
    return {
        "paper": {"id": arxiv_id, "title": f"Attention paper {arxiv_id}", "summary": "About attention.",
                  "authors": [{"name": "Ada Lovelace"}], "publishedAt": "2026-03-16T00:00:00.000Z", "upvotes": 5},
        "organization": {"name": org_name, "fullname": f"The {org_name.strip()}", "avatar": "https://example.org/a.png"},
    }


@pytest.fixture
def imported(db, tmp_path):
    path = tmp_path / "2026-03-16.json"
    items = [_item(f"2603.{n:05d}", name) for n, name in enumerate(HF_NAMES, 1)]
    path.write_text(json.dumps(items))
    out = StringIO()
    call_command("ingest", "hf-daily", str(path), "--quiet", stdout=out)
    assert out.getvalue().strip() == f"{len(HF_NAMES)} new / 0 updated / 0 unchanged / 0 skipped"
    return {f"2603.{n:05d}": name for n, name in enumerate(HF_NAMES, 1)}


def test_imported_names_are_kept_and_slugged(imported):
    orgs = {o.hf_name: o for o in Organization.objects.all()}
    assert set(orgs) == {name.strip() for name in HF_NAMES}
    assert all(org.slug == organization_slug(name) for name, org in orgs.items())


@pytest.mark.parametrize("url", [
    "/papers/{id}", "/papers/date/2026-03-16", "/papers/week/2026-W12", "/papers/month/2026-03", "/papers?q=attention",
    "/organizations/{slug}",
])
def test_pages_answer_200_with_the_organization_linked(client, imported, url):
    for arxiv_id, name in imported.items():
        slug = organization_slug(name)
        response = client.get(url.format(id=arxiv_id, slug=slug))
        assert response.status_code == 200, (url, name)
        if "{slug}" not in url:
            assert f'href="/organizations/{slug}"' in response.content.decode()


def test_apis_answer_200_and_report_the_hugging_face_name(client, imported):
    daily = client.get("/api/daily_papers?date=2026-03-16")
    assert daily.status_code == 200
    assert {item["organization"]["name"] for item in daily.json()} == {name.strip() for name in HF_NAMES}
    for arxiv_id, name in imported.items():
        slug = organization_slug(name)
        assert client.get(f"/api/papers/{arxiv_id}").json()["organization"]["name"] == name.strip()
        native = client.get(f"/api/v1/papers/{arxiv_id}")
        assert native.status_code == 200
        assert native.json()["organization"]["slug"] == slug
        assert native.json()["organization"]["url"] == f"/organizations/{slug}"
        assert client.get(f"/api/v1/organizations/{slug}").status_code == 200
    assert client.get("/api/v1/daily/2026-03-16").status_code == 200
    assert client.get("/api/v1/search?q=attention").status_code == 200
