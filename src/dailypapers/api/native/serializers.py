"""The native API's shapes of papers, listings, comments and organizations (api.schemas says their
types). Author names come from the one papers selector, one query per list."""

from dailypapers.community.models import Comment
from dailypapers.paging import Page, page_count
from dailypapers.papers.models import Organization, Paper
from dailypapers.papers.selectors import Card, author_names, detail_author_names


def organization_ref(org: Organization | None) -> dict | None:
    if org is None:
        return None
    return {"slug": org.slug, "name": org.name, "avatar_url": org.avatar_src or None, "url": org.get_absolute_url()}


def organization(org: Organization, paper_count: int) -> dict:
    return {**(organization_ref(org) or {}), "paper_count": paper_count}


def paper(paper: Paper, authors: list[str]) -> dict:
    return {
        "id": paper.arxiv_id,
        "title": paper.title,
        "abstract": paper.abstract,
        "authors": authors,
        "categories": [str(c) for c in (paper.categories or [])],
        "published_at": paper.published_at,
        "updated_at": paper.updated_at,
        "upvotes": paper.upvotes,
        "num_comments": paper.num_comments,
        "organization": organization_ref(paper.organization),
        "github_repo": paper.github_repo or None,
        "github_stars": paper.github_stars,
        "project_page": paper.project_page or None,
        "ai_summary": paper.ai_summary or None,
        "ai_keywords": [str(k) for k in (paper.ai_keywords or [])],
        "keywords": paper.keywords,
        "keywords_from": paper.keywords_from,
        "keywords_model": paper.keywords_model if paper.keywords_from == "extracted" else None,
        "summary": paper.summary or None,
        "summary_from": paper.summary_from,
        "summary_model": paper.llm_summary_model if paper.summary_from == "llm" else None,
        "url": paper.get_absolute_url(),
        "arxiv_url": paper.abs_url,
        "pdf_url": paper.pdf_url,
    }


def detailed_paper(detail: Paper) -> dict:
    """A paper from papers.selectors.paper_detail (its authors are prefetched)."""
    return paper(detail, detail_author_names(detail))


def papers(many: list[Paper]) -> list[dict]:
    names = author_names(many)
    return [paper(p, names[p.pk]) for p in many]


def listed(cards: list[Card], *, first_rank: int) -> list[dict]:
    names = author_names([c.paper for c in cards])
    return [
        {
            "rank": first_rank + i,
            "day": c.listing.day,
            "submitted_at": c.listing.submitted_at,
            "submitted_by": c.listing.submitter_display or None,
            "trending_score": c.score,
            "paper": paper(c.paper, names[c.paper.pk]),
        }
        for i, c in enumerate(cards)
    ]


def comment(comment: Comment) -> dict:
    visible = comment.visible
    return {
        "id": comment.pk,
        "parent_id": comment.parent_id,
        "author": comment.author.get_username() if visible else None,
        "body": comment.body if visible else "",
        "body_html": comment.body_html if visible else "",
        "created_at": comment.created_at,
        "edited_at": comment.edited_at,
        "removed": not visible,
    }


def page_of(count: int, page: Page, items: list[dict]) -> dict:
    """A paged answer: count, page, per_page, pages and the items."""
    return {"count": count, "page": page.number, "per_page": page.per_page,
            "pages": page_count(count, page.per_page), "items": items}
