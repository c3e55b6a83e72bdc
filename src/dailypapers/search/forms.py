import re
from urllib.parse import urlencode

from django import forms

from .keyword import Filters
from .selectors import MAX_QUERY_LENGTH, SORTS

# Values the page has anyway, so they never need to be in the address.
_DEFAULTS = {"sort": "relevance", "page": "1"}


def trim_query(text: str) -> str:
    """The query cut to MAX_QUERY_LENGTH, at the last word boundary when the cut falls inside a word."""
    if len(text) <= MAX_QUERY_LENGTH:
        return text
    head = text[:MAX_QUERY_LENGTH]
    if not text[MAX_QUERY_LENGTH].isspace():
        head = re.sub(r"\s+\S*$", "", head)  # drop the cut word (one long word is cut where it must)
    return head.rstrip()


class SearchForm(forms.Form):
    # Longer queries are trimmed (see clean_q), not refused: a pasted paragraph still searches.
    q = forms.CharField(required=False, strip=True)
    published_from = forms.DateField(required=False, input_formats=["%Y-%m-%d"], label="Published from")
    published_to = forms.DateField(required=False, input_formats=["%Y-%m-%d"], label="to")
    category = forms.CharField(required=False, max_length=32, strip=True)
    organization = forms.CharField(required=False, max_length=100, strip=True)
    author = forms.CharField(required=False, max_length=300, strip=True)
    listed = forms.BooleanField(required=False, label="On a daily list only")
    sort = forms.ChoiceField(required=False, choices=[(s, s.capitalize()) for s in SORTS])
    # No upper bound: any page past the last gets the same "no such page" answer.
    page = forms.IntegerField(required=False, min_value=1)

    max_query_length = MAX_QUERY_LENGTH  # for the input's maxlength
    trimmed = False  # set by clean_q when the query was longer than MAX_QUERY_LENGTH

    def clean_q(self) -> str:
        query = self.cleaned_data["q"]
        trimmed = trim_query(query)
        self.trimmed = trimmed != query
        return trimmed

    def filters(self) -> Filters:
        data = self.cleaned_data
        return Filters(
            published_from=data["published_from"], published_to=data["published_to"],
            category=data["category"], organization=data["organization"], author=data["author"],
            listed_only=data["listed"],
        )

    def params_in_use(self) -> list[tuple[str, str]]:
        """The submitted fields that change the results, as typed: no empty fields, no defaults, nothing unknown."""
        params = []
        for name in self.fields:
            value = self.data.get(name, "").strip()
            if value and _DEFAULTS.get(name) != value:
                params.append((name, value))
        return params

    def query_string(self, **changes: str | int | None) -> str:
        """The query string of this search with some parameters changed (None or "" removes one)."""
        params = dict(self.params_in_use())
        for name, value in changes.items():
            if value in (None, "") or _DEFAULTS.get(name) == str(value):
                params.pop(name, None)
            else:
                params[name] = str(value)
        return urlencode(params)

    def error_text(self) -> str:
        """The reasons, one sentence per bad field, for the 400 page."""
        return " ".join(
            str(message) if name == "q" else f"{self.fields[name].label or name.capitalize()}: {message}"
            for name, messages in self.errors.items() for message in messages
        )
