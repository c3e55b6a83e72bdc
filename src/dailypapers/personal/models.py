"""What the For you feed remembers per user beyond votes and saves: papers marked Not interested
(a negative profile), how often a paper was shown (so skipped ones fade), and keyword filters."""

from django.conf import settings
from django.db import models

from dailypapers.papers.models import Paper

MAX_KEYWORDS_LENGTH = 500


class NotInterested(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="not_interested")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "not interested"
        constraints = [models.UniqueConstraint(fields=["user", "paper"], name="not_interested_once")]

    def __str__(self) -> str:
        return f"{self.user_id} not interested in {self.paper_id}"


class Impression(models.Model):
    """One row per (user, paper): how many separate visits of For you showed the paper."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="impressions")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="+")
    count = models.PositiveIntegerField(default=0)
    last_shown_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "paper"], name="one_impression_row")]

    def __str__(self) -> str:
        return f"{self.user_id} shown {self.paper_id} {self.count}x"


class FeedFilters(models.Model):
    """Include/exclude keywords for For you, comma-separated as typed."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feed_filters")
    include = models.CharField(max_length=MAX_KEYWORDS_LENGTH, blank=True,
                               help_text="Only papers mentioning one of these (title or abstract)")
    exclude = models.CharField(max_length=MAX_KEYWORDS_LENGTH, blank=True,
                               help_text="Never papers mentioning one of these")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "feed filters"

    def __str__(self) -> str:
        return f"{self.user_id}: +{self.include} -{self.exclude}"
