from django.conf import settings
from django.db import models


class Subscription(models.Model):
    class Frequency(models.TextChoices):
        DAILY = "daily", "Daily (weekdays)"
        WEEKLY = "weekly", "Weekly"

    email = models.EmailField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="subscriptions"
    )
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.DAILY)
    topic = models.CharField(max_length=250, blank=True, help_text="A saved search: only papers matching it")
    min_upvotes = models.PositiveIntegerField(default=0)
    personal = models.BooleanField(default=False, help_text="The period's papers nearest to what the user upvoted")
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True, help_text="Double opt-in: nothing is sent before")
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    inactive_reason = models.CharField(max_length=300, blank=True, help_text="e.g. the mail server refused the address")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["email", "frequency", "topic"], name="one_subscription_per_email_kind")
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.frequency}{', ' + self.topic if self.topic else ''})"

    @property
    def active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None and not self.inactive_reason


class DigestDelivery(models.Model):
    """One digest for one subscription and one period. The unique constraint is what makes
    sending exactly-once: a run claims the row before it talks to the mail server."""

    class Status(models.TextChoices):
        SENDING = "sending"  # claimed; the mail server has not accepted it (yet)
        SENT = "sent"
        FAILED = "failed"  # refused permanently

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    period = models.CharField(max_length=20, help_text="day:YYYY-MM-DD or week:YYYY-Www")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENDING)
    papers = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name_plural = "digest deliveries"
        constraints = [models.UniqueConstraint(fields=["subscription", "period"], name="one_digest_per_period")]

    def __str__(self) -> str:
        return f"{self.period} digest to {self.subscription.email} ({self.status})"
