"""The one paging rule: pages numbered from 1, `per_page` items each, at least one page (an empty
list has one, empty, page). The search page, the search selector and the native API page this way.

The Hugging Face-compatible /api/daily_papers keeps its own address form — `p` from 0 and `limit`,
with a Link header to the next page — because the huggingface_hub client sends exactly that; it is
turned into a Page (p + 1) at the door, so the arithmetic is still this module's."""

from dataclasses import dataclass


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
