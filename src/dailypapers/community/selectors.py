"""Reads of the community app."""

from dataclasses import dataclass
from datetime import datetime

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F
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
        or AuthorshipClaim.objects.filter(
            authorship__paper=paper, user=user, status=AuthorshipClaim.Status.APPROVED
        ).exists()
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
        AuthorshipClaim.objects.filter(authorship__paper=paper, status=AuthorshipClaim.Status.APPROVED).values_list(
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
        "claimed": Paper.objects.filter(
            authorships__claims__user=user, authorships__claims__status=AuthorshipClaim.Status.APPROVED
        ).distinct(),
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
class ClaimedAuthorship:
    """An approved claim: `user` is the author at `position` (0 = first) of paper `paper_id`."""

    authorship_id: int
    paper_id: int
    position: int
    user: AbstractBaseUser  # the site's user model
    decided_at: datetime | None = None


def claimed_authorships(*, paper_ids: list[int]) -> dict[int, ClaimedAuthorship]:
    """The approved claims on these papers' authorships, by authorship id, in one query: what the
    paper page, the APIs and follows read. Claims are per authorship, so of two same-name authors
    of a paper (one Author row) only the one claimed is. Should a moderator approve two claims on
    one authorship, the first approved counts."""
    if not paper_ids:
        return {}
    claimed: dict[int, ClaimedAuthorship] = {}
    approved = (
        AuthorshipClaim.objects.filter(authorship__paper_id__in=paper_ids, status=AuthorshipClaim.Status.APPROVED)
        .select_related("user", "authorship")
        .order_by("decided_at", "pk")
    )
    for claim in approved:
        if claim.authorship_id not in claimed:
            claimed[claim.authorship_id] = ClaimedAuthorship(
                authorship_id=claim.authorship_id, paper_id=claim.authorship.paper_id,
                position=claim.authorship.position, user=claim.user, decided_at=claim.decided_at,
            )
    return claimed


@dataclass(frozen=True)
class ClaimState:
    """One authorship of a paper as a reader sees it: "claimed" (an approved claim: `claimant`, who
    is `yours` when it is the reader), "pending" (the reader's own claim waits for a moderator), or
    "open"; `claimable`: whether to offer the reader "claim" on it."""

    state: str
    claimant: AbstractBaseUser | None = None
    yours: bool = False
    claimable: bool = False


def claim_states(*, user, paper: Paper) -> dict[int, ClaimState]:
    """Per authorship id of `paper`. "claim" is offered on an open authorship to a signed-in,
    verified, unbanned user with no claim on this paper yet (one person is one of a paper's
    authors; a refused claim is not made again). Another user's pending claim leaves it open."""
    authorship_ids = [a.pk for a in paper.authorships.all()]
    claimed = claimed_authorships(paper_ids=[paper.pk])
    own: dict[int, str] = {}
    if user.is_authenticated:
        own = dict(
            AuthorshipClaim.objects.filter(authorship__paper=paper, user=user).values_list("authorship_id", "status")
        )
    may_claim = user.is_authenticated and not own and not is_banned(user=user) and has_verified_email(user=user)
    states: dict[int, ClaimState] = {}
    for authorship_id in authorship_ids:
        if (approved := claimed.get(authorship_id)) is not None:
            states[authorship_id] = ClaimState(
                state="claimed", claimant=approved.user, yours=user.is_authenticated and approved.user.pk == user.pk
            )
        elif own.get(authorship_id) == AuthorshipClaim.Status.PENDING:
            states[authorship_id] = ClaimState(state="pending")
        else:
            states[authorship_id] = ClaimState(state="open", claimable=may_claim)
    return states

def papers_with_author_comments(*, paper_ids: list[int]) -> set[int]:
    """Which of these papers have a visible comment by one of their approved (claimed) authors."""
    return set(
        Comment.objects.filter(
            paper_id__in=paper_ids, deleted_at__isnull=True, hidden_at__isnull=True,
            paper__authorships__claims__user=F("author"),
            paper__authorships__claims__status=AuthorshipClaim.Status.APPROVED,
        ).values_list("paper_id", flat=True).distinct()
    )
