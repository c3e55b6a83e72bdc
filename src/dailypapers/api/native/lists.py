"""/api/v1/daily/…, /weekly/…, /monthly/…, /trending: the lists, paged. Periods are parsed, labelled
and stepped by papers.periods.Period, as on the pages."""

from ninja import Query, Router

from dailypapers.errors import Refused
from dailypapers.papers import selectors
from dailypapers.papers.periods import Period

from .. import schemas as s
from . import serializers as out
from .errors import responses

router = Router(tags=["daily lists"])

# Trending over everything listed in its window: far beyond any real list.
TRENDING_ALL = 10_000_000


def _daily_list(period: Period, cards, previous: str | None, following: str | None, paging: s.PageParams) -> dict:
    page = paging.paging()
    return {
        "period": period.kind, "label": period.value, "start": period.start, "end": period.end,
        "previous": previous, "next": following,
        **out.page_of(len(cards), page, out.listed(page.of(cards), first_rank=page.offset + 1)),
    }


def _listed_periods(period: Period, paging: s.PageParams) -> dict:
    """A week or a month: the papers listed in it; previous and next are the neighbouring periods."""
    return _daily_list(period, selectors.papers_of_period(period=period), period.previous.value, period.next.value,
                       paging)


@router.get("/daily/latest", response=responses(s.DailyListOut, errors={404}), summary="The newest daily list")
def daily_latest(request, paging: Query[s.PageParams]):
    day = selectors.latest_day()
    if day is None:
        raise Refused.not_found("There are no daily lists yet.")
    return daily(request, day.isoformat(), paging)


@router.get("/daily/{anytext:day}", response=responses(s.DailyListOut), summary="The list of one day (YYYY-MM-DD)")
def daily(request, day: str, paging: Query[s.PageParams]):
    """Previous and next are the nearest days that have lists (weekends and gaps skipped)."""
    period = Period.parse("day", day, field="date")
    before, after = selectors.day_before(day=period.start), selectors.day_after(day=period.start)
    return _daily_list(period, selectors.papers_of_period(period=period),
                       before.isoformat() if before else None, after.isoformat() if after else None, paging)


@router.get("/weekly/{anytext:week}", response=responses(s.DailyListOut),
            summary="The papers of an ISO week (YYYY-Www)")
def weekly(request, week: str, paging: Query[s.PageParams]):
    return _listed_periods(Period.parse("week", week, field="week"), paging)


@router.get("/monthly/{anytext:month}", response=responses(s.DailyListOut), summary="The papers of a month (YYYY-MM)")
def monthly(request, month: str, paging: Query[s.PageParams]):
    return _listed_periods(Period.parse("month", month, field="month"), paging)


@router.get("/trending", response=responses(s.TrendingOut), summary="Trending papers")
def trending(request, paging: Query[s.PageParams]):
    page = paging.paging()
    cards = selectors.trending(limit=TRENDING_ALL)
    return {"formula": selectors.TRENDING_FORMULA,
            **out.page_of(len(cards), page, out.listed(page.of(cards), first_rank=page.offset + 1))}
