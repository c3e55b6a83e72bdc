"""Parsing the periods that lists are asked for — a day, an ISO week, a month — in one place,
for pages, feeds and both APIs. A bad value raises BadPeriod saying what to send instead."""

import re
from datetime import date, timedelta

# Periods are computed with date arithmetic (a month's end, a week's Sunday): stay far from
# date.min/date.max, where that arithmetic overflows.
MIN_YEAR, MAX_YEAR = 1000, 9998


class BadPeriod(ValueError):
    pass


def _in_years(first: date, value: str) -> date:
    if not MIN_YEAR <= first.year <= MAX_YEAR:
        raise BadPeriod(f"“{value}” is out of range: years {MIN_YEAR} to {MAX_YEAR}.")
    return first


def parse_day(value: str) -> date:
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError
        day = date.fromisoformat(value)
    except ValueError:
        raise BadPeriod(f"“{value}” is not a date: use YYYY-MM-DD, e.g. 2026-03-16.") from None
    return _in_years(day, value)


def parse_week(value: str) -> date:
    """The Monday of an ISO week YYYY-Www."""
    match = re.fullmatch(r"(\d{4})-W(\d{2})", value)
    try:
        if not match:
            raise ValueError
        monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise BadPeriod(f"“{value}” is not an ISO week: use YYYY-Www, e.g. 2026-W12.") from None
    return _in_years(monday, value)


def parse_month(value: str) -> date:
    """The first day of a month YYYY-MM."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", value)
    try:
        if not match:
            raise ValueError
        first = date(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise BadPeriod(f"“{value}” is not a month: use YYYY-MM, e.g. 2026-03.") from None
    return _in_years(first, value)


def month_end(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
