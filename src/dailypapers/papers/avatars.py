"""Organization avatars. Uploaded ones: whatever was uploaded, what is stored is a PNG we encoded
ourselves, under a name we chose. No bytes of the upload (a trailing HTML or PDF, metadata) and
no extension of its name survive. The one rule for every upload path (the site's form, the admin),
and for imported avatars, which are mirrored into our media store (so no page loads an image from
elsewhere) through the same re-encoding."""

import hashlib
import io
import logging
import uuid
import warnings
from collections.abc import Callable

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from PIL import Image, ImageOps

from dailypapers import pagecache

from .models import AVATAR_MIRROR_PREFIX, Organization
from .sources.http import USER_AGENT

logger = logging.getLogger(__name__)

AVATAR_MAX_BYTES = 1_000_000
AVATAR_FORMATS = ["PNG", "JPEG", "WEBP", "GIF"]
# Checked on the header, before any pixel is decoded: a few KB of PNG can claim 144 Mpx.
AVATAR_MAX_PIXELS = 4096 * 4096
AVATAR_SIZE = (256, 256)


def reencode_avatar(upload) -> ContentFile:
    """A 256 px PNG under a random name from an uploaded file; ValidationError with the reason otherwise."""
    if upload.size > AVATAR_MAX_BYTES:
        raise ValidationError(f"The avatar is {upload.size / 1e6:.1f} MB; at most 1 MB.")
    too_big = f"Avatars can have at most {AVATAR_MAX_PIXELS / 1e6:.0f} million pixels (e.g. 4096×4096)."
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            # Pillow warns from 89 Mpx on; our own, lower cap below is the check that counts.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(upload, formats=AVATAR_FORMATS)  # reads the header only
        with image:
            if image.width * image.height > AVATAR_MAX_PIXELS:
                raise ValidationError(f"The avatar is {image.width}×{image.height} pixels. {too_big}")
            image.load()
            image = ImageOps.exif_transpose(image)
            image = image.convert("RGBA" if _has_alpha(image) else "RGB")
    except Image.DecompressionBombError:  # Pillow's own, larger cap, hit inside Image.open
        raise ValidationError(too_big) from None
    except (OSError, ValueError, SyntaxError):  # what Pillow raises for a broken or unknown file
        raise ValidationError("The avatar is not a readable PNG, JPEG, WebP or GIF image.") from None
    image.thumbnail(AVATAR_SIZE)
    encoded = io.BytesIO()
    image.save(encoded, "PNG", optimize=True)
    return ContentFile(encoded.getvalue(), name=f"{uuid.uuid4().hex}.png")


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


# -- Organization avatars: copied into our media store, so no page loads an image from elsewhere --

AVATAR_FETCH_TIMEOUT_SECONDS = 10.0


class AvatarRefused(Exception):
    """The imported avatar could not be mirrored; the message says why (for the ingest log)."""


def _avatar_host_allowed(url: str) -> bool:
    host = (httpx.URL(url).host or "").lower()
    return any(host == allowed or host.endswith("." + allowed) for allowed in settings.AVATAR_MIRROR_HOSTS)


def avatar_mirror_name(url: str) -> str:
    """The stored file's name for a mirror of `url`: a new address gets a new file."""
    return f"{AVATAR_MIRROR_PREFIX}{hashlib.sha256(url.encode()).hexdigest()[:20]}.png"


def organizations_needing_avatar_mirror() -> list[int]:
    """Organizations with an imported avatar address whose copy we don't have yet (an avatar
    uploaded here is never replaced)."""
    ids = []
    for org in Organization.objects.exclude(avatar_url="").only("pk", "avatar", "avatar_url"):
        stale = (not org.avatar or org.avatar_is_mirror) and org.avatar.name != avatar_mirror_name(org.avatar_url)
        if stale and _avatar_host_allowed(org.avatar_url):
            ids.append(org.pk)
    return ids


def mirror_organization_avatar(*, organization_id: int) -> str:
    """Download the organization's imported avatar, re-encode it by the one avatar rule
    (papers.avatars.reencode_avatar: a 256 px PNG of ours, nothing of the original's bytes) and
    store it in the media store. The one function the ingest (and the task queue's worker) calls.

    Returns "stored", or "current" when our copy already is of this address, "uploaded" when the
    organization has an avatar uploaded here (kept), "none" when there is nothing to mirror.
    Raises AvatarRefused (host not allowed, HTTP error, too big, not an image): the organization
    is then shown with its initials, and a later ingest tries again."""
    org = Organization.objects.filter(pk=organization_id).first()
    if org is None or not org.avatar_url:
        return "none"
    if org.avatar and not org.avatar_is_mirror:
        return "uploaded"
    name = avatar_mirror_name(org.avatar_url)
    if org.avatar.name == name:
        return "current"
    if not _avatar_host_allowed(org.avatar_url):
        raise AvatarRefused(f"{org.slug}: avatar host of {org.avatar_url} is not in DAILYPAPERS_AVATAR_HOSTS")
    data = _download_avatar(org.avatar_url)
    try:
        image = reencode_avatar(ContentFile(data))
    except ValidationError as exc:
        raise AvatarRefused(f"{org.slug}: {org.avatar_url}: {' '.join(exc.messages)}") from None
    old = org.avatar.name if org.avatar else ""
    if org.avatar.storage.exists(name):  # a copy left by an earlier run: same address, same name
        org.avatar.storage.delete(name)
    org.avatar.save(name.removeprefix("organizations/"), image, save=False)
    # Written only if the address is still the one we fetched (an ingest may have changed it since).
    updated = Organization.objects.filter(pk=org.pk, avatar_url=org.avatar_url).update(avatar=org.avatar.name)
    if old and old != org.avatar.name and updated:
        org.avatar.storage.delete(old)
    pagecache.invalidate_all()  # the logo shows on every page that lists its papers
    return "stored"


def _download_avatar(url: str) -> bytes:
    """At most AVATAR_MAX_BYTES + 1 bytes of `url` (streamed: a huge file is cut, not read)."""
    try:
        with httpx.Client(timeout=AVATAR_FETCH_TIMEOUT_SECONDS, follow_redirects=False,
                          headers={"User-Agent": USER_AGENT}) as client, client.stream("GET", url) as response:
            if response.status_code != 200:
                raise AvatarRefused(f"GET {url}: HTTP {response.status_code}")
            data = bytearray()
            for chunk in response.iter_bytes():
                data.extend(chunk)
                if len(data) > AVATAR_MAX_BYTES:
                    break
            return bytes(data)
    except httpx.HTTPError as exc:
        raise AvatarRefused(f"GET {url}: {exc or type(exc).__name__}") from None


def mirror_avatars(*, log: Callable[[str], None] = logger.warning) -> tuple[int, int]:
    """Mirror every organization avatar that needs it; returns (stored, failed). Failures are
    logged and left for the next run."""
    stored = failed = 0
    for organization_id in organizations_needing_avatar_mirror():
        try:
            if mirror_organization_avatar(organization_id=organization_id) == "stored":
                stored += 1
        except AvatarRefused as exc:
            failed += 1
            log(f"avatar not mirrored: {exc}")
    return stored, failed
