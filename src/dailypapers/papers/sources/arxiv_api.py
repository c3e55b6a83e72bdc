"""arXiv search API (Atom feeds): a query or a list of ids, paged politely.

https://info.arxiv.org/help/api/user-manual.html — one request every 3 seconds,
at most 2000 results per request; results are paged with start/max_results and
the feed says how many there are in opensearch:totalResults.
"""

import logging
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from datetime import datetime

from django.conf import settings

from ..records import PaperRecord, Skipped, make_record
from .http import SourceError, fetch

logger = logging.getLogger(__name__)

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "arxiv": "http://arxiv.org/schemas/atom",
    "opensearch": "http://a9.com/-/spec/opensearch/1.1/",
}
SORT_BY = ("relevance", "lastUpdatedDate", "submittedDate")
MAX_PAGE_SIZE = 2000  # arXiv refuses larger pages


def fetch_records(
    *,
    query: str = "",
    id_list: Sequence[str] = (),
    max_results: int | None = None,
    page_size: int = 100,
    sort_by: str = "relevance",
) -> Iterator[PaperRecord | Skipped]:
    """The papers matching query and/or id_list, at most max_results of them (None: all the feed has)."""
    if not query and not id_list:
        raise SourceError("arXiv API: give a search query or a list of ids")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise SourceError(f"arXiv API: page size must be between 1 and {MAX_PAGE_SIZE}, not {page_size}")
    params = {
        "search_query": query,
        "id_list": ",".join(id_list),
        "sortBy": sort_by,
        "sortOrder": "descending",
    }
    start = 0
    while max_results is None or start < max_results:
        size = page_size if max_results is None else min(page_size, max_results - start)
        response = fetch(
            settings.ARXIV_API_URL,
            params={**params, "start": start, "max_results": size},
            min_interval=settings.ARXIV_REQUEST_PAUSE_SECONDS,
            # A bad query comes back as 400 with an Atom feed that says what is wrong.
            accept_statuses={400},
        )
        total, entries = parse_feed(response.content)
        if response.status_code == 400:  # refused, and the feed did not say why
            raise SourceError(f"arXiv API refused {response.url} (HTTP 400)")
        for entry in entries:
            yield entry_record(entry)
        start += len(entries)
        if not entries or start >= total:
            if start < total:
                # arXiv sometimes answers an empty page mid-way; stopping is safer than looping.
                logger.warning("arXiv API returned an empty page at %d of %d results; stopping", start, total)
            return


def parse_feed(content: bytes) -> tuple[int, list[ET.Element]]:
    """(totalResults, entries) of one Atom page. arXiv's error feed becomes a SourceError."""
    try:
        root = ET.fromstring(content)
    except ET.ParseError as exc:
        raise SourceError(f"arXiv API returned unreadable XML ({exc})") from None
    if root.tag != f"{{{NS['atom']}}}feed":
        raise SourceError(f"arXiv API returned something other than an Atom feed ({root.tag})")
    entries = root.findall("atom:entry", NS)
    for entry in entries:
        if "/api/errors" in entry.findtext("atom:id", "", NS):
            message = " ".join(entry.findtext("atom:summary", "", NS).split()) or "unknown error"
            raise SourceError(f"arXiv API: {message}")
    total_text = root.findtext("opensearch:totalResults", "", NS).strip()
    try:
        total = int(total_text)
    except ValueError:
        raise SourceError(f"arXiv API feed has no usable totalResults ({total_text!r})") from None
    return total, entries


def entry_record(entry: ET.Element) -> PaperRecord | Skipped:
    raw_id = entry.findtext("atom:id", "", NS)
    primary = entry.find("arxiv:primary_category", NS)
    categories = [primary.get("term", "")] if primary is not None else []
    for category in entry.findall("atom:category", NS):
        term = category.get("term", "")
        if term and term not in categories:
            categories.append(term)
    try:
        published_at = _timestamp(entry.findtext("atom:published", None, NS))
        updated_at = _timestamp(entry.findtext("atom:updated", None, NS))
    except ValueError as exc:
        return Skipped(raw_id or "arXiv API entry", f"bad date: {exc}")
    return make_record(
        where=raw_id or "arXiv API entry",
        raw_id=raw_id,
        title=entry.findtext("atom:title", None, NS),
        abstract=entry.findtext("atom:summary", None, NS),
        authors=[author.findtext("atom:name", "", NS) for author in entry.findall("atom:author", NS)],
        categories=[c for c in categories if c],
        published_at=published_at,
        updated_at=updated_at,
        comments=entry.findtext("arxiv:comment", None, NS),
        journal_ref=entry.findtext("arxiv:journal_ref", None, NS),
        doi=entry.findtext("arxiv:doi", None, NS),
    )


def _timestamp(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.strip()) if text and text.strip() else None
