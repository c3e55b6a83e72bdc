import io
import uuid
import warnings

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.text import slugify
from PIL import Image, ImageOps

from .models import Membership

AVATAR_MAX_BYTES = 1_000_000
AVATAR_FORMATS = ["PNG", "JPEG", "WEBP", "GIF"]
# Checked on the header, before any pixel is decoded: a few KB of PNG can claim 144 Mpx.
AVATAR_MAX_PIXELS = 4096 * 4096
AVATAR_SIZE = (256, 256)


class SubmitForm(forms.Form):
    paper = forms.CharField(label="arXiv id or URL", max_length=300)
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000,
                              help_text="Optional: posted as the first comment (markdown).")


class CommentForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000)


class ReportForm(forms.Form):
    reason = forms.CharField(max_length=500, required=False)


class OrganizationForm(forms.Form):
    name = forms.CharField(max_length=200)
    slug = forms.SlugField(max_length=100, required=False, help_text="Its address: /organizations/<slug>. From the name if empty.")
    # A plain file field: Pillow is run once, in clean_avatar, so every refusal has our message.
    avatar = forms.FileField(
        required=False, help_text="PNG, JPEG, WebP or GIF, at most 1 MB; stored as a 256×256 PNG.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp,image/gif"}),
    )

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"] or slugify(self.data.get("name", ""))
        if not slug:
            raise ValidationError("Choose a name made of letters, digits or dashes.")
        return slug

    def clean_avatar(self) -> ContentFile | None:
        """Whatever was uploaded, what is stored is a PNG we encoded ourselves, under a name we chose:
        no bytes of the upload (a trailing HTML or PDF, metadata) and no extension of its name survive."""
        avatar = self.cleaned_data.get("avatar")
        if not avatar:
            return None
        if avatar.size > AVATAR_MAX_BYTES:
            raise ValidationError(f"The avatar is {avatar.size / 1e6:.1f} MB; at most 1 MB.")
        too_big = f"Avatars can have at most {AVATAR_MAX_PIXELS / 1e6:.0f} million pixels (e.g. 4096×4096)."
        avatar.seek(0)
        try:
            with warnings.catch_warnings():
                # Pillow warns from 89 Mpx on; our own, lower cap below is the check that counts.
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                image = Image.open(avatar, formats=AVATAR_FORMATS)  # reads the header only
            with image:
                if image.width * image.height > AVATAR_MAX_PIXELS:
                    raise ValidationError(f"The avatar is {image.width}×{image.height} pixels. {too_big}")
                image.load()
                image = ImageOps.exif_transpose(image)
                image = image.convert("RGBA" if _has_alpha(image) else "RGB")
        except Image.DecompressionBombError:  # Pillow's own, larger cap, hit inside Image.open
            raise ValidationError(too_big)
        except (OSError, ValueError, SyntaxError):  # what Pillow raises for a broken or unknown file
            raise ValidationError("The avatar is not a readable PNG, JPEG, WebP or GIF image.")
        image.thumbnail(AVATAR_SIZE)
        encoded = io.BytesIO()
        image.save(encoded, "PNG", optimize=True)
        return ContentFile(encoded.getvalue(), name=f"{uuid.uuid4().hex}.png")


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


class PaperOrganizationForm(forms.Form):
    organization = forms.SlugField(max_length=100, required=False, help_text="Empty: no organization.")


class InviteForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=Membership.Role.choices)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)
