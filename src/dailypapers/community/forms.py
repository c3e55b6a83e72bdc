from django import forms
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.text import slugify

from dailypapers.papers.avatars import reencode_avatar

from .models import Membership


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
    slug = forms.SlugField(
        max_length=100, required=False, help_text="Its address: /organizations/<slug>. From the name if empty."
    )
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
        avatar = self.cleaned_data.get("avatar")
        return reencode_avatar(avatar) if avatar else None


class PaperOrganizationForm(forms.Form):
    organization = forms.SlugField(max_length=100, required=False, help_text="Empty: no organization.")


class InviteForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=Membership.Role.choices)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)
