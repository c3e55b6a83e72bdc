"""Notifications: replies, mentions, new papers by followed authors, submissions fetched or refused.
Shown on /notifications (per the user's preferences) and, batched, by email."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from dailypapers.community.models import Comment, PendingSubmission
from dailypapers.papers.models import Paper

User = settings.AUTH_USER_MODEL


class Kind(models.TextChoices):
    REPLY = "reply", "Replies to your comments"
    MENTION = "mention", "Mentions of you in comments"
    FOLLOWED_AUTHOR_PAPER = "followed_author_paper", "New papers by authors you follow"
    SUBMISSION = "submission", "Your submissions fetched or refused"


# Shown on the page unless turned off (every kind: a preference row only ever turns one off);
# mailed by default for what is addressed to you in person, not for followed authors' papers
# (which come by the dozen, and have their own digest section).
BY_EMAIL_DEFAULT = {Kind.REPLY: True, Kind.MENTION: True, Kind.FOLLOWED_AUTHOR_PAPER: False, Kind.SUBMISSION: True}


class NotificationMail(models.Model):
    """One batched mail to one user. Its notifications are claimed (their `mail` set, where it was
    still empty) in the transaction that creates it, before the mail server is contacted: of two
    senders at once, each notification goes to exactly one."""

    class Status(models.TextChoices):
        SENDING = "sending"  # claimed; the mail server has not accepted it (yet)
        SENT = "sent"
        FAILED = "failed"  # refused permanently

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notification_mails")
    to = models.EmailField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENDING)
    claimed_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "claimed_at"])]

    def __str__(self) -> str:
        return f"notifications to {self.to} ({self.status})"


class Notification(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                              help_text="Who replied or mentioned")
    paper = models.ForeignKey(Paper, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    comment = models.ForeignKey(Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    submission = models.ForeignKey(PendingSubmission, null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    wants_email = models.BooleanField(default=False, help_text="Its kind was to be mailed when it was made")
    mail = models.ForeignKey(NotificationMail, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="notifications")
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            models.Index(fields=["user"], condition=Q(read_at__isnull=True), name="notification_unread"),
            models.Index(fields=["created_at"], condition=Q(wants_email=True, mail__isnull=True),
                         name="notification_mail_pending"),
        ]
        # Once per thing: an edited comment, a retried task or a second call notifies nobody twice.
        constraints = [
            models.UniqueConstraint(fields=["user", "comment"], condition=Q(kind=Kind.REPLY),
                                    name="one_reply_notification"),
            models.UniqueConstraint(fields=["user", "comment"], condition=Q(kind=Kind.MENTION),
                                    name="one_mention_notification"),
            models.UniqueConstraint(fields=["user", "paper"], condition=Q(kind=Kind.FOLLOWED_AUTHOR_PAPER),
                                    name="one_followed_author_paper_notification"),
            models.UniqueConstraint(fields=["user", "submission"], condition=Q(kind=Kind.SUBMISSION),
                                    name="one_submission_notification"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"


class NotificationPreference(models.Model):
    """A user's choice for one kind; without a row, the kind's defaults (on the page; BY_EMAIL_DEFAULT)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notification_preferences")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    on_site = models.BooleanField(default=True)
    by_email = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="one_preference_per_kind")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: site {self.on_site}, email {self.by_email}"
