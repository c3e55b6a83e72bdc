"""Reads of follows: a user's follows, the papers of each, the papers by authors a user follows (the
daily list's badge, For you's reason), who follows the authors of some papers (notifications), and
the digest's "From what you follow" sections.

An author is followed by name and through claims: a followed author's papers are those with an
authorship under that name, and every paper on which a user who claimed that name (approved) claimed
an authorship, so the papers a person signed under another spelling follow them too."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.urls import reverse

from dailypapers.community.models import AuthorshipClaim
from dailypapers.errors import Refused
from dailypapers.papers.models import Author, Authorship, Organization, Paper
from dailypapers.papers.selectors import card_papers
from dailypapers.search.forms import SearchForm
from dailypapers.search.keyword import Filters
from dailypapers.search.selectors import filtered_papers, newest_matches, papers_on_topic

from .models import MAX_SEARCH_KEY_LENGTH, Follow

APPROVED = AuthorshipClaim.Status.APPROVED
# The search page's filters a saved search keeps (its sort and page are the follow's own: newest first).
SEARCH_FILTERS = ("published_from", "published_to", "category", "organization", "author", "listed")
SECTION_PAPERS = 5  # papers per follow on /follows
DIGEST_SECTION_PAPERS = 10  # papers per follow in a digest


# --- saved searches ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class SavedSearch:
    query: str
    params: dict[str, str]  # the filters in use, as the search page's parameters
    filters: Filters
    key: str  # the canonical query string: q first, then the filters in the form's order

    @property
    def url(self) -> str:
        return f"{reverse('papers:daily')}?{self.key}"


def saved_search(*, query: str, filters: dict) -> SavedSearch:
    """A search to save or run, validated as the search page validates it; Refused otherwise."""
    if not isinstance(query, str) or not isinstance(filters, dict):
        raise Refused("A saved search is a query (text) and filters (name: value).")
    unknown = sorted(str(k) for k in filters if k not in SEARCH_FILTERS)
    if unknown:
        raise Refused(f"Unknown search filter{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)} "
                      f"(the filters are {', '.join(SEARCH_FILTERS)}).")
    data = {}
    for name, value in filters.items():
        if isinstance(value, bool):
            value = "on" if value else ""
        if not isinstance(value, str):
            raise Refused(f"The filter {name} must be text.")
        data[name] = value
    form = SearchForm({"q": query, **data})
    if not form.is_valid():
        raise Refused(form.error_text())
    cleaned = form.cleaned_data
    if form.trimmed:
        raise Refused(f"The query is too long: at most {SearchForm.max_query_length} characters.")
    if not cleaned["q"]:
        raise Refused("A saved search needs a query (the words to search for).")
    params = {}
    for name in SEARCH_FILTERS:
        value = cleaned[name]
        if value:
            params[name] = "on" if value is True else value.isoformat() if hasattr(value, "isoformat") else value
    key = urlencode({"q": cleaned["q"], **params})
    if len(key) > MAX_SEARCH_KEY_LENGTH:
        raise Refused("This search is too long to save.")
    return SavedSearch(query=cleaned["q"], params=params, filters=form.filters(), key=key)


def search_of(follow: Follow) -> SavedSearch:
    return saved_search(query=follow.query, filters=follow.filters)


# --- a user's follows -------------------------------------------------------------------------------

def follows_of(*, user) -> QuerySet[Follow]:
    return Follow.objects.filter(user=user).select_related("author", "organization")


def follow_of(*, user, pk: int) -> Follow:
    """The user's follow `pk`; refused with 404 when there is none (someone else's is none)."""
    follow = follows_of(user=user).filter(pk=pk).first() if user.is_authenticated and pk < 2**63 else None
    if follow is None:
        raise Refused.not_found(f"You follow nothing numbered {pk}.")
    return follow


def following(*, user, author: Author | None = None, organization: Organization | None = None,
              search_key: str = "") -> Follow | None:
    """The user's follow of this target, if any (the Follow buttons)."""
    if not user.is_authenticated:
        return None
    if author is not None:
        return Follow.objects.filter(user=user, kind=Follow.Kind.AUTHOR, author=author).first()
    if organization is not None:
        return Follow.objects.filter(user=user, kind=Follow.Kind.ORGANIZATION, organization=organization).first()
    return Follow.objects.filter(user=user, kind=Follow.Kind.SEARCH, search_key=search_key).first() if search_key \
        else None


def link_of(follow: Follow) -> str:
    """The page a follow mirrors: the author's, the organization's, or the search's results."""
    if follow.author is not None:
        return follow.author.get_absolute_url()
    if follow.organization is not None:
        return follow.organization.get_absolute_url()
    return search_of(follow).url


# --- the papers of a follow -------------------------------------------------------------------------

def _claimers(authors) -> QuerySet:
    """The users with an approved claim to one of these authors (a queryset of user ids)."""
    return AuthorshipClaim.objects.filter(status=APPROVED, author__in=authors).values("user_id")


def author_paper_ids(*, author_id: int) -> QuerySet:
    """The ids of a followed author's papers: under the name, or claimed by whoever claimed the name."""
    by_name = Authorship.objects.filter(author=author_id).values("paper_id")
    by_claim = AuthorshipClaim.objects.filter(status=APPROVED, user__in=_claimers([author_id])).values("paper_id")
    return Paper.objects.filter(Q(pk__in=by_name) | Q(pk__in=by_claim)).values("pk")


def follow_papers(*, follow: Follow, limit: int = SECTION_PAPERS) -> list[Paper]:
    """A follow's papers with what a card shows, newest first (a saved search: the papers its words
    match, search.selectors.newest_matches)."""
    if follow.kind == Follow.Kind.SEARCH:
        search = search_of(follow)
        return newest_matches(query=search.query, filters=search.filters, limit=limit)
    if follow.author_id is not None:
        papers = card_papers().filter(pk__in=author_paper_ids(author_id=follow.author_id))
    else:
        papers = card_papers().filter(organization=follow.organization_id)
    return list(papers.order_by("-published_at", "-pk")[:limit])


@dataclass(frozen=True)
class Section:
    follow: Follow
    papers: list[Paper]
    link: str


def sections(*, user, limit: int = SECTION_PAPERS) -> list[Section]:
    """/follows: each follow with its newest papers."""
    return [Section(follow=f, papers=follow_papers(follow=f, limit=limit), link=link_of(f))
            for f in follows_of(user=user)]


# --- papers by followed authors ---------------------------------------------------------------------

def follows_authors(*, user) -> bool:
    return user.is_authenticated and Follow.objects.filter(user=user, kind=Follow.Kind.AUTHOR).exists()


def followed_authors_of(*, user, paper_ids: list[int]) -> dict[int, str]:
    """Of these papers, those by an author the user follows -> that author's name as on the paper
    (one query: a union of the name matches and the claims)."""
    if not user.is_authenticated or not paper_ids:
        return {}
    authors = Follow.objects.filter(user=user, kind=Follow.Kind.AUTHOR).values("author_id")
    by_name = Authorship.objects.filter(paper_id__in=paper_ids, author__in=authors).values_list(
        "paper_id", "author__name").order_by()
    claims = AuthorshipClaim.objects.filter(paper_id__in=paper_ids, status=APPROVED, user__in=_claimers(authors))
    by_claim = claims.values_list("paper_id", "author__name").order_by()  # no ORDER BY inside a UNION
    found: dict[int, str] = {}
    for paper_id, name in by_name.union(by_claim):
        found.setdefault(paper_id, name)
    return found


def followed_author_paper_ids(*, user, paper_ids: list[int]) -> set[int]:
    """Which of these papers are by an author the user follows (the daily list's badge; one query)."""
    return set(followed_authors_of(user=user, paper_ids=paper_ids))


def author_followers(*, paper_ids: list[int]) -> dict[int, set[int]]:
    """Who follows an author of these papers: user id -> the ids of those papers by authors they follow
    (for notifying them of new papers; two queries)."""
    if not paper_ids:
        return {}
    followers: dict[int, set[int]] = {}
    by_name = Follow.objects.filter(kind=Follow.Kind.AUTHOR, author__authorships__paper_id__in=paper_ids)
    rows = list(by_name.values_list("user_id", "author__authorships__paper_id"))
    by_claim = Follow.objects.filter(kind=Follow.Kind.AUTHOR, author__claims__status=APPROVED,
                                     author__claims__user__claims__status=APPROVED,
                                     author__claims__user__claims__paper_id__in=paper_ids)
    rows += by_claim.values_list("user_id", "author__claims__user__claims__paper_id")
    for user_id, paper_id in rows:
        followers.setdefault(user_id, set()).add(paper_id)
    return followers


# --- digests ----------------------------------------------------------------------------------------

def digest_sections(*, user, papers: list[Paper], min_similarity: float,
                    limit: int = DIGEST_SECTION_PAPERS) -> list[Section]:
    """The digest's "From what you follow": for each follow with the digest flag, those of the period's
    `papers` it matches, in the period's order (follows that match none are left out). A saved search
    matches a paper as a digest's topic does (its words, or its meaning at `min_similarity`), under its filters."""
    ids = [p.pk for p in papers]
    if not ids:
        return []
    out = []
    for follow in follows_of(user=user).filter(digest=True):
        if follow.author_id is not None:
            matched = set(Paper.objects.filter(pk__in=ids).filter(pk__in=author_paper_ids(author_id=follow.author_id))
                          .values_list("pk", flat=True))
        elif follow.kind == Follow.Kind.ORGANIZATION:
            matched = {p.pk for p in papers if p.organization_id == follow.organization_id}
        else:
            search = search_of(follow)
            within = papers
            if search.filters:
                passing = set(filtered_papers(filters=search.filters).filter(pk__in=ids).values_list("pk", flat=True))
                within = [p for p in papers if p.pk in passing]
            matched = {p.pk for p in papers_on_topic(topic=search.query, papers=within, min_similarity=min_similarity)}
        chosen = [p for p in papers if p.pk in matched][:limit]
        if chosen:
            out.append(Section(follow=follow, papers=chosen, link=link_of(follow)))
    return out


# --- feeds ------------------------------------------------------------------------------------------

def follow_for_token(*, token: str, pk: int) -> Follow | None:
    """The follow `pk` of the user whose feed token this is; None for a wrong token or someone else's follow."""
    return (Follow.objects.select_related("author", "organization")
            .filter(pk=pk, user__feed_token__token=token, user__is_active=True).first())
