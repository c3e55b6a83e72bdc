"""/api/v1/submissions and /api/v1/me: what a token's user does and is."""

from ninja import Router, Status

from dailypapers.community import services as community
from dailypapers.community.models import PendingSubmission
from dailypapers.community.selectors import is_banned
from dailypapers.errors import Refused
from dailypapers.papers import selectors

from .. import schemas as s
from . import serializers as out
from .auth import limit_writes, token_auth
from .errors import AUTH_ERRORS, responses

router = Router(tags=["community"])


@router.post("/submissions", auth=token_auth,
             response={**responses(s.SubmissionOut, ok_status=201, errors=AUTH_ERRORS), 202: s.PendingSubmissionOut},
             summary="Submit an arXiv paper to today's list (token needed); 202 while an unknown paper is fetched")
def submit(request, data: s.SubmissionIn):
    limit_writes(request, "RATE_SUBMIT")
    entry = community.request_submission(user=request.auth, raw_id=data.arxiv_id, comment=data.comment)
    if isinstance(entry, PendingSubmission):
        return Status(202, _pending(entry))
    paper = selectors.paper_detail(arxiv_id=entry.paper.arxiv_id) or entry.paper  # just submitted: it is there
    return Status(201, {"day": entry.day, "submitted_at": entry.submitted_at, "paper": out.detailed_paper(paper)})


@router.get("/submissions/{submission_id}", auth=token_auth,
            response=responses(s.PendingSubmissionOut, errors=AUTH_ERRORS | {404}),
            summary="Where a submission of an unknown paper stands (its submitter's token)")
def submission_status(request, submission_id: int):
    pending = PendingSubmission.objects.filter(pk=submission_id, user=request.auth).select_related("paper").first()
    if pending is None:
        raise Refused.not_found(f"You have no submission {submission_id}.")
    return _pending(pending)


def _pending(pending: PendingSubmission) -> dict:
    return {"id": pending.pk, "arxiv_id": pending.arxiv_id, "status": pending.status, "error": pending.error,
            "paper_id": pending.paper.arxiv_id if pending.paper else None,
            "status_url": f"/api/v1/submissions/{pending.pk}"}


@router.get("/me", auth=token_auth, response=responses(s.MeOut, errors=AUTH_ERRORS), summary="The token's user")
def whoami(request):
    user = request.auth
    return {"username": user.get_username(), "date_joined": user.date_joined, "banned": is_banned(user=user)}
