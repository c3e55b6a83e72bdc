"""RSS 2.0 and Atom feeds of the daily list, trending, a search, an organization, an author, a
public collection, and each of a user's follows (private).

Django's syndication framework writes them; two small generator subclasses give every
author of a paper its own element (Django writes one author per item).
"""

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.html import escape

from dailypapers.collections.selectors import papers as collection_papers
from dailypapers.collections.selectors import visible_collection
from dailypapers.errors import Refused
from dailypapers.follows.selectors import follow_for_token, follow_papers, link_of
from dailypapers.pagecache import cached_response
from dailypapers.papers import selectors
from dailypapers.papers.models import Author, DailyEntry, Organization, Paper
from dailypapers.papers.periods import Period
from dailypapers.papers.selectors import Card, author_names
from dailypapers.search.keyword import Filters
from dailypapers.search.selectors import MAX_QUERY_LENGTH, search_papers

MAX_ITEMS = 50
FORMATS = ("rss", "atom")
DC = "http://purl.org/dc/elements/1.1/"
# XML 1.0 cannot carry these; an abstract with one must not turn a feed into a 500.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(text: str | None) -> str:
    return _CONTROL.sub("", text or "")


class RssFeed(Rss201rev2Feed):
    def rss_attributes(self):
        return {**super().rss_attributes(), "xmlns:dc": DC}

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, {**item, "author_name": None})
        for name in item["authors"]:
            handler.addQuickElement("dc:creator", name)


class AtomFeed(Atom1Feed):
    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, {**item, "author_name": None})
        for name in item["authors"]:
            handler.startElement("author", {})
            handler.addQuickElement("name", name)
            handler.endElement("author")


GENERATORS = {"rss": RssFeed, "atom": AtomFeed}


@dataclass(frozen=True)
class Item:
    paper: Paper
    entry: DailyEntry | None
    authors: list[str]


def to_items(cards: list[Card]) -> list[Item]:
    """Cards with their authors' names, in one query."""
    names = author_names([c.paper for c in cards])
    return [Item(paper=c.paper, entry=c.entry, authors=names[c.paper.pk]) for c in cards]


@dataclass(frozen=True)
class Subject:
    """What a feed is about: its title, the page it mirrors and its items."""

    title: str
    description: str
    link: str
    items: list[Item]


class PaperFeed(Feed):
    """One instance per format; `subject(request, **kwargs)` builds what the feed shows."""

    item_guid_is_permalink = True

    def __init__(self, fmt: str):
        self.feed_type = GENERATORS[fmt]

    def __call__(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        def render() -> HttpResponse:
            return super(PaperFeed, self).__call__(request, *args, **kwargs)

        # The search feed reads ?q=; every other feed reads nothing from the query string. A bad
        # request raises Refused, which is answered (and never cached) as the 400 page.
        return cached_response(request, render, vary=request.GET.get("q", ""))

    def get_object(self, request, *args, **kwargs) -> Subject:
        return self.subject(request, **kwargs)

    def subject(self, request, *args: Any, **kwargs: Any) -> Subject:  # each feed names its URL's arguments
        raise NotImplementedError

    # The feed.
    def title(self, obj: Subject) -> str:
        return f"{settings.SITE_NAME}: {obj.title}"

    def link(self, obj: Subject) -> str:
        return obj.link

    def description(self, obj: Subject) -> str:
        return obj.description

    def subtitle(self, obj: Subject) -> str:  # Atom's name for the description
        return obj.description

    def author_name(self, obj: Subject) -> str:  # Atom: the feed's author, for entries without authors
        return settings.SITE_NAME

    def items(self, obj: Subject) -> list[Item]:
        return obj.items

    # Each paper.
    def item_title(self, item: Item) -> str:
        return clean(item.paper.title)

    def item_description(self, item: Item) -> str:
        # Readers take the description as HTML; an abstract is plain text ("a < b" must show as is).
        return escape(clean(item.paper.abstract))

    def item_link(self, item: Item) -> str:
        return item.paper.get_absolute_url()

    def item_pubdate(self, item: Item) -> datetime | None:
        """When it was listed; off the lists, when arXiv published it."""
        return item.entry.submitted_at if item.entry else item.paper.published_at

    def item_updateddate(self, item: Item) -> datetime:
        # Atom requires <updated> on every entry.
        return self.item_pubdate(item) or item.paper.modified_at

    def item_categories(self, item: Item) -> list[str]:
        return [clean(c) for c in item.paper.categories]

    def item_extra_kwargs(self, item: Item) -> dict:
        return {"authors": [clean(name) for name in item.authors]}


class DailyFeed(PaperFeed):
    """The latest daily list, or the list of a given day (`value`)."""

    def subject(self, request, value: str | None = None) -> Subject:
        day = Period.parse("day", value).start if value is not None else selectors.latest_day()
        link = reverse("papers:date", args=[day.isoformat()]) if value is not None and day else reverse("papers:daily")
        if day is None:
            return Subject(
                title="Daily papers", description="The daily list of papers (empty so far).", link=link, items=[]
            )
        return Subject(
            title=f"Daily papers of {Period('day', day).heading}" if value is not None else "Daily papers",
            description=f"The papers listed on {day:%A, %B %-d, %Y}, most upvoted first.",
            link=link,
            items=to_items(selectors.papers_of_day(day=day)[:MAX_ITEMS]),
        )


class TrendingFeed(PaperFeed):
    def subject(self, request) -> Subject:
        return Subject(
            title="Trending papers",
            description=f"Papers trending now: {selectors.TRENDING_FORMULA}.",
            link=reverse("papers:trending"),
            items=to_items(selectors.trending(limit=MAX_ITEMS)),
        )


def search_query(request) -> str:
    query = request.GET.get("q", "").strip()
    if not query:
        raise Refused("A search feed needs a query: add ?q=… to the address, e.g. /feeds/search.rss?q=diffusion.")
    if len(query) > MAX_QUERY_LENGTH:
        raise Refused(f"The query is too long: at most {MAX_QUERY_LENGTH} characters.")
    return query


class SearchFeed(PaperFeed):
    def subject(self, request) -> Subject:
        query = search_query(request)
        results = search_papers(query=query, filters=Filters(), per_page=MAX_ITEMS)
        return Subject(
            title=f"Search: {clean(query)}",
            description=f"Papers matching “{clean(query)}”, most relevant first.",
            link=reverse("papers:daily") + "?" + urlencode({"q": query}),
            items=to_items(results.cards),
        )


class OrganizationFeed(PaperFeed):
    def subject(self, request, slug: str) -> Subject:
        org = Organization.objects.filter(slug=slug).first()
        if org is None:
            raise Http404(f"No organization “{slug}” here.")
        papers = selectors.organization_papers(organization=org)[:MAX_ITEMS]
        return Subject(
            title=clean(org.name),
            description=f"Papers from {clean(org.name)}, newest first.",
            link=org.get_absolute_url(),
            items=to_items([Card(paper=p) for p in papers]),
        )


class AuthorFeed(PaperFeed):
    def subject(self, request, pk: str) -> Subject:
        author = Author.objects.filter(pk=int(pk)).first() if len(pk) < 19 else None
        if author is None:
            raise Http404(f"No author {pk} here.")
        papers = selectors.author_papers(author=author)[:MAX_ITEMS]
        return Subject(
            title=clean(author.name),
            description=f"Papers by {clean(author.name)}, newest first.",
            link=author.get_absolute_url(),
            items=to_items([Card(paper=p) for p in papers]),
        )


def feed_view(feed_class: type[PaperFeed]):
    """One view for both formats: the URL's `fmt` picks the generator."""
    feeds = {fmt: feed_class(fmt) for fmt in FORMATS}

    def view(request: HttpRequest, fmt: str, **kwargs) -> HttpResponse:
        return feeds[fmt](request, **kwargs)

    view.__name__ = view.__qualname__ = f"{feed_class.__name__}_view"
    return view


class CollectionFeed(PaperFeed):
    """A public collection, in its order (a private one is a 404, as its page is for others)."""

    def __call__(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        # Collections change without touching papers: their last change is part of the cache key.
        collection = visible_collection(pk=int(kwargs["pk"]), viewer=None)
        changed = collection.updated_at.isoformat() if collection else ""
        return cached_response(request, lambda: super(PaperFeed, self).__call__(request, *args, **kwargs), vary=changed)

    def subject(self, request, pk: str) -> Subject:
        collection = visible_collection(pk=int(pk), viewer=None)
        if collection is None:
            raise Http404(f"No public collection {pk} here.")
        papers = collection_papers(collection=collection)[:MAX_ITEMS]
        return Subject(
            title=clean(collection.title),
            description=clean(collection.description) or f"A collection of papers by {collection.owner.username}.",
            link=collection.get_absolute_url(),
            items=to_items([Card(paper=p) for p in papers]),
        )


class FollowFeed(PaperFeed):
    """One of a user's follows, at an address holding their private feed token: a wrong token, or a
    follow that is not the token's user's, is a 404. Never cached: a rotated token must stop at once."""

    def __call__(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = super(PaperFeed, self).__call__(request, *args, **kwargs)
        response["Cache-Control"] = "private, no-store"
        return response

    def subject(self, request, token: str, pk: str) -> Subject:
        follow = follow_for_token(token=token, pk=int(pk))
        if follow is None:
            raise Http404("No such feed here.")
        kind = {"author": "Papers by", "organization": "Papers from", "search": "Papers matching"}[follow.kind]
        return Subject(
            title=f"Following: {clean(follow.label)}",
            description=f"{kind} {clean(follow.label)}, newest first.",
            link=link_of(follow),
            items=to_items([Card(paper=p) for p in follow_papers(follow=follow, limit=MAX_ITEMS)]),
        )
