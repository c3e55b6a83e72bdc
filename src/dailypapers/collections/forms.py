from django import forms

from .models import MAX_DESCRIPTION_LENGTH, MAX_NOTE_LENGTH, MAX_TITLE_LENGTH, Collection


class CollectionForm(forms.ModelForm):
    class Meta:
        model = Collection
        fields = ["title", "description", "is_public"]
        labels = {"is_public": "Public: anyone may read it and follow its feed"}
        error_messages = {"title": {"required": "Give the collection a title."}}
        widgets = {
            "title": forms.TextInput(attrs={"maxlength": MAX_TITLE_LENGTH}),
            "description": forms.Textarea(attrs={"rows": 3, "maxlength": MAX_DESCRIPTION_LENGTH}),
        }

    def clean_title(self) -> str:
        title = " ".join(self.cleaned_data["title"].split())
        if not title:
            raise forms.ValidationError("Give the collection a title.")
        return title


class NoteForm(forms.Form):
    note = forms.CharField(required=False, max_length=MAX_NOTE_LENGTH, widget=forms.Textarea(attrs={"rows": 2}))


class AddPaperForm(forms.Form):
    collection = forms.IntegerField(min_value=1, max_value=10**18)
    paper = forms.CharField(max_length=200, help_text="arXiv id or URL")


class ImportForm(forms.Form):
    file = forms.FileField(label=".bib file", help_text="Papers are matched by eprint (arXiv id), DOI or exact title")
