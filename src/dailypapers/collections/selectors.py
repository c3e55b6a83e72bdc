"""Reads of collections. A private collection exists only for its owner: anyone else gets None."""

from django.db.models import Count, Prefetch, QuerySet

from dailypapers.papers.models import Paper
from dailypapers.papers.records import normal_title
from dailypapers.papers.selectors import card_papers
from dailypapers.search.keyword import Filters
from dailypapers.search.selectors import search_papers

from .models import Collection, CollectionItem


def visible_collection(*, pk: int, viewer) -> Collection | None:
    collection = Collection.objects.select_related("owner").filter(pk=pk).first()
    if collection is None or not (collection.is_public or collection.owner_id == getattr(viewer, "pk", None)):
        return None
    return collection


def items(*, collection: Collection) -> list[CollectionItem]:
    """The collection's papers in order, with what a card shows."""
    return list(
        collection.items.order_by("position").prefetch_related(Prefetch("paper", queryset=card_papers()))
    )


def papers(*, collection: Collection) -> list[Paper]:
    return [item.paper for item in items(collection=collection)]


def collections_of(*, owner, viewer) -> QuerySet[Collection]:
    """A user's collections as the viewer may see them (all for the owner, public ones for others)."""
    mine = owner.pk == getattr(viewer, "pk", None)
    collections = Collection.objects.filter(owner=owner).annotate(size=Count("items"))
    return collections if mine else collections.filter(is_public=True)


def saved_paper_ids(*, user, paper_ids: list[int]) -> set[int]:
    """Which of these papers are on the user's Reading list (one query)."""
    if not user.is_authenticated or not paper_ids:
        return set()
    return set(
        CollectionItem.objects.filter(collection__owner=user, collection__is_default=True, paper_id__in=paper_ids)
        .values_list("paper_id", flat=True)
    )


def collections_holding(*, user, paper: Paper) -> set[int]:
    """The ids of the user's collections that hold this paper."""
    if not user.is_authenticated:
        return set()
    items = CollectionItem.objects.filter(collection__owner=user, paper=paper)
    return set(items.values_list("collection_id", flat=True))


def paper_titled(*, title: str) -> Paper | None:
    """The paper with exactly this title (case and punctuation aside), found through search, which
    puts an exact title first."""
    wanted = normal_title(title)
    if not wanted:
        return None
    results = search_papers(query=title[:250], filters=Filters(), per_page=3)
    return next((c.paper for c in results.cards if normal_title(c.paper.title) == wanted), None)
