"""Papers in the JSON shape of Hugging Face's /api/daily_papers and /api/papers/search, key for key
as the recorded responses have them (tests/test_api_hf.py compares the shapes), so the official
huggingface_hub client reads them unchanged.

Optional keys are left out when we have no value, as Hugging Face leaves them out (never null).
Hugging Face's objects carry MongoDB ObjectIds (`_id`, `discussionId`: 24 hex digits); ours are
derived from what the object is (object_id), so they are stable across requests and restarts, and an
imported submitter keeps the id Hugging Face gave them."""

import hashlib
import html
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from dailypapers.papers.models import DailyEntry, HubUser, Organization, Paper

HF_SITE = "https://huggingface.co"
# Hugging Face's top-level `publishedAt` is the arXiv time as a New York wall clock, labelled UTC
# (every recorded item from 2025-03-11 on: see the README's API section).
_HF_WALL_CLOCK = ZoneInfo("America/New_York")


def object_id(kind: str, key: object) -> str:
    """A 24-hex id, like Hugging Face's ObjectIds, for the object of `kind` named by `key`."""
    return hashlib.sha256(f"dailypapers:{kind}:{key}".encode()).hexdigest()[:24]


def _time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _hf_wall_clock(value: datetime) -> str:
    return _time(value.astimezone(_HF_WALL_CLOCK).replace(tzinfo=timezone.utc))


@dataclass
class Lookups:
    """What the serializers need besides the papers, read once for a whole response (api.views)."""

    authors: dict[int, list[tuple[int, str]]]  # paper pk -> (author id, name), in order
    entries: dict[int, DailyEntry] = field(default_factory=dict)  # paper pk -> the listing shown
    hub_users: dict[str, HubUser] = field(default_factory=dict)  # imported submitters, by name
    claims: dict = field(default_factory=dict)  # (paper pk, author position) -> community's ClaimedAuthorship
    author_commented: set[int] = field(default_factory=set)  # paper pks a claimed author commented on


def organization_json(org: Organization) -> dict:
    data = {"_id": object_id("organization", org.slug), "name": org.hf_name or org.slug, "fullname": org.name}
    if org.avatar_src:
        data["avatar"] = org.avatar_src
    return data


def _hub_avatar(url: str) -> str:
    # Hugging Face sends default avatars as paths on its site; ours would 404 them.
    return HF_SITE + url if url.startswith("/") else url


def _local_user(user) -> dict:
    """A user of this site as Hugging Face describes its users (no avatars here yet: "")."""
    return {
        "_id": object_id("user", user.pk),
        "avatarUrl": "",
        "isPro": False,
        "fullname": user.get_full_name() or user.get_username(),
        "user": user.get_username(),
        "type": "user",
        "name": user.get_username(),
    }


def _hub_user(name: str, profile: HubUser | None) -> dict:
    return {
        "_id": (profile.hf_id if profile and profile.hf_id else object_id("hub-user", name)),
        "avatarUrl": _hub_avatar(profile.avatar_url) if profile else "",
        "isPro": profile.is_pro if profile else False,
        "fullname": (profile.fullname if profile and profile.fullname else name),
        "user": name,
        "type": "user",
        "name": name,
    }


def submitter_json(entry: DailyEntry, lookups: Lookups) -> dict | None:
    """`paper.submittedOnDailyBy`: who listed the paper (a user here, or an imported HF user)."""
    if entry.submitted_by is not None:
        return _local_user(entry.submitted_by)
    if entry.submitter_name:
        return _hub_user(entry.submitter_name, lookups.hub_users.get(entry.submitter_name))
    return None


def _submitted_by(on_daily_by: dict) -> dict:
    """The top-level `submittedBy`: the same person in the item-level shape Hugging Face uses
    (no `user` key there; flags about HF staff, never true here)."""
    return {
        "_id": on_daily_by["_id"], "avatarUrl": on_daily_by["avatarUrl"], "fullname": on_daily_by["fullname"],
        "name": on_daily_by["name"], "type": "user", "isPro": on_daily_by["isPro"],
        "isHf": False, "isHfAdmin": False, "isMod": False, "isUserFollowing": False,
    }


def _authors_json(paper: Paper, lookups: Lookups) -> list[dict]:
    authors = []
    for position, (_author_id, name) in enumerate(lookups.authors.get(paper.pk, [])):
        author: dict = {"_id": object_id("authorship", f"{paper.arxiv_id}#{position}"), "name": name}
        if claim := lookups.claims.get((paper.pk, position)):
            author["user"] = _local_user(claim.user)
            author["status"] = "claimed_verified"
            if claim.decided_at:
                author["statusLastChangedAt"] = _time(claim.decided_at)
        author["hidden"] = False
        authors.append(author)
    return authors


def paper_json(paper: Paper, lookups: Lookups) -> dict:
    """The inner `paper` object, keys in Hugging Face's order."""
    entry = lookups.entries.get(paper.pk)
    data: dict = {"id": paper.arxiv_id, "authors": _authors_json(paper, lookups)}
    if paper.published_at:
        data["publishedAt"] = _time(paper.published_at)
    if entry is not None:
        data["submittedOnDailyAt"] = _time(entry.submitted_at)
    data["title"] = paper.title
    if entry is not None and (by := submitter_json(entry, lookups)):
        data["submittedOnDailyBy"] = by
    data["summary"] = paper.abstract
    data["upvotes"] = paper.upvotes
    data["discussionId"] = object_id("discussion", paper.arxiv_id)
    optional = {
        "projectPage": paper.project_page,
        "githubRepo": paper.github_repo,
        "githubRepoAddedBy": paper.github_repo_added_by if paper.github_repo else "",
        # Hugging Face's own where it gave them, else the ones made here (the native API names which);
        # ai_summary_model names the model that wrote the one sent.
        "ai_summary": paper.summary,
        "ai_keywords": paper.keywords,
        "ai_summary_model": paper.summary_model,
        "githubStars": paper.github_stars if paper.github_repo else None,
        "organization": organization_json(paper.organization) if paper.organization else None,
        "mediaUrls": paper.media_urls,
    }
    data.update({key: value for key, value in optional.items() if value not in (None, "", [])})
    return data


def paper_info_json(paper: Paper, lookups: Lookups) -> dict:
    """/api/papers/<id>: the paper object, with its comment count (the client reads it there)."""
    return paper_json(paper, lookups) | {"numComments": paper.num_comments}


# Also at the item's top level, although Hugging Face has them only in `paper`: huggingface_hub's
# PaperInfo reads them from the top level, so without them the client would see None.
CLIENT_TOP_LEVEL_KEYS = ("ai_summary", "ai_keywords", "githubRepo", "githubStars", "projectPage")


def list_item(paper: Paper, lookups: Lookups) -> dict:
    """One item of a daily list or a search: the paper plus the item-level keys, as Hugging Face nests them."""
    inner = paper_json(paper, lookups)
    entry = lookups.entries.get(paper.pk)
    item: dict = {"paper": inner}
    # What Hugging Face sends here (see _HF_WALL_CLOCK); when we have no arXiv time, the listing's.
    if paper.published_at:
        item["publishedAt"] = _hf_wall_clock(paper.published_at)
    elif entry is not None:
        item["publishedAt"] = _time(entry.submitted_at)
    item["title"] = paper.title
    item["summary"] = paper.abstract
    item["numComments"] = paper.num_comments
    if "submittedOnDailyBy" in inner:
        item["submittedBy"] = _submitted_by(inner["submittedOnDailyBy"])
    if "organization" in inner:
        item["organization"] = inner["organization"]
    item["isAuthorParticipating"] = paper.pk in lookups.author_commented
    if "mediaUrls" in inner:
        item["mediaUrls"] = inner["mediaUrls"]
    item.update({key: inner[key] for key in CLIENT_TOP_LEVEL_KEYS if key in inner})
    return item


_WORD = re.compile(r"\w+")


def highlighted(text: str, *, query: str) -> str:
    """`text` as HTML with each word that starts with a query word (of two letters or more) wrapped in
    <span class="highlight">; everything else escaped."""
    words = {w.lower() for w in _WORD.findall(query) if len(w) >= 2}
    if not words:
        return html.escape(text)
    parts, last = [], 0
    for match in _WORD.finditer(text):
        if any(match[0].lower().startswith(w) for w in words):
            parts.append(html.escape(text[last:match.start()]))
            parts.append(f'<span class="highlight">{html.escape(match[0])}</span>')
            last = match.end()
    parts.append(html.escape(text[last:]))
    return "".join(parts)


def search_item(paper: Paper, lookups: Lookups, *, query: str) -> dict:
    """One search result: a list item, with `submittedOnDailyAt` at the top for a listed paper and
    the title and abstract with the query's words marked."""
    item = list_item(paper, lookups)
    if "submittedOnDailyAt" in item["paper"]:
        item["submittedOnDailyAt"] = item["paper"]["submittedOnDailyAt"]
    item["highlightedTitle"] = highlighted(paper.title, query=query)
    item["highlightedSummary"] = highlighted(paper.abstract, query=query)
    return item
