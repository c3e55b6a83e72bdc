"""The periods lists are asked for — a day, an ISO week, a month — in one place, for pages, feeds,
both APIs and digests: parsing (one set of year bounds), the value written in URLs and API answers,
labels, the range of days, and the periods before and after. A bad value is refused (400) with what
to send instead."""

import re
from dataclasses import dataclass
from datetime import date, timedelta

from dailypapers.errors import Refused

# Periods are computed with date arithmetic (a month's end, a week's Sunday, the next period): stay
# far from date.min/date.max, where that arithmetic overflows.
MIN_YEAR, MAX_YEAR = 1000, 9998
KINDS = ("day", "week", "month")

_FORMS = {
    "day": (r"(\d{4})-(\d{2})-(\d{2})", "is not a date: use YYYY-MM-DD, e.g. 2026-03-16"),
    "week": (r"(\d{4})-W(\d{2})", "is not an ISO week: use YYYY-Www, e.g. 2026-W12"),
    "month": (r"(\d{4})-(\d{2})", "is not a month: use YYYY-MM, e.g. 2026-03"),
}


def _first_day(kind: str, parts: tuple[str, ...]) -> date:
    """The period's first day from the parts of its written form; ValueError when there is none."""
    numbers = [int(p) for p in parts]
    if kind == "day":
        return date(*numbers)
    if kind == "week":
        return date.fromisocalendar(numbers[0], numbers[1], 1)
    return date(numbers[0], numbers[1], 1)


@dataclass(frozen=True, order=True)
class Period:
    """A day, an ISO week (starting on its Monday) or a month (starting on its first day)."""

    kind: str
    start: date

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"a period is one of {', '.join(KINDS)}, not {self.kind!r}")

    # --- making one ---------------------------------------------------------------------------

    @classmethod
    def parse(cls, kind: str, value: str, *, field: str = "") -> "Period":
        """The period written as in URLs and APIs: 2026-03-16, 2026-W12, 2026-03. `field` names the
        parameter in the refusal ("date: …")."""
        pattern, problem = _FORMS[kind]
        prefix = f"{field}: " if field else ""
        match = re.fullmatch(pattern, value, re.ASCII)
        try:
            if not match:
                raise ValueError
            start = _first_day(kind, match.groups())
        except ValueError:
            raise Refused(f"{prefix}“{value}” {problem}.", code="bad_period") from None
        if not MIN_YEAR <= start.year <= MAX_YEAR:
            raise Refused(f"{prefix}“{value}” is out of range: years {MIN_YEAR} to {MAX_YEAR}.", code="bad_period")
        return cls(kind, start)

    @classmethod
    def from_key(cls, key: str) -> "Period":
        """A period as its `key`: day:2026-03-16, week:2026-W12, month:2026-03 (digests, the CLI)."""
        kind, _, value = key.partition(":")
        refusal = Refused(f"not a period: {key!r} (use day:YYYY-MM-DD, week:YYYY-Www or month:YYYY-MM)",
                          code="bad_period")
        if kind not in KINDS:
            raise refusal
        try:
            return cls.parse(kind, value)
        except Refused:
            raise refusal from None

    @classmethod
    def containing(cls, kind: str, day: date) -> "Period":
        """The day itself, its ISO week or its month."""
        if kind == "week":
            return cls(kind, day - timedelta(days=day.weekday()))
        if kind == "month":
            return cls(kind, day.replace(day=1))
        return cls(kind, day)

    # --- what it is ---------------------------------------------------------------------------

    @property
    def end(self) -> date:
        """The last day, inclusive."""
        if self.kind == "week":
            return self.start + timedelta(days=6)
        if self.kind == "month":
            return (self.start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        return self.start

    @property
    def value(self) -> str:
        """As written in URLs and API answers: 2026-03-16, 2026-W12, 2026-03."""
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        return self.start.isoformat()

    @property
    def key(self) -> str:
        """Unique over kinds: day:2026-03-16, week:2026-W12, month:2026-03."""
        return f"{self.kind}:{self.value}"

    @property
    def week_number(self) -> int:
        return self.start.isocalendar()[1]

    @property
    def span(self) -> str:
        """First and last day, short: Mar 16 – Mar 22."""
        return f"{self.start:%b %-d} – {self.end:%b %-d}"

    @property
    def heading(self) -> str:
        """A list page's heading: Mar 16, 2026 / Week 12, 2026 · Mar 16 – Mar 22 / March 2026."""
        if self.kind == "week":
            return f"Week {self.week_number:02d}, {self.start.isocalendar()[0]} · {self.span}"
        if self.kind == "month":
            return f"{self.start:%B %Y}"
        return f"{self.start:%b %-d, %Y}"

    @property
    def short_label(self) -> str:
        """For previous/next links: Mar 16 / Week 12 / Mar 2026."""
        if self.kind == "week":
            return f"Week {self.week_number:02d}"
        if self.kind == "month":
            return f"{self.start:%b %Y}"
        return f"{self.start:%b %-d}"

    # --- neighbours ---------------------------------------------------------------------------

    @property
    def previous(self) -> "Period":
        """The period just before (for days: the calendar day before, lists or not)."""
        return Period.containing(self.kind, self.start - timedelta(days=1))

    @property
    def next(self) -> "Period":
        return Period.containing(self.kind, self.end + timedelta(days=1))
