from django.conf import settings
from django.db import models

from dailypapers.limits import MAX_REPORT_REASON_LENGTH
from dailypapers.papers.models import Authorship, Organization, Paper

User = settings.AUTH_USER_MODEL


class Vote(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="votes")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="votes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "paper"], name="one_vote_per_user_and_paper")]
        indexes = [models.Index(fields=["paper", "created_at"])]

    def __str__(self) -> str:
        return f"vote by {self.user} for {self.paper.arxiv_id}"


class Comment(models.Model):
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="discussion")
    author = models.ForeignKey(User, on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies")
    body = models.TextField(help_text="Markdown as written")
    body_html = models.TextField(help_text="Rendered and sanitised")
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True, help_text="Deleted by its author")
    hidden_at = models.DateTimeField(null=True, blank=True, help_text="Hidden by a moderator")

    # Not columns: set by selectors.discussion on the comments it returns.
    children: list["Comment"]
    is_paper_author: bool
    is_submitter: bool

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.author} on {self.paper.arxiv_id}: {self.body[:50]}"

    @property
    def visible(self) -> bool:
        return self.deleted_at is None and self.hidden_at is None


class Report(models.Model):
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(User, on_delete=models.CASCADE, related_name="reports")
    reason = models.CharField(max_length=MAX_REPORT_REASON_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["comment", "reporter"], name="one_report_per_user_and_comment")]

    def __str__(self) -> str:
        return f"report by {self.reporter} on comment {self.comment_id}"


class Ban(models.Model):
    """A banned user reads but does not post, vote or submit."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="ban")
    reason = models.CharField(max_length=500)
    banned_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"ban of {self.user}"


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin"
        MEMBER = "member"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "user"], name="one_membership_per_org")]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.organization.slug}"


class AuthorshipClaim(models.Model):
    """A user says they are the author at one place in one paper's author list; staff decide in the
    admin. A claim is on an Authorship, not an Author: authors of the same name are one Author row
    (two "Yang Liu" on one paper, sixteen papers under one name), so claiming the name would claim
    them all."""

    class Status(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        REJECTED = "rejected"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="claims")
    authorship = models.ForeignKey(Authorship, on_delete=models.CASCADE, related_name="claims")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "authorship"], name="one_claim_per_user_and_authorship")]

    def __str__(self) -> str:
        return f"{self.user} as {self.authorship} ({self.status})"


class Invitation(models.Model):
    """An admin asked `user` to join `organization`: they become a member only once they accept,
    so nobody is put in an organization (and given its rights) without their consent."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="invitations")
    role = models.CharField(max_length=10, choices=Membership.Role.choices, default=Membership.Role.MEMBER)
    invited_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "user"], name="one_invitation_per_org")]

    def __str__(self) -> str:
        return f"{self.user} invited to {self.organization.slug} as {self.role}"


class PendingSubmission(models.Model):
    """A submission of a paper we did not hold: the web request records it and answers at once;
    a worker fetches the paper from arXiv (community.tasks.fetch_submission) and then submits it
    as usual. The submit page polls its status."""

    class Status(models.TextChoices):
        FETCHING = "fetching"
        DONE = "done"
        FAILED = "failed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pending_submissions")
    arxiv_id = models.CharField(max_length=50)
    comment = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.FETCHING)
    error = models.CharField(max_length=500, blank=True, help_text="Why it failed, for the submitter")
    paper = models.ForeignKey(Paper, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["user", "created_at"])]

    def __str__(self) -> str:
        return f"{self.arxiv_id} ({self.status})"
