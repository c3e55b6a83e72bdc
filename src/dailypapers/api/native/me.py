"""/api/v1/submissions and /api/v1/me: what a token's user does and is."""

from ninja import Router, Status

from dailypapers.community import services as community
from dailypapers.community.selectors import is_banned
from dailypapers.papers import selectors

from .. import schemas as s
from . import serializers as out
from .auth import limit_writes, token_auth
from .errors import AUTH_ERRORS, responses

router = Router(tags=["community"])


@router.post("/submissions", auth=token_auth, response=responses(s.SubmissionOut, ok_status=201, errors=AUTH_ERRORS),
             summary="Submit an arXiv paper to today's list (token needed)")
def submit(request, data: s.SubmissionIn):
    limit_writes(request, "RATE_SUBMIT")
    entry = community.submit_paper(user=request.auth, raw_id=data.arxiv_id, comment=data.comment)
    paper = selectors.paper_detail(arxiv_id=entry.paper.arxiv_id) or entry.paper  # just submitted: it is there
    return Status(201, {"day": entry.day, "submitted_at": entry.submitted_at, "paper": out.detailed_paper(paper)})


@router.get("/me", auth=token_auth, response=responses(s.MeOut, errors=AUTH_ERRORS), summary="The token's user")
def whoami(request):
    user = request.auth
    return {"username": user.get_username(), "date_joined": user.date_joined, "banned": is_banned(user=user)}
