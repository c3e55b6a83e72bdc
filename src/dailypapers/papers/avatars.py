"""Uploaded organization avatars: whatever was uploaded, what is stored is a PNG we encoded
ourselves, under a name we chose. No bytes of the upload (a trailing HTML or PDF, metadata) and
no extension of its name survive. The one rule for every upload path (the site's form, the admin)."""

import io
import uuid
import warnings

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from PIL import Image, ImageOps

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
