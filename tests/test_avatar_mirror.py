"""Nothing leaves the site (issue 12 item 2): imported organization avatars are copied into the
media store at ingest (downloaded from the replay server here, never the internet), re-encoded by
the one avatar rule; pages show our copy or the organization's initials, never a third party's
image; the CSP allows images from the site only; and in a real browser every request a page makes
goes to the site's own origin."""

import io
import json
from io import StringIO
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from PIL import Image

from dailypapers.papers import avatars
from dailypapers.papers.models import Organization

from .helpers import BROWSER_MARKS, launch_chromium
from .replay import ReplayServer


def browser_test(test):
    """The browser tests' marks (live server ready, skipped without chromium) on one test."""
    for mark in BROWSER_MARKS:
        test = mark(test)
    return test

FIXTURE = Path(__file__).parent / "fixtures" / "hf" / "2026-08-21.json"


def _png(size=(400, 300), colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def cdn(settings):
    server = ReplayServer().start()
    settings.AVATAR_MIRROR_HOSTS = ["127.0.0.1"]
    yield server
    server.stop()


@pytest.fixture
def recorded_day(tmp_path, cdn):
    """The recorded Hugging Face day, its avatar addresses moved to the replay server."""
    items = json.loads(FIXTURE.read_text())
    paths = set()
    for item in items:
        org = item.get("organization") or {}
        if org.get("avatar"):
            path = urlsplit(org["avatar"]).path
            org["avatar"] = f"{cdn.url}{path}"
            paths.add(path)
    for path in paths:
        cdn.add(path, {}, _png(), content_type="image/png")
    file = tmp_path / "2026-08-21.json"
    file.write_text(json.dumps(items))
    return file, paths


def test_ingest_mirrors_the_avatars_once(db, recorded_day, cdn, client):
    file, paths = recorded_day
    out = StringIO()
    call_command("ingest", "hf-daily", str(file), "--quiet", stdout=out)
    orgs = list(Organization.objects.exclude(avatar_url=""))
    assert orgs and len({o.avatar_url for o in orgs}) == len(paths)
    assert f"avatars: {len(orgs)} mirrored / 0 not mirrored" in out.getvalue()
    fetched = len(cdn.requests)
    assert fetched == len(orgs)
    for org in orgs:
        assert org.avatar_is_mirror and org.avatar.name == avatars.avatar_mirror_name(org.avatar_url)
        with Image.open(org.avatar.path) as image:  # re-encoded by papers.avatars: a 256 px PNG
            assert image.format == "PNG" and max(image.size) == 256
        served = client.get(org.page_avatar)
        assert served.status_code == 200 and served["Content-Type"] == "image/png"
        # Pages show our copy; the API still reports the address it was imported from.
        page = client.get(org.get_absolute_url()).content.decode()
        assert f'src="{org.page_avatar}"' in page and org.avatar_url not in page
        assert org.avatar_src == org.avatar_url

    # A second ingest finds every copy current: nothing is downloaded again.
    out = StringIO()
    call_command("ingest", "hf-daily", str(file), "--quiet", stdout=out)
    assert len(cdn.requests) == fetched and "avatars:" not in out.getvalue()


def test_bad_avatars_are_refused_and_shown_as_initials(db, cdn, client):
    cdn.add("/not-an-image.png", {}, b"<html>not a picture</html>", content_type="image/png")
    cdn.add("/huge.png", {}, b"\x89PNG" + b"0" * 1_200_000, content_type="image/png")
    cases = {
        "text": f"{cdn.url}/not-an-image.png",
        "missing": f"{cdn.url}/no-such-file.png",
        "huge": f"{cdn.url}/huge.png",
        "elsewhere": "https://www.gravatar.com/avatar/abc",
    }
    orgs = {key: Organization.objects.create(slug=f"org-{key}", name=f"Open {key} Lab", avatar_url=url)
            for key, url in cases.items()}
    reasons = {}
    for key, org in orgs.items():
        with pytest.raises(avatars.AvatarRefused) as refused:
            avatars.mirror_organization_avatar(organization_id=org.pk)
        reasons[key] = str(refused.value)
        org.refresh_from_db()
        assert not org.avatar
    assert "not a readable PNG" in reasons["text"] and "HTTP 404" in reasons["missing"]
    assert "at most 1 MB" in reasons["huge"] and "not in DAILYPAPERS_AVATAR_HOSTS" in reasons["elsewhere"]
    assert not [r for r in cdn.requests if "gravatar" in r.path]
    html = client.get("/organizations/org-text").content.decode()
    assert '<span class="initials" aria-hidden="true">OT</span>' in html and "<img" not in html
    # The batch form used by the ingest logs them and goes on.
    logged = []
    assert avatars.mirror_avatars(log=logged.append) == (0, 3)  # the gravatar host is not even tried
    assert len(logged) == 3


def test_an_uploaded_avatar_is_never_replaced(db, cdn):
    from django.core.files.base import ContentFile

    cdn.add("/logo.png", {}, _png(), content_type="image/png")
    org = Organization.objects.create(slug="lab", name="Lab", avatar_url=f"{cdn.url}/logo.png")
    org.avatar.save("uploaded.png", ContentFile(_png((64, 64))))
    assert avatars.mirror_organization_avatar(organization_id=org.pk) == "uploaded"
    assert avatars.organizations_needing_avatar_mirror() == [] and cdn.requests == []


def test_the_csp_allows_images_from_the_site_only(client, db):
    policy = client.get("/papers")["Content-Security-Policy"]
    assert "img-src 'self' data:;" in policy + ";" and "https:" not in policy


@browser_test
def test_every_request_a_page_makes_goes_to_the_site(live_server, three_days_live, settings):
    from playwright.sync_api import sync_playwright

    # An imported logo on a third party's CDN that was not mirrored (yet): initials, no request.
    Organization.objects.filter(slug="acme-ai").update(avatar_url="https://cdn-avatars.huggingface.co/v1/acme.png")
    pages = ["/papers", "/papers/date/2026-03-16", "/papers/week/2026-W12", "/papers/2603.00002",
             "/papers?q=attention", "/papers/trending", "/organizations/acme-ai", "/accounts/login/",
             "/accounts/signup/", "/digest/subscribe"]
    elsewhere, seen = [], 0
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page()
        page.route("**/*", lambda route: (
            route.continue_() if route.request.url.startswith(live_server.url) else route.abort()))

        def note(request):
            nonlocal seen
            seen += 1
            if not request.url.startswith(live_server.url + "/") and not request.url.startswith("data:"):
                elsewhere.append((page.url, request.url))

        page.on("request", note)
        for path in pages:
            page.goto(f"{live_server.url}{path}")
            page.wait_for_load_state("networkidle")
            if path == "/organizations/acme-ai":
                assert page.locator(".org-title .initials").inner_text() == "AA"
        browser.close()
    assert seen > 3 * len(pages)  # pages, styles, scripts, the icon: the listener saw them
    assert elsewhere == []
