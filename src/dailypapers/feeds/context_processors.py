"""Autodiscovery: <link rel="alternate"> tags for the feeds that match the page (no queries)."""

import re
from urllib.parse import urlencode

from django.urls import reverse

from dailypapers.search.selectors import MAX_QUERY_LENGTH

_KINDS = (("rss", "application/rss+xml", "RSS"), ("atom", "application/atom+xml", "Atom"))


def _both(title: str, url_name: str, *, query: str = "", **kwargs) -> list[dict]:
    return [
        {
            "type": mime,
            "title": f"{title} ({label})",
            "url": reverse(url_name, kwargs={"fmt": fmt, **kwargs}) + (f"?{query}" if query else ""),
        }
        for fmt, mime, label in _KINDS
    ]


def feeds_for(request) -> list[dict]:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return []
    name, kwargs = match.view_name, match.kwargs
    if name == "papers:daily":
        query = request.GET.get("q", "").strip()
        if query:
            if len(query) > MAX_QUERY_LENGTH:
                return []
            return _both(f"Search: {query}", "feeds:search", query=urlencode({"q": query}))
        return _both("Daily papers", "feeds:daily")
    if name == "papers:date":
        value = kwargs.get("value", "")
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return []
        return _both(f"Daily papers of {value}", "feeds:date", value=value)
    if name == "papers:trending":
        return _both("Trending papers", "feeds:trending")
    if name == "papers:organization":
        return _both(f"Papers from {kwargs['slug']}", "feeds:organization", slug=kwargs["slug"])
    if name == "papers:author":
        return _both("Papers by this author", "feeds:author", pk=kwargs["pk"])
    return []


def autodiscovery(request) -> dict:
    """`feeds`: the RSS/Atom feeds that match the page, for <link rel="alternate"> in base.html."""
    return {"feeds": feeds_for(request)}
