"""Bare http(s) URLs in text, found once for every place that makes them links (abstracts and
arXiv comments through the `linked` filters, comments through community.markdown).

Only http and https are ever linked (no javascript:, data:, mailto:); a URL ends at whitespace,
quotes or angle brackets, and sentence punctuation right after it ("see https://x.org/a.") is
not part of it, nor is a closing bracket it did not open ("(code: https://x.org/b)")."""

import re
from collections.abc import Iterator

from django.utils.html import escape

URL_IN_TEXT = re.compile(r"\bhttps?://[^\s<>\"'`]+", re.I)
REL = "nofollow noopener ugc"  # what a link someone else wrote carries
_TRAILING = ".,;:!?*_~"
_PAIRS = {")": "(", "]": "[", "}": "{"}


def _trimmed(url: str) -> str:
    while url:
        last = url[-1]
        if last in _TRAILING or (last in _PAIRS and url.count(last) > url.count(_PAIRS[last])):
            url = url[:-1]
        else:
            break
    return url


def split_urls(text: str) -> Iterator[tuple[str, bool]]:
    """`text` in pieces, in order: (piece, True) for each URL, (piece, False) for what is between."""
    last = 0
    for match in URL_IN_TEXT.finditer(text):
        url = _trimmed(match.group(0))
        if "://" not in url or url.endswith("://"):
            continue
        if match.start() > last:
            yield text[last:match.start()], False
        yield url, True
        last = match.start() + len(url)
    if last < len(text):
        yield text[last:], False


def link(url: str, label_html: str) -> str:
    """An <a> to an http(s) URL from split_urls; `label_html` is already escaped."""
    return f'<a href="{escape(url)}" rel="{REL}">{label_html}</a>'
