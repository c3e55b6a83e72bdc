"""Follows: a user follows an author (a name, and whoever claimed it), an organization, or a saved
search (a query with its filters). Each follow has a section on /follows, private RSS/Atom feeds
(behind the user's FeedToken) and, when `digest` is set, a section in the user's email digest."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from dailypapers.limits import MAX_QUERY_LENGTH
from dailypapers.papers.models import Author, Organization

# A saved search's canonical query string (the query and every filter in use), which keeps it unique per user.
MAX_SEARCH_KEY_LENGTH = 1000


class Follow(models.Model):
    class Kind(models.TextChoices):
        AUTHOR = "author"
        ORGANIZATION = "organization"
        SEARCH = "search"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    author = models.ForeignKey(Author, null=True, blank=True, on_delete=models.CASCADE, related_name="followers")
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.CASCADE,
                                     related_name="followers")
    query = models.CharField(max_length=MAX_QUERY_LENGTH, blank=True, help_text="A saved search's words")
    filters = models.JSONField(default=dict, blank=True,
                               help_text="A saved search's filters, as the search page's parameters")
    search_key = models.CharField(max_length=MAX_SEARCH_KEY_LENGTH, blank=True, editable=False)
    digest = models.BooleanField(default=False, help_text="A section of the user's email digest")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "author"], condition=Q(kind="author"), name="follow_author_once"),
            models.UniqueConstraint(fields=["user", "organization"], condition=Q(kind="organization"),
                                    name="follow_organization_once"),
            models.UniqueConstraint(fields=["user", "search_key"], condition=Q(kind="search"),
                                    name="follow_search_once"),
            # Exactly the target of its kind is set.
            models.CheckConstraint(
                condition=(Q(kind="author", author__isnull=False, organization__isnull=True, query="")
                           | Q(kind="organization", organization__isnull=False, author__isnull=True, query="")
                           | Q(kind="search", author__isnull=True, organization__isnull=True) & ~Q(query="")),
                name="follow_has_its_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} follows {self.label}"

    @property
    def label(self) -> str:
        if self.kind == self.Kind.AUTHOR:
            return self.author.name if self.author else ""
        if self.kind == self.Kind.ORGANIZATION:
            return self.organization.name if self.organization else ""
        return f"“{self.query}”" + (f" ({', '.join(f'{k}: {v}' for k, v in self.filters.items())})"
                                    if self.filters else "")


class FeedToken(models.Model):
    """The secret in the addresses of a user's follow feeds. Kept as it is (not hashed): the follows
    page shows the feed addresses every time, and the token reads those feeds and nothing else.
    Rotating it replaces the value, so every old address answers 404."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feed_token")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"feed token of {self.user_id}"
