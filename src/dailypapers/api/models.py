import hashlib
import secrets

from django.conf import settings
from django.db import models

TOKEN_PREFIX = "dp_"


def hash_token(raw: str) -> str:
    """What is stored: the sha256 of the token (the token itself is shown once and never kept)."""
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def new_raw_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class ApiToken(models.Model):
    """A personal API token: `Authorization: Bearer <token>` acts as its user in the native API."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters of the token, so the owner can tell tokens apart on the page.
    prefix = models.CharField(max_length=12, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.user} / {self.name} ({self.prefix}…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None
