"""Long lists in pages: a week or a month can list hundreds of papers (one month of the demo: 631
cards, 1.7 MB of HTML), so their pages show the top N, then a link to the next N."""

from dataclasses import dataclass


class BadPage(ValueError):
    """The ?page= value is not a page number."""


class NoSuchPage(LookupError):
    """The page number is past the last page."""


@dataclass(frozen=True)
class ListPage:
    items: list
    number: int  # 1-based
    pages: int
    total: int
    size: int

    @property
    def first(self) -> int:
        return (self.number - 1) * self.size + 1

    @property
    def last(self) -> int:
        return self.first + len(self.items) - 1

    @property
    def next_number(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None

    @property
    def previous_number(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next_first(self) -> int:
        return self.last + 1

    @property
    def next_last(self) -> int:
        return min(self.last + self.size, self.total)

    @property
    def previous_first(self) -> int:
        return self.first - self.size

    @property
    def previous_last(self) -> int:
        return self.first - 1


def page_of(items: list, *, raw: str | None, size: int) -> ListPage:
    """Page `raw` (the query parameter as sent; empty or missing: the first) of `items`."""
    raw = (raw or "1").strip()
    if not raw.isdigit() or len(raw) > 6 or int(raw) < 1:
        raise BadPage(f"“{raw[:20]}” is not a page number (1, 2, 3…).")
    number = int(raw)
    pages = max(1, -(-len(items) // size))
    if number > pages:
        plural = "s" if pages > 1 else ""
        raise NoSuchPage(f"There is no page {number}: the {len(items)} papers fill {pages} page{plural}.")
    start = (number - 1) * size
    return ListPage(items=items[start:start + size], number=number, pages=pages, total=len(items), size=size)
