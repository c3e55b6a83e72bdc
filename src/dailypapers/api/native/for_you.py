"""GET /api/v1/me/for-you: the token user's For you list, the same ranking as the page
(dailypapers.personal.selectors.for_you). Reading it records no impressions: only the page does,
so a client polling the API does not make papers fade."""

from datetime import date
from typing import Literal

from ninja import Field, Query, Router, Schema

from dailypapers.personal import selectors as personal

from .. import schemas as s
from . import serializers as out
from .auth import token_auth
from .errors import AUTH_ERRORS, responses


class ReasonOut(Schema):
    source: Literal["upvoted", "saved", "followed", "organization", "search", "near-follow", "near-search"] = Field(
        description="followed: by an author you follow (author); organization: from an organization you follow "
                    "(via); search: a search you follow matches its words (via: the query); upvoted, saved: near "
                    "that profile paper, which you upvoted or saved; near-follow: near that paper of an author or "
                    "organization you follow (via); near-search: near the meaning of a search you follow (via)")
    arxiv_id: str | None = Field(description="The profile paper this one is nearest to (upvoted, saved, near-follow)")
    title: str | None = Field(description="That paper's title")
    author: str | None = Field(description="The author you follow, as named on the paper (followed only)")
    via: str | None = Field(description="The organization, author or search you follow it through")


class ForYouItemOut(Schema):
    rank: int = Field(description="Position in the list, from 1")
    score: float = Field(description="Interest (soft maximum of cosines to your profile: upvoted and saved papers, "
                                     "the newest papers of what you follow, your followed searches' meaning; with a "
                                     "quarter of the cosine to their centroid) + a recency nudge + the follow lift, "
                                     "minus the Not interested and fade penalties; for a new user, the trending score")
    reason: ReasonOut | None = Field(description="Why the paper is here; null in the cold-start (trending) list")
    faded: bool = Field(description=f"Shown on {personal.FADE_AFTER_IMPRESSIONS} or more visits without a click")
    day: date | None = Field(description="The daily list the paper is on")
    paper: s.PaperOut


class ForYouOut(Schema):
    period: Literal["day", "week", "month"]
    start: date | None
    end: date | None
    cold_start: bool = Field(description="True when you have no upvotes, saves or follows yet: the trending list "
                                         "instead")
    include: list[str] = Field(description="Your include keywords (papers must mention one)")
    exclude: list[str] = Field(description="Your exclude keywords")
    count: int = Field(description="Papers in the window after your filters")
    items: list[ForYouItemOut]


class ForYouParams(Schema):
    period: Literal["day", "week", "month"] = Field("week", description="The window: the newest day, 7 days or 30 days")
    limit: int = Field(personal.PAGE_SIZE, ge=1, le=s.MAX_PER_PAGE)


router = Router(tags=["community"])


@router.get("/me/for-you", auth=token_auth, response=responses(ForYouOut, errors=AUTH_ERRORS),
            summary="Your For you list (token needed)")
def for_you(request, params: Query[ForYouParams]):
    feed = personal.for_you(user=request.auth, period=params.period, limit=params.limit)
    shaped = out.papers([c.paper for c in feed.cards])
    return {
        "period": feed.period, "start": feed.start, "end": feed.end, "cold_start": feed.cold_start,
        "include": feed.include, "exclude": feed.exclude, "count": feed.total,
        "items": [
            {"rank": i + 1, "score": c.rank_score, "faded": c.faded, "day": c.entry.day if c.entry else None,
             "reason": c.reason and {"source": c.reason.source, "arxiv_id": c.reason.arxiv_id or None,
                                     "title": (c.reason.title or None) if c.reason.arxiv_id else None,
                                     "author": c.reason.author or None, "via": c.reason.via or None},
             "paper": paper}
            for i, (c, paper) in enumerate(zip(feed.cards, shaped))
        ],
    }

