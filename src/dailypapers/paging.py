"""The one paging rule: pages numbered from 1, `per_page` items each, at least one page (an empty
list has one, empty, page). The search page, the search selector, the native API, the week and
month lists and the notifications page this way.

The Hugging Face-compatible /api/daily_papers keeps its own address form — `p` from 0 and `limit`,
with a Link header to the next page — because the huggingface_hub client sends exactly that; it is
turned into a Page (p + 1) at the door, so the arithmetic is still this module's."""

from dataclasses import dataclass

# Digits in a page number as sent in an address: more is not a page anyone reached by following links.
_MAX_PAGE_DIGITS = 6


@dataclass(frozen=True)
class Page:
    number: int = 1
    per_page: int = 20

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.per_page

    @property
    def stop(self) -> int:
        return self.offset + self.per_page

    def of(self, items):
        """This page's slice of a list or a queryset."""
        return items[self.offset:self.stop]


def page_count(count: int, per_page: int) -> int:
    return max(1, -(-count // per_page))


class BadPage(ValueError):
    """The ?page= value is not a page number."""


class NoSuchPage(LookupError):
    """The page number is past the last page."""


@dataclass(frozen=True)
class ListPage:
    """One page of a long list (a week or a month can list hundreds of papers), with what its "less"
    and "more" links say: the top N, then a link to the next N."""

    items: list
    page: Page
    total: int

    @property
    def number(self) -> int:
        return self.page.number

    @property
    def size(self) -> int:
        return self.page.per_page

    @property
    def pages(self) -> int:
        return page_count(self.total, self.size)

    @property
    def first(self) -> int:
        return self.page.offset + 1

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


def page_of(items, *, raw: str | None, size: int, noun: str = "papers") -> ListPage:
    """Page `raw` (the query parameter as sent; empty or missing: the first) of `items`, a list or
    a queryset (counted, then only the page is fetched)."""
    raw = (raw or "1").strip()
    if not raw.isdigit() or len(raw) > _MAX_PAGE_DIGITS or int(raw) < 1:
        raise BadPage(f"“{raw[:20]}” is not a page number (1, 2, 3…).")
    page = Page(number=int(raw), per_page=size)
    total = len(items) if isinstance(items, list) else items.count()
    pages = page_count(total, size)
    if page.number > pages:
        plural = "s" if pages > 1 else ""
        raise NoSuchPage(f"There is no page {page.number}: the {total} {noun} fill {pages} page{plural}.")
    return ListPage(items=list(page.of(items)), page=page, total=total)
