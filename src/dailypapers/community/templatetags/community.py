from datetime import timedelta

from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.safestring import SafeString

from dailypapers.community import selectors
from dailypapers.community.controls import vote_control

register = template.Library()


@register.simple_tag(takes_context=True)
def user_votes(context, cards) -> set[int]:
    """The papers among these cards that the signed-in user voted for (one query)."""
    return selectors.voted_paper_ids(user=context["user"], paper_ids=[c.paper.pk for c in cards])


@register.simple_tag(takes_context=True)
def vote_button(context, paper, voted_ids=None) -> SafeString:
    user, request = context["user"], context.get("request")
    voted_ids = voted_ids if voted_ids is not None else selectors.voted_paper_ids(user=user, paper_ids=[paper.pk])
    # An anonymous control has no form: reading the token would set the CSRF cookie and make the
    # page uncacheable.
    csrf_token = str(context.get("csrf_token", "")) if user.is_authenticated else ""
    return vote_control(paper_id=paper.arxiv_id, voted=paper.pk in voted_ids, count=paper.upvotes,
                        signed_in=user.is_authenticated, csrf_token=csrf_token,
                        next_path=request.get_full_path() if request else "")


@register.inclusion_tag("community/_discussion.html", takes_context=True)
def discussion(context, paper) -> dict:
    user = context["user"]
    return {
        "user": user,
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
        "paper": paper,
        "comments": selectors.discussion(paper=paper),
        "upvoters": selectors.upvoters(paper=paper),
        "edit_until": timezone.now() - timedelta(minutes=settings.COMMENT_EDIT_MINUTES),
        "banned": user.is_authenticated and hasattr(user, "ban"),
    }


@register.inclusion_tag("community/_organization_control.html", takes_context=True)
def organization_control(context, paper) -> dict:
    """The "Set the organization" control, drawn only for a user the rule lets use it."""
    return {"paper": paper, "user": context["user"], "csrf_token": context.get("csrf_token"),
            "rights": selectors.organization_rights(user=context["user"], paper=paper)}


@register.simple_tag(takes_context=True)
def organization_invitations(context, organization) -> dict:
    """For the organization page: the invitation waiting for the signed-in user, if any, and the
    invitations the organization has sent (its admins see those)."""
    user = context["user"]
    return {
        "mine": selectors.pending_invitations(user=user).filter(organization=organization).first(),
        "sent": selectors.organization_invitations(organization=organization),
    }


@register.simple_tag(takes_context=True)
def authorship_claims(context, paper) -> dict[int, selectors.ClaimState]:
    """Per authorship of this paper: its approved claimant, the reader's pending claim, or whether
    to offer the reader "claim" on it."""
    return selectors.claim_states(user=context["user"], paper=paper)


@register.filter(name="ago")
def ago(moment) -> str:
    """"just now" under a minute (timesince would say "0 minutes"), else "3 hours ago"."""
    from django.utils.timesince import timesince

    if moment is None:
        return ""
    if (timezone.now() - moment).total_seconds() < 60:
        return "just now"
    return f"{timesince(moment)} ago"
