"""/api/v1/me/notifications: the token user's notifications (what the /notifications page lists,
per their on-page preferences, newest first), and marking them read."""

from datetime import datetime
from typing import Annotated, Literal

from ninja import Field, Query, Router, Schema

from dailypapers.errors import Refused
from dailypapers.notifications import selectors, services
from dailypapers.notifications.models import Notification

from .. import schemas as s
from . import serializers as out
from .auth import token_auth
from .errors import AUTH_ERRORS, responses


class NotificationOut(Schema):
    id: int
    kind: Literal["reply", "mention", "followed_author_paper", "submission"]
    text: str = Field(description="What happened, in a sentence (as on the page)")
    url: str = Field(description="Where it happened, on this site (from its root)")
    excerpt: str = Field(description="The comment's first words (replies and mentions), else empty")
    actor: str | None = Field(description="Who replied or mentioned you (username)")
    paper_id: str | None = Field(description="The paper's arXiv id")
    comment_id: int | None
    created_at: datetime
    read: bool


class NotificationPage(Schema):
    count: int
    page: int
    per_page: int
    pages: int
    unread: int = Field(description="Unread notifications in all pages")
    items: list[NotificationOut]


class NotificationParams(s.PageParams):
    unread: bool = Field(False, description="Only the unread ones")


class MarkReadIn(Schema):
    ids: list[Annotated[int, Field(ge=1, le=2**53)]] | None = Field(None, max_length=s.MAX_PER_PAGE,
                                  description="The notifications to mark read; omitted or null: all of them")


class MarkReadOut(Schema):
    marked: int = Field(description="How many were unread and are read now")
    unread: int


router = Router(tags=["notifications"])


def _shape(n: Notification) -> dict:
    shown = selectors.shown(n)
    return {"id": n.pk, "kind": n.kind, "text": shown.text, "url": shown.url, "excerpt": shown.excerpt,
            "actor": n.actor.username if n.actor else None, "paper_id": n.paper.arxiv_id if n.paper else None,
            "comment_id": n.comment_id, "created_at": n.created_at, "read": n.read_at is not None}


@router.get("/me/notifications", auth=token_auth, response=responses(NotificationPage, errors=AUTH_ERRORS),
            summary="Your notifications, newest first (token needed)")
def notifications(request, params: Query[NotificationParams]):
    page = params.paging()
    listed = selectors.visible(user=request.auth)
    if params.unread:
        listed = listed.filter(read_at__isnull=True)
    items = [_shape(n) for n in selectors.page_items(page.of(listed))]
    return {**out.page_of(listed.count(), page, items), "unread": selectors.unread_count(user=request.auth)}


@router.post("/me/notifications/read", auth=token_auth, response=responses(MarkReadOut, errors=AUTH_ERRORS | {404}),
             summary="Mark notifications read: the ones named, or all (token needed)")
def mark_read(request, data: MarkReadIn):
    if data.ids is not None:
        mine = set(selectors.visible(user=request.auth).filter(pk__in=data.ids).values_list("pk", flat=True))
        if missing := sorted(set(data.ids) - mine):
            raise Refused.not_found(f"You have no notification {', '.join(map(str, missing[:10]))}.")
    marked = services.mark_read(user=request.auth, notification_ids=data.ids)
    return {"marked": marked, "unread": selectors.unread_count(user=request.auth)}
