"""Reads of the community app."""

from dailypapers.papers.models import DailyEntry, Organization, Paper

from .models import AuthorshipClaim, Comment, Membership, Vote


def voted_paper_ids(*, user, paper_ids: list[int]) -> set[int]:
    if not user.is_authenticated or not paper_ids:
        return set()
    return set(Vote.objects.filter(user=user, paper_id__in=paper_ids).values_list("paper_id", flat=True))


def discussion(*, paper: Paper) -> list[Comment]:
    """Top-level comments with their replies (any depth) attached as `.children`, oldest first."""
    comments = list(Comment.objects.filter(paper=paper).select_related("author").order_by("created_at"))
    author_ids = set(
        AuthorshipClaim.objects.filter(paper=paper, status=AuthorshipClaim.Status.APPROVED).values_list("user_id", flat=True)
    )
    submitter_ids = set(DailyEntry.objects.filter(paper=paper, submitted_by__isnull=False).values_list("submitted_by_id", flat=True))
    by_id = {c.pk: c for c in comments}
    roots = []
    for comment in comments:
        comment.children = []
        comment.is_paper_author = comment.author_id in author_ids
        comment.is_submitter = comment.author_id in submitter_ids
    for comment in comments:
        parent = by_id.get(comment.parent_id)
        (parent.children if parent else roots).append(comment)
    return roots


def upvoters(*, paper: Paper, limit: int = 50):
    return Vote.objects.filter(paper=paper).select_related("user").order_by("-created_at")[:limit]


def profile(*, user) -> dict:
    return {
        "submissions": DailyEntry.objects.filter(submitted_by=user).select_related("paper").order_by("-submitted_at")[:100],
        "upvoted": Paper.objects.filter(votes__user=user).order_by("-votes__created_at")[:100],
        "comments": Comment.objects.filter(author=user, deleted_at=None, hidden_at=None)
        .select_related("paper").order_by("-created_at")[:100],
        "claimed": Paper.objects.filter(claims__user=user, claims__status=AuthorshipClaim.Status.APPROVED).distinct(),
        "memberships": Membership.objects.filter(user=user).select_related("organization"),
    }


def admin_organizations(*, user):
    if user.is_staff:
        return Organization.objects.all()
    return Organization.objects.filter(memberships__user=user, memberships__role=Membership.Role.ADMIN)


def members(*, organization):
    return Membership.objects.filter(organization=organization).select_related("user").order_by("role", "user__username")

