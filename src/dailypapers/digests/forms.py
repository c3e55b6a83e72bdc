from django import forms

from dailypapers.limits import MAX_MIN_UPVOTES, MAX_TOPIC_LENGTH

from .models import Subscription


class SubscribeForm(forms.Form):
    email = forms.EmailField()
    frequency = forms.ChoiceField(choices=Subscription.Frequency.choices, initial=Subscription.Frequency.DAILY,
                                  widget=forms.RadioSelect)
    topic = forms.CharField(required=False, max_length=MAX_TOPIC_LENGTH,
                            help_text="Optional: only papers matching this search.")
    min_upvotes = forms.IntegerField(required=False, min_value=0, max_value=MAX_MIN_UPVOTES, initial=0,
                                     label="Minimum upvotes")
    personal = forms.BooleanField(required=False, label="Personal: ranked as on your For you page (upvotes and saves)",
                                  help_text="When you are signed in and this is your verified address.")


class ManageForm(forms.Form):
    """The settings of an existing digest, on its manage page."""

    frequency = forms.ChoiceField(choices=Subscription.Frequency.choices, widget=forms.RadioSelect)
    topic = forms.CharField(required=False, max_length=250, help_text="Optional: only papers matching this search.")
    min_upvotes = forms.IntegerField(required=False, min_value=0, max_value=10_000, label="Minimum upvotes")
