"""The Save control, drawn in Python for the same reason as community.controls.vote_control
(one per card on every list page); the htmx toggle answers with the same function."""

from urllib.parse import quote

from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString


def save_control(*, paper_id: str, saved: bool, signed_in: bool, csrf_token: str, next_path: str) -> SafeString:
    if not signed_in:
        return format_html('<a class="save" href="{}?next={}" title="Log in to save papers to a reading list">Save</a>',
                           reverse("account_login"), quote(next_path, safe="/"))
    action = reverse("collections:save", args=[paper_id])
    return format_html(
        '<form class="save{}" method="post" action="{}" hx-post="{}" hx-swap="outerHTML" hx-target="this">'
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}"><input type="hidden" name="next" value="{}">'
        '<button type="submit" class="link" aria-pressed="{}" title="{}">{}</button></form>',
        " saved" if saved else "", action, action, csrf_token, next_path, "true" if saved else "false",
        "Take off your Reading list" if saved else "Save to your Reading list", "Saved" if saved else "Save")
