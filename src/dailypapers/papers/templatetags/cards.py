"""`{% card_body card highlight matched_fields controls %}`: the part of a paper's card that is the
same for every reader (title, abstract, organization, dates, links, counts), rendered once per
process and reused, with the reader's own controls put into its one hole.

Why: a list page draws 30–50 cards, and a card rendered by the template engine costs ~0.5 ms
(bench/recommend.py `latency`, the For you page), most of it this part. The template
papers/_card_body.html sees only a CardBody, never the paper, and the cache key is that CardBody's
values: whatever the body can show is in the key, so a cached body can't be stale (a field the
template reads that isn't in CardBody renders empty, which a test catches at once)."""

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from django import template
from django.core.cache import caches
from django.template.loader import get_template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# A card shows this many keywords (Hugging Face gives up to ~17); the paper's page shows them all.
CARD_KEYWORDS = 6
# Rendered where the reader's controls go, then replaced by them (a comment: never in a real body).
_HOLE = "<!--card-controls-->"


@dataclass(frozen=True)
class CardBody:
    url: str
    title: str
    abstract: str
    keywords: tuple[str, ...]
    keywords_label: str  # where they come from ("keywords: from Hugging Face" / "extracted by …")
    highlight: str  # the highlighting pattern's source ("" for none)
    organization: tuple[str, str, str, str] | None  # url, name, avatar url, initials
    author_count: int
    published_at: datetime | None
    github_repo: str
    github_stars: int | None
    local_comments: int
    imported_comments: int
    hf_discussion_url: str
    score: float | None
    matched_fields: tuple[str, ...]
    submitter: str

    @classmethod
    def of(cls, card, highlight, matched_fields) -> "CardBody":
        paper, org = card.paper, card.paper.organization
        return cls(
            url=paper.get_absolute_url(), title=paper.title, abstract=paper.abstract,
            keywords=tuple(paper.keywords[:CARD_KEYWORDS]), keywords_label=paper.keywords_label,
            highlight=highlight.pattern if isinstance(highlight, re.Pattern) else "",
            organization=(org.get_absolute_url(), org.name, org.page_avatar or "", org.initials) if org else None,
            author_count=paper.author_count, published_at=paper.published_at, github_repo=paper.github_repo,
            github_stars=paper.github_stars, local_comments=paper.local_comments,
            imported_comments=paper.imported_comments, hf_discussion_url=paper.hf_discussion_url or "",
            score=card.score, matched_fields=tuple(matched_fields or ()),
            submitter=(card.entry.submitter_display if card.entry else "") or "",
        )

    def key(self) -> str:
        return "card-body:" + hashlib.blake2b(repr(self).encode(), digest_size=16).hexdigest()


@register.simple_tag
def card_body(card, highlight, matched_fields, controls) -> SafeString:
    body = CardBody.of(card, highlight, matched_fields)
    store, key = caches["cards"], body.key()
    html = store.get(key)
    if html is None:
        pattern = highlight if isinstance(highlight, re.Pattern) else None
        context = {"body": body, "pattern": pattern, "hole": mark_safe(_HOLE)}
        html = get_template("papers/_card_body.html").render(context)
        store.set(key, html)
    return mark_safe(html.replace(_HOLE, controls, 1))
