"""Issue 8, item 12: every uploaded avatar is decoded under a pixel cap and re-encoded to a PNG
under a generated name, and media are served so that no upload can act as a page.
The images are real, generated with Pillow."""

import io
import re

import pytest
from django.test import Client
from PIL import Image

from dailypapers.papers.avatars import AVATAR_MAX_PIXELS
from dailypapers.papers.models import Organization

from .helpers import client_for, make_user

pytestmark = pytest.mark.django_db
TRAILER = (
    b"<html><script>alert(document.domain)</script></html>\n%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
)


def image_file(name: str, fmt: str, *, size=(40, 30), mode="RGB", color="orange", trailer: bytes = b"") -> io.BytesIO:
    data = io.BytesIO()
    Image.new(mode, size, color).save(data, fmt)
    data = io.BytesIO(data.getvalue() + trailer)
    data.name = name
    return data


def upload(avatar: io.BytesIO, slug: str = "lab"):
    client = client_for(make_user(f"admin-{slug}"))
    return client.post("/organizations/new", {"name": slug.title(), "slug": slug, "avatar": avatar})


def stored(slug: str = "lab") -> tuple[str, bytes]:
    avatar = Organization.objects.get(slug=slug).avatar
    with avatar.open("rb") as f:
        return avatar.name, f.read()


def test_a_png_named_pdf_is_stored_and_served_as_a_png_under_a_generated_name():
    assert upload(image_file("report.pdf", "PNG")).status_code == 302
    name, data = stored()
    assert re.fullmatch(r"organizations/[0-9a-f]{32}\.png", name)
    assert Image.open(io.BytesIO(data)).format == "PNG"
    response = Client().get(f"/media/{name}")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("width, height", [(12_000, 12_000), (20_000, 20_000)])
def test_an_image_of_too_many_pixels_is_refused_before_decoding(width, height):
    """144 Mpx (under Pillow's own bomb limit, which only warns) and 400 Mpx (over it), each a few KB."""
    huge = image_file("huge.png", "PNG", size=(width, height), mode="1", color=0)
    assert huge.getbuffer().nbytes < 100_000
    response = upload(huge)
    assert response.status_code == 400
    assert f"at most {AVATAR_MAX_PIXELS / 1e6:.0f} million pixels" in response.content.decode()
    assert not Organization.objects.exists()


def test_a_polyglot_is_re_encoded_without_its_trailing_html_and_pdf():
    polyglot = image_file("poly.png", "PNG", trailer=TRAILER)
    assert Image.open(polyglot).format == "PNG"  # it is a valid PNG ...
    polyglot.seek(0)
    assert upload(polyglot).status_code == 302
    _, data = stored()
    for needle in (b"<html", b"<script", b"%PDF", b"/Catalog", b"%%EOF"):  # ... and none of the rest survives
        assert needle not in data
    assert Image.open(io.BytesIO(data)).size == (40, 30)


@pytest.mark.parametrize("fmt, name, mode", [("GIF", "a.gif", "P"), ("WEBP", "a.webp", "RGBA"),
                                             ("JPEG", "a.jpg", "RGB"), ("PNG", "a.png", "LA")])
def test_gif_webp_jpeg_and_png_are_accepted_shrunk_and_re_encoded_to_png(fmt, name, mode):
    source = image_file(name, fmt, size=(600, 300), mode=mode, color=1 if mode == "P" else None)
    source_bytes = source.getvalue()
    assert upload(source).status_code == 302
    stored_name, data = stored()
    image = Image.open(io.BytesIO(data))
    assert stored_name.endswith(".png") and image.format == "PNG" and image.size == (256, 128)
    assert data != source_bytes


@pytest.mark.parametrize("name, payload", [
    ("page.png", b"<html><script>alert(1)</script></html>"),
    ("truncated.png", image_file("t.png", "PNG", size=(64, 64)).getvalue()[:60]),
])
def test_what_is_not_a_readable_image_is_refused_with_a_reason(name, payload):
    avatar = io.BytesIO(payload)
    avatar.name = name
    response = upload(avatar)
    assert response.status_code == 400 and "not a readable PNG, JPEG, WebP or GIF image" in response.content.decode()
    assert not Organization.objects.exists()


def test_bmp_is_not_an_accepted_format():
    response = upload(image_file("a.bmp", "BMP"))
    assert response.status_code == 400 and "not a readable PNG, JPEG, WebP or GIF image" in response.content.decode()


def test_an_avatar_uploaded_in_the_admin_is_re_encoded_too():
    from django.contrib.auth import get_user_model

    staff = get_user_model().objects.create_superuser("root", "root@example.org", "pw")
    client = Client()
    client.force_login(staff)
    response = client.post("/admin/papers/organization/add/", {
        "name": "Lab", "slug": "lab", "avatar_url": "", "hf_name": "",
        "avatar": image_file("poly.pdf", "PNG", trailer=TRAILER),
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    name, data = stored()
    assert re.fullmatch(r"organizations/[0-9a-f]{32}\.png", name) and TRAILER not in data
    refused = client.post("/admin/papers/organization/add/", {
        "name": "Other", "slug": "other",
        "avatar": image_file("huge.png", "PNG", size=(12_000, 12_000), mode="1", color=0),
    })
    assert refused.status_code == 200 and "million pixels" in refused.content.decode()
    assert not Organization.objects.filter(slug="other").exists()
