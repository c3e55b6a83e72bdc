"""Writes of the API app: personal API tokens."""

from datetime import timedelta

from django.utils import timezone

from dailypapers.community import services as community

from .models import ApiToken, hash_token, new_raw_token

MAX_ACTIVE_TOKENS = 50
MAX_NAME_LENGTH = 100
# last_used_at is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenRefused(Exception):
    """str() says why, for the user."""


def create_token(*, user, name: str) -> tuple[ApiToken, str]:
    """A new token for `user`; returns it and the raw value, which is shown once and not stored."""
    try:
        community.ensure_can_post(user)  # a banned user's token would only be refused at every write
    except community.Refused as exc:
        raise TokenRefused(str(exc)) from exc
    name = " ".join(name.split())
    if not name:
        raise TokenRefused("Give the token a name, e.g. the script that will use it.")
    if len(name) > MAX_NAME_LENGTH:
        raise TokenRefused(f"A token name can be at most {MAX_NAME_LENGTH} characters.")
    if ApiToken.objects.filter(user=user, revoked_at=None).count() >= MAX_ACTIVE_TOKENS:
        raise TokenRefused(f"You have {MAX_ACTIVE_TOKENS} active tokens, the most allowed: revoke one first.")
    raw = new_raw_token()
    token = ApiToken.objects.create(user=user, name=name, token_hash=hash_token(raw), prefix=raw[:10])
    return token, raw


def revoke_token(*, user, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(user=user, pk=token_id).first()
    if token is None:
        raise TokenRefused("There is no such token.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def user_for_token(raw: str):
    """The active user a raw token belongs to, or None (unknown, revoked, or the user is inactive)."""
    if not raw or len(raw) > 200:
        return None
    token = ApiToken.objects.select_related("user").filter(token_hash=hash_token(raw), revoked_at=None).first()
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
