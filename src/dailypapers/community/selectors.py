"""Reads of the community app."""

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db.models.functions import Lower

from dailypapers.papers.models import DailyEntry, Organization, Paper

from .models import AuthorshipClaim, Ban, Comment, Invitation, Membership, Vote


def is_banned(*, user) -> bool:
    return user.is_authenticated and Ban.objects.filter(user=user).exists()


def has_verified_email(*, user) -> bool:
    return user.is_authenticated and EmailAddress.objects.filter(user=user, verified=True).exists()


def users_named(*, names: list[str]) -> list:
    """The active users with these usernames (compared case-insensitively, as sign-up keeps them unique)."""
    if not names:
        return []
    return list(get_user_model().objects.annotate(lower_name=Lower("username"))
                .filter(lower_name__in={n.lower() for n in names}, is_active=True))


def can_manage_members(*, user, organization: Organization) -> bool:
    """Staff, and the organization's admins, manage its members (the one home of that rule)."""
    return user.is_authenticated and (
        user.is_staff
        or Membership.objects.filter(organization=organization, user=user, role=Membership.Role.ADMIN).exists()
    )


@dataclass(frozen=True)
class OrganizationRights:
    """What `user` may do with a paper's organization: the one home of that rule."""

    may_set: bool  # put the paper under one of `choices` (staff: under any organization)
    may_remove: bool  # take the paper out of its current organization
    choices: list[Organization]  # the user's own organizations

    @property
    def any(self) -> bool:
        return self.may_set or self.may_remove


NO_RIGHTS = OrganizationRights(may_set=False, may_remove=False, choices=[])


def organization_rights(*, user, paper: Paper) -> OrganizationRights:
    """Hugging Face's rule: the paper's submitter, an approved (claimed) author of it, or staff may
    set its organization, to one they are a member of; an admin of the current organization may
    only remove it. Nobody banned or without a verified email may do either."""
    if not user.is_authenticated or is_banned(user=user) or not has_verified_email(user=user):
        return NO_RIGHTS
    may_set = (
        user.is_staff
        or DailyEntry.objects.filter(paper=paper, submitted_by=user).exists()
        or AuthorshipClaim.objects.filter(paper=paper, user=user, status=AuthorshipClaim.Status.APPROVED).exists()
    )
    may_remove = paper.organization_id is not None and (
        may_set or Membership.objects.filter(
            organization_id=paper.organization_id, user=user, role=Membership.Role.ADMIN
        ).exists()
    )
    choices = list(Organization.objects.filter(memberships__user=user).order_by("name")) if may_set else []
    return OrganizationRights(may_set=may_set, may_remove=may_remove, choices=choices)


def voted_paper_ids(*, user, paper_ids: list[int]) -> set[int]:
    if not user.is_authenticated or not paper_ids:
        return set()
    return set(Vote.objects.filter(user=user, paper_id__in=paper_ids).values_list("paper_id", flat=True))


def discussion(*, paper: Paper) -> list[Comment]:
    """Top-level comments with their replies (any depth) attached as `.children`, oldest first."""
    comments = list(Comment.objects.filter(paper=paper).select_related("author").order_by("created_at"))
    author_ids = set(
        AuthorshipClaim.objects.filter(paper=paper, status=AuthorshipClaim.Status.APPROVED).values_list(
            "user_id", flat=True
        )
    )
    submitter_ids = set(
        DailyEntry.objects.filter(paper=paper, submitted_by__isnull=False).values_list("submitted_by_id", flat=True)
    )
    by_id = {c.pk: c for c in comments}
    roots: list[Comment] = []
    for comment in comments:
        comment.children = []
        comment.is_paper_author = comment.author_id in author_ids
        comment.is_submitter = comment.author_id in submitter_ids
    for comment in comments:
        parent = by_id.get(comment.parent_id) if comment.parent_id is not None else None
        (parent.children if parent else roots).append(comment)
    return roots


def upvoters(*, paper: Paper, limit: int = 50):
    return Vote.objects.filter(paper=paper).select_related("user").order_by("-created_at")[:limit]


def profile(*, user) -> dict:
    return {
        "submissions": DailyEntry.objects.filter(submitted_by=user)
        .select_related("paper")
        .order_by("-submitted_at")[:100],
        "upvoted": Paper.objects.filter(votes__user=user).order_by("-votes__created_at")[:100],
        "comments": Comment.objects.filter(author=user, deleted_at=None, hidden_at=None)
        .select_related("paper")
        .order_by("-created_at")[:100],
        "claimed": Paper.objects.filter(claims__user=user, claims__status=AuthorshipClaim.Status.APPROVED).distinct(),
        "memberships": Membership.objects.filter(user=user).select_related("organization"),
    }


def members(*, organization):
    return (
        Membership.objects.filter(organization=organization).select_related("user").order_by("role", "user__username")
    )


def pending_invitations(*, user):
    """The invitations waiting for `user` to accept or decline."""
    if not user.is_authenticated:
        return Invitation.objects.none()
    return Invitation.objects.filter(user=user).select_related("organization", "invited_by").order_by("-created_at")


def organization_invitations(*, organization: Organization):
    """The invitations an organization's admins have sent and that are not answered yet."""
    return Invitation.objects.filter(organization=organization).select_related("user").order_by("user__username")


@dataclass(frozen=True)
class ClaimStates:
    """Per author of a paper: "yours" (your approved claim), "pending" (your claim waits for a
    moderator), "claimed" (someone's approved claim), or "open". `may_claim`: whether to offer
    "claim" at all — a signed-in, verified, unbanned user who has no claim on this paper yet
    (one person is one of a paper's authors)."""

    states: dict[int, str]
    may_claim: bool


def claim_states(*, user, paper: Paper, author_ids: list[int]) -> ClaimStates:
    states = dict.fromkeys(author_ids, "open")
    mine = False
    claims = AuthorshipClaim.objects.filter(paper=paper).values_list("author_id", "user_id", "status")
    for author_id, user_id, status in claims:
        if user.is_authenticated and user_id == user.pk:
            mine = True  # a refused claim is not made again (claim_authorship refuses it)
            if status != AuthorshipClaim.Status.REJECTED:
                states[author_id] = "yours" if status == AuthorshipClaim.Status.APPROVED else "pending"
        elif status == AuthorshipClaim.Status.APPROVED and states.get(author_id) == "open":
            states[author_id] = "claimed"
    may_claim = (user.is_authenticated and not mine and not is_banned(user=user) and has_verified_email(user=user))
    return ClaimStates(states=states, may_claim=may_claim)
