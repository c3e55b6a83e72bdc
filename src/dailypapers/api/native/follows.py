"""/api/v1/me/follows: the token user's follows of authors, organizations and saved searches (the
same services as /follows). Each follow's private feeds are in `feeds`; a follow's papers are its
author's, organization's or search's own endpoints."""

from datetime import date, datetime
from typing import Literal

from django.urls import reverse
from ninja import Field, Router, Schema, Status

from dailypapers.errors import Refused
from dailypapers.follows import selectors as follows
from dailypapers.follows import services
from dailypapers.follows.models import Follow
from dailypapers.papers.models import Author, Organization

from .. import schemas as s
from . import serializers as out
from .auth import limit_writes, token_auth
from .errors import AUTH_ERRORS, responses

MAX_ID = 2**63 - 1


class SearchFiltersIn(Schema):
    """The search page's filters; a saved search keeps those given."""

    published_from: date | None = Field(None, description="Published on or after (YYYY-MM-DD)")
    published_to: date | None = Field(None, description="Published on or before (YYYY-MM-DD)")
    category: s.Category = Field("", description="An arXiv category, e.g. cs.CL")
    organization: s.Slug = Field("", description="An organization's slug")
    author: s.AuthorName = Field("", description="An author's full name")
    listed: bool = Field(False, description="Only papers on some daily list")


class FollowIn(Schema):
    kind: Literal["author", "organization", "search"]
    author_id: int | None = Field(None, ge=1, le=MAX_ID, description="kind author: the author's id (/authors/{id})")
    organization: s.Slug | None = Field(None, description="kind organization: its slug")
    query: s.SearchQuery | None = Field(None, description="kind search: the words searched for")
    filters: SearchFiltersIn | None = Field(None, description="kind search: its filters")
    digest: bool = Field(False, description="A section in your email digest")


class AuthorRef(Schema):
    id: int
    name: str
    url: str


class FeedsOut(Schema):
    rss: str
    atom: str


class FollowOut(Schema):
    id: int
    kind: Literal["author", "organization", "search"]
    label: str = Field(description="What is followed, in words")
    author: AuthorRef | None
    organization: s.OrganizationRef | None
    query: str | None
    filters: dict[str, str] = Field(description="A saved search's filters, as the search page's parameters")
    digest: bool
    created_at: datetime
    url: str = Field(description="The page of what is followed (an author's, an organization's, the search's)")
    feeds: FeedsOut = Field(description="Private feed addresses (they hold your feed token; /follows makes new ones)")


class FollowList(Schema):
    count: int
    items: list[FollowOut]


router = Router(tags=["follows"])


def _shaped(follow: Follow, token: str) -> dict:
    def feed(fmt: str) -> str:
        return reverse("feeds:follow", kwargs={"token": token, "pk": follow.pk, "fmt": fmt})

    return {
        "id": follow.pk, "kind": follow.kind, "label": follow.label,
        "author": follow.author and {"id": follow.author.pk, "name": follow.author.name,
                                     "url": follow.author.get_absolute_url()},
        "organization": out.organization_ref(follow.organization), "query": follow.query or None,
        "filters": follow.filters, "digest": follow.digest, "created_at": follow.created_at,
        "url": follows.link_of(follow), "feeds": {"rss": feed("rss"), "atom": feed("atom")},
    }


@router.get("/me/follows", auth=token_auth, response=responses(FollowList, errors=AUTH_ERRORS),
            summary="What you follow, newest first (token needed)")
def list_follows(request):
    token = services.feed_token(user=request.auth)
    items = [_shaped(f, token) for f in follows.follows_of(user=request.auth)]
    return {"count": len(items), "items": items}


def _follow(user, data: FollowIn) -> tuple[Follow, bool]:
    if data.kind == "author":
        author = Author.objects.filter(pk=data.author_id).first() if data.author_id else None
        if author is None:
            raise Refused.not_found("Say which author to follow: author_id, an author's id here.")
        return services.follow_author(user=user, author=author)
    if data.kind == "organization":
        org = Organization.objects.filter(slug=data.organization).first() if data.organization else None
        if org is None:
            raise Refused.not_found("Say which organization to follow: organization, its slug here.")
        return services.follow_organization(user=user, organization=org)
    if not data.query:
        raise Refused("A saved search needs a query.", status=422)
    given = data.filters.model_dump(exclude_defaults=True) if data.filters else {}
    filters = {k: "on" if v is True else v.isoformat() if isinstance(v, date) else v for k, v in given.items()}
    return services.follow_search(user=user, query=data.query, filters=filters)


@router.post("/me/follows", auth=token_auth,
             response={**responses(FollowOut, ok_status=201, errors=AUTH_ERRORS | {404, 409}), 200: FollowOut},
             summary="Follow an author, an organization or a search (token needed); 200 if already followed")
def create_follow(request, data: FollowIn):
    limit_writes(request, "RATE_COLLECTION")
    follow, made = _follow(request.auth, data)
    if follow.digest != data.digest:
        services.set_digest(user=request.auth, follow=follow, digest=data.digest)
    return Status(201 if made else 200, _shaped(follow, services.feed_token(user=request.auth)))


@router.delete("/me/follows/{follow_id}", auth=token_auth,
               response={**responses(None, ok_status=204, errors=AUTH_ERRORS | {404})},
               summary="Unfollow (token needed)")
def delete_follow(request, follow_id: int):
    limit_writes(request, "RATE_COLLECTION")
    follow = follows.follow_of(user=request.auth, pk=follow_id)
    services.unfollow(user=request.auth, follow=follow)
    return Status(204, None)
