"""/api/v1/papers…: browsing by filters, one paper, its similar papers, its comments and votes."""

from ninja import Query, Router, Status

from dailypapers.community import services as community
from dailypapers.community.models import Comment
from dailypapers.errors import Refused
from dailypapers.papers import selectors
from dailypapers.papers.selectors import paper_by_raw_id
from dailypapers.search.selectors import browse_papers, similar_papers

from .. import schemas as s
from . import serializers as out
from .auth import limit_writes, token_auth
from .errors import AUTH_ERRORS, responses

router = Router(tags=["papers"])


@router.get("/papers", response=responses(s.PaperPage), summary="Papers, filtered and paged")
def list_papers(request, filters: Query[s.PaperFilters], paging: Query[s.PageParams]):
    page = paging.paging()
    count, papers = browse_papers(filters=filters.filters(), sort=filters.sort, page=page,
                                  unlisted_only=filters.listed is False, listed_on=filters.listed_on)
    return out.page_of(count, page, out.papers(papers))


# Paths below take the rest of the URL as the id (old-style ids contain a slash), so the ones
# with a suffix come before the plain one.

@router.get("/papers/{anytext:arxiv_id}/similar", response=responses(s.SimilarOut, errors={404}),
            summary="The nearest papers by meaning")
def paper_similar(request, arxiv_id: str, limit: int = Query(8, ge=1, le=50)):
    paper = paper_by_raw_id(arxiv_id)
    return {"id": paper.arxiv_id, "items": out.papers(similar_papers(paper=paper, limit=limit))}


@router.get("/papers/{anytext:arxiv_id}/comments", response=responses(s.CommentPage, errors={404}),
            tags=["community"], summary="A paper's comments, oldest first (replies name their parent)")
def list_comments(request, arxiv_id: str, paging: Query[s.PageParams]):
    paper = paper_by_raw_id(arxiv_id)
    page = paging.paging()
    comments = Comment.objects.filter(paper=paper).select_related("author").order_by("created_at", "pk")
    return out.page_of(comments.count(), page, [out.comment(c) for c in page.of(comments)])


@router.post("/papers/{anytext:arxiv_id}/comments", auth=token_auth, tags=["community"],
             response=responses(s.CommentOut, ok_status=201, errors={404} | AUTH_ERRORS),
             summary="Comment on a paper, or reply to a comment (token needed)")
def post_comment(request, arxiv_id: str, data: s.CommentIn):
    limit_writes(request, "RATE_COMMENT")
    paper = paper_by_raw_id(arxiv_id)
    parent = None
    if data.parent_id is not None:
        parent = Comment.objects.filter(pk=data.parent_id).first()
        if parent is None:
            raise Refused.not_found(f"There is no comment {data.parent_id}.")
    comment = community.post_comment(user=request.auth, paper=paper, body=data.body, parent=parent)
    comment.author = request.auth
    return Status(201, out.comment(comment))


def _vote(request, arxiv_id: str, *, voted: bool) -> dict:
    limit_writes(request, "RATE_VOTE")
    paper = paper_by_raw_id(arxiv_id)
    voted, upvotes = community.set_vote(user=request.auth, paper=paper, voted=voted)
    return {"id": paper.arxiv_id, "voted": voted, "upvotes": upvotes}


@router.post("/papers/{anytext:arxiv_id}/vote", auth=token_auth, tags=["community"],
             response=responses(s.VoteOut, errors={404} | AUTH_ERRORS),
             summary="Upvote a paper (token needed; idempotent)")
def vote(request, arxiv_id: str):
    return _vote(request, arxiv_id, voted=True)


@router.delete("/papers/{anytext:arxiv_id}/vote", auth=token_auth, tags=["community"],
               response=responses(s.VoteOut, errors={404} | AUTH_ERRORS),
               summary="Take an upvote back (token needed; idempotent)")
def unvote(request, arxiv_id: str):
    return _vote(request, arxiv_id, voted=False)


@router.get("/papers/{anytext:arxiv_id}", response=responses(s.PaperDetailOut, errors={404}), summary="One paper")
def paper_detail(request, arxiv_id: str):
    paper = paper_by_raw_id(arxiv_id)
    data = out.detailed_paper(paper)
    data.update(
        version=paper.version, doi=paper.doi or None, journal_ref=paper.journal_ref or None,
        comments_locked=paper.comments_locked,
        listings=[
            {"day": li.entry.day, "rank": li.rank, "submitted_at": li.entry.submitted_at,
             "submitted_by": li.entry.submitter_display or None}
            for li in selectors.paper_listings(paper=paper)
        ],
    )
    return data
