"""The Save control on cards and the paper page, and "Add to collection" on the paper page."""

from django import template
from django.utils.safestring import SafeString

from dailypapers.collections import selectors
from dailypapers.collections.controls import save_control
from dailypapers.collections.models import Collection

register = template.Library()


@register.simple_tag(takes_context=True)
def saved_papers(context, cards) -> set[int]:
    """The papers among these cards on the signed-in user's Reading list (one query)."""
    return selectors.saved_paper_ids(user=context["user"], paper_ids=[c.paper.pk for c in cards])


@register.simple_tag(takes_context=True)
def save_button(context, paper, saved_ids=None) -> SafeString:
    user, request = context["user"], context.get("request")
    if not isinstance(saved_ids, set):  # a page that didn't look them up for all its cards
        saved_ids = selectors.saved_paper_ids(user=user, paper_ids=[paper.pk])
    return save_control(paper_id=paper.arxiv_id, saved=paper.pk in saved_ids, signed_in=user.is_authenticated,
                        # No token for an anonymous reader, as in community's vote_button.
                        csrf_token=str(context.get("csrf_token", "")) if user.is_authenticated else "",
                        next_path=request.get_full_path() if request else "")


@register.inclusion_tag("collections/_add_to_collection.html", takes_context=True)
def add_to_collection(context, paper) -> dict:
    user = context["user"]
    if not user.is_authenticated:
        return {"collections": []}
    holding = selectors.collections_holding(user=user, paper=paper)
    return {"paper": paper, "csrf_token": context.get("csrf_token"),
            "collections": [c for c in Collection.objects.filter(owner=user) if c.pk not in holding],
            "in_collections": list(Collection.objects.filter(pk__in=holding))}
