"""The Follow buttons (author and organization pages, search results) and the daily list's
"followed author" badge."""

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from dailypapers.errors import Refused
from dailypapers.follows import selectors
from dailypapers.papers.models import Author, Organization

register = template.Library()


@register.simple_tag(takes_context=True)
def followed_authors(context, cards) -> set[int]:
    """The papers among these cards by an author the signed-in user follows (one query)."""
    return selectors.followed_author_paper_ids(user=context["user"], paper_ids=[c.paper.pk for c in cards])


_BADGE = mark_safe('<span class="dot">·</span><span class="followed-badge" title="by an author you follow">'
                   'followed author</span>')


@register.simple_tag
def with_followed_badge(paper, followed_ids, controls: SafeString) -> SafeString:
    """A card's reader controls, then the "followed author" badge when an author the reader follows wrote
    the paper: the badge is the reader's own, so it goes in the card body's hole with them (papers' cards tag)."""
    if isinstance(followed_ids, set) and paper.pk in followed_ids:
        return mark_safe(controls + _BADGE)
    return controls


def button_context(request, target) -> dict:
    """What the Follow button shows for a target: an Author, an Organization or a SavedSearch."""
    user = request.user
    fields: dict[str, str] = {}
    if isinstance(target, Author):
        action, what = reverse("follows:author", args=[target.pk]), "this author"
        found = selectors.following(user=user, author=target)
    elif isinstance(target, Organization):
        action, what = reverse("follows:organization", args=[target.slug]), "this organization"
        found = selectors.following(user=user, organization=target)
    else:
        action, what = reverse("follows:search"), "this search"
        fields = {"q": target.query, **target.params}
        found = selectors.following(user=user, search_key=target.key)
    return {"user": user, "request": request, "action": action, "what": what, "fields": fields,
            "following": found is not None}


@register.inclusion_tag("follows/_button.html", takes_context=True)
def follow_button(context, target) -> dict:
    """`target`: an Author, an Organization, or the search page's valid SearchForm."""
    request = context["request"]
    if not isinstance(target, Author | Organization):
        data = target.cleaned_data
        try:
            target = selectors.saved_search(
                query=data["q"], filters={name: target.data[name] for name in selectors.SEARCH_FILTERS
                                          if target.data.get(name, "").strip()})
        except Refused:  # a search that cannot be saved (too long): no button
            return {"hidden": True}
    return {**button_context(request, target), "csrf_token": context.get("csrf_token")}
