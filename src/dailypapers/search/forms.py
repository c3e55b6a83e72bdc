from django import forms

from .keyword import Filters
from .selectors import MAX_QUERY_LENGTH, SORTS


class SearchForm(forms.Form):
    q = forms.CharField(required=False, strip=True, max_length=MAX_QUERY_LENGTH,
                        error_messages={"max_length": f"The query is too long: at most {MAX_QUERY_LENGTH} characters."})
    published_from = forms.DateField(required=False, input_formats=["%Y-%m-%d"], label="Published from")
    published_to = forms.DateField(required=False, input_formats=["%Y-%m-%d"], label="to")
    category = forms.CharField(required=False, max_length=32, strip=True)
    organization = forms.CharField(required=False, max_length=100, strip=True)
    author = forms.CharField(required=False, max_length=300, strip=True)
    listed = forms.BooleanField(required=False, label="On a daily list only")
    sort = forms.ChoiceField(required=False, choices=[(s, s.capitalize()) for s in SORTS])
    page = forms.IntegerField(required=False, min_value=1, max_value=1000)

    def filters(self) -> Filters:
        data = self.cleaned_data
        return Filters(
            published_from=data["published_from"], published_to=data["published_to"],
            category=data["category"], organization=data["organization"], author=data["author"],
            listed_only=data["listed"],
        )

    def error_text(self) -> str:
        """The reasons, one sentence per bad field, for the 400 page."""
        return " ".join(
            message if name == "q" else f"{self.fields[name].label or name.capitalize()}: {message}"
            for name, messages in self.errors.items() for message in messages
        )
