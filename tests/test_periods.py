"""papers.periods.Period, the one home of days, ISO weeks and months, and the one refusal type as
every surface answers it: pages, feeds and both APIs agree on what a period is and on its bounds."""

from datetime import date

import pytest

from dailypapers.errors import Refused
from dailypapers.papers.periods import MAX_YEAR, MIN_YEAR, Period


@pytest.mark.parametrize("kind, value, start, end", [
    ("day", "2026-03-16", date(2026, 3, 16), date(2026, 3, 16)),
    ("week", "2026-W12", date(2026, 3, 16), date(2026, 3, 22)),
    ("week", "2026-W01", date(2025, 12, 29), date(2026, 1, 4)),  # an ISO week can start in the year before
    ("month", "2026-02", date(2026, 2, 1), date(2026, 2, 28)),
    ("month", "2024-02", date(2024, 2, 1), date(2024, 2, 29)),
    ("month", "2026-12", date(2026, 12, 1), date(2026, 12, 31)),
])
def test_parse_range_and_value_round_trip(kind, value, start, end):
    period = Period.parse(kind, value)
    assert (period.start, period.end, period.value) == (start, end, value)
    assert Period.from_key(period.key) == period


def test_neighbours_and_labels():
    week = Period.parse("week", "2026-W01")
    assert (week.previous.value, week.next.value) == ("2025-W52", "2026-W02")
    assert week.heading == "Week 01, 2026 · Dec 29 – Jan 4" and week.short_label == "Week 01"
    month = Period.parse("month", "2026-01")
    assert (month.previous.value, month.next.value) == ("2025-12", "2026-02")
    assert (month.heading, month.short_label) == ("January 2026", "Jan 2026")
    day = Period.parse("day", "2026-03-01")
    assert (day.previous.value, day.next.value) == ("2026-02-28", "2026-03-02")
    assert (day.heading, day.short_label) == ("Mar 1, 2026", "Mar 1")
    assert Period.containing("week", date(2026, 3, 19)) == Period("week", date(2026, 3, 16))


@pytest.mark.parametrize("kind, value, words", [
    ("day", "2026-02-30", "is not a date"), ("day", "2026-3-1", "is not a date"),
    ("day", "٢٠٢٦-٠٣-١٦", "is not a date"),
    ("week", "2026-W54", "is not an ISO week"), ("month", "2026-13", "is not a month"),
    ("day", f"{MIN_YEAR - 1:04d}-12-31", "out of range"), ("month", f"{MAX_YEAR + 1}-01", "out of range"),
])
def test_bad_values_are_refused_with_400(kind, value, words):
    with pytest.raises(Refused, match=words) as refused:
        Period.parse(kind, value)
    assert refused.value.status == 400


@pytest.mark.parametrize("path", ["/papers/date/0999-12-31", "/feeds/date/0999-12-31.rss",
                                  "/api/daily_papers?date=0999-12-31", "/api/v1/daily/0999-12-31"])
def test_one_set_of_year_bounds_everywhere(client, db, path):
    response = client.get(path)
    assert response.status_code == 400
    assert f"years {MIN_YEAR} to {MAX_YEAR}" in response.content.decode()


@pytest.mark.parametrize("path", ["/papers/date/1899-03-16", "/feeds/date/1899-03-16.rss",
                                  "/api/daily_papers?date=1899-03-16", "/api/v1/daily/1899-03-16"])
def test_an_old_but_valid_day_is_an_empty_list_everywhere(client, db, path):
    assert client.get(path).status_code == 200


def test_refused_carries_a_status_and_a_code():
    assert (Refused("x").status, Refused("x").code) == (400, "bad_request")
    assert Refused.not_found("gone").status == 404 and str(Refused.not_found("gone")) == "gone"
    assert Refused.too_many("slow down", retry_after=7).headers == {"Retry-After": "7"}
    with pytest.raises(ValueError):
        Refused("a server error is not a refusal", status=500)
