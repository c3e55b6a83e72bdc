from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import slugify
from PIL import Image

from .models import Membership

AVATAR_MAX_BYTES = 1_000_000
AVATAR_FORMATS = {"PNG", "JPEG", "WEBP", "GIF"}


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
    avatar = forms.ImageField(required=False, help_text="PNG, JPEG, WebP or GIF, at most 1 MB.")

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"] or slugify(self.data.get("name", ""))
        if not slug:
            raise ValidationError("Choose a name made of letters, digits or dashes.")
        return slug

    def clean_avatar(self):
        avatar = self.cleaned_data.get("avatar")
        if not avatar:
            return None
        if avatar.size > AVATAR_MAX_BYTES:
            raise ValidationError(f"The avatar is {avatar.size / 1e6:.1f} MB; at most 1 MB.")
        avatar.seek(0)
        try:
            with Image.open(avatar) as image:
                kind = image.format
                image.verify()
        except Exception:
            raise ValidationError("The avatar is not a readable image.")
        if kind not in AVATAR_FORMATS:
            raise ValidationError(f"Avatars are PNG, JPEG, WebP or GIF, not {kind}.")
        avatar.seek(0)
        return avatar


class MemberForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=Membership.Role.choices)
