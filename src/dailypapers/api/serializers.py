"""Papers in the JSON shape of Hugging Face's /api/daily_papers and /api/papers/search,
key for key, so the official huggingface_hub client reads them unchanged."""

from datetime import datetime

from dailypapers.papers.models import DailyEntry, Organization, Paper


def _time(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z" if value else None


def organization_json(org: Organization | None) -> dict | None:
    if org is None:
        return None
    return {"name": org.hf_name or org.slug, "fullname": org.name, "avatar": org.avatar_src or None}


def paper_json(paper: Paper, *, authors: list[str], entry: DailyEntry | None = None) -> dict:
    """The inner `paper` object (also the whole body of /api/papers/<id>)."""
    data = {
        "id": paper.arxiv_id,
        "authors": [{"name": name, "hidden": False} for name in authors],
        "publishedAt": _time(paper.published_at),
        "title": paper.title,
        "summary": paper.abstract,
        "upvotes": paper.upvotes,
        "discussionId": paper.arxiv_id,
        # Hugging Face's own where it gave them, else the ones made here (the native API names which).
        "ai_summary": paper.summary or None,
        "ai_keywords": paper.keywords or None,
        "githubRepo": paper.github_repo or None,
        "githubStars": paper.github_stars,
        "projectPage": paper.project_page or None,
        "organization": organization_json(paper.organization),
        "numComments": paper.num_comments,
    }
    if entry is not None:
        data["submittedOnDailyAt"] = _time(entry.submitted_at)
        if entry.submitter_display:
            name = entry.submitter_display
            data["submittedOnDailyBy"] = {"name": name, "user": name, "type": "user"}
    return data


def list_item(paper: Paper, *, authors: list[str], entry: DailyEntry | None = None) -> dict:
    """One item of a daily list or a search: the paper plus list-level keys, as Hugging Face nests them."""
    inner = paper_json(paper, authors=authors, entry=entry)
    item = {
        "paper": inner,
        "publishedAt": _time(entry.submitted_at if entry else paper.published_at),
        "title": paper.title,
        "summary": paper.abstract,
        "numComments": paper.num_comments,
        "organization": inner["organization"],
        "isAuthorParticipating": False,
        # Also at the top level, where huggingface_hub's PaperInfo looks for them.
        "ai_summary": inner["ai_summary"],
        "ai_keywords": inner["ai_keywords"],
        "githubRepo": inner["githubRepo"],
        "githubStars": inner["githubStars"],
        "projectPage": inner["projectPage"],
    }
    if entry is not None and entry.submitter_display:
        item["submittedBy"] = inner["submittedOnDailyBy"]
    return item
