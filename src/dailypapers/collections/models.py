"""Collections: a user's ordered lists of papers (Hugging Face's "Add to collection"), each paper
with a note. Every user has one default collection, the Reading list, that "Save" adds to."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from dailypapers.papers.models import Paper

MAX_TITLE_LENGTH = 100
MAX_DESCRIPTION_LENGTH = 1_000
MAX_NOTE_LENGTH = 2_000
READING_LIST_TITLE = "Reading list"


class Collection(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="paper_collections")
    title = models.CharField(max_length=MAX_TITLE_LENGTH)
    description = models.TextField(max_length=MAX_DESCRIPTION_LENGTH, blank=True)
    is_public = models.BooleanField(default=False, help_text="Anyone may read a public collection and its feed")
    is_default = models.BooleanField(default=False, help_text="The owner's Reading list, which Save adds to")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_default", "-updated_at"]
        constraints = [
            models.UniqueConstraint(fields=["owner"], condition=Q(is_default=True), name="one_reading_list_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.owner}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("collections:detail", args=[self.pk])


class CollectionItem(models.Model):
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="items")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="collection_items")
    position = models.PositiveIntegerField()
    note = models.TextField(max_length=MAX_NOTE_LENGTH, blank=True)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["collection", "paper"], name="paper_once_per_collection")]
        indexes = [models.Index(fields=["collection", "position"])]

    def __str__(self) -> str:
        return f"{self.collection_id}: {self.paper_id}"
