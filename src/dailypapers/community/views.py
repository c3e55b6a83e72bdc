"""Pages and actions of the community. Writes are POST-only, CSRF-checked, and go through services.
A service's refusal (dailypapers.errors.Refused) becomes the error page with its status in
dailypapers.views.RefusedMiddleware; only forms catch it, to show it beside the fields."""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from dailypapers.errors import Refused
from dailypapers.limits import MAX_COMMENT_LENGTH
from dailypapers.papers.models import Authorship, Organization
from dailypapers.papers.selectors import paper_by_raw_id
from dailypapers.views import limit_posts

from . import selectors, services
from .controls import vote_control
from .forms import CommentForm, InviteForm, OrganizationForm, PaperOrganizationForm, ReportForm, RoleForm, SubmitForm
from .models import Comment, Invitation, Membership, PendingSubmission


def _login_first(view):
    """Anonymous clicks go to the login page and come back to where they were."""
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(_back(request))
        return view(request, *args, **kwargs)

    return wrapper


def _back(request: HttpRequest, default: str = "/papers") -> str:
    target = request.POST.get("next") or request.GET.get("next") or request.headers.get("Referer") or default
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return default
    return target


@require_POST
@_login_first
@limit_posts("RATE_VOTE")
def vote(request: HttpRequest, raw_id: str) -> HttpResponse:
    paper = paper_by_raw_id(raw_id)
    voted, count = services.toggle_vote(user=request.user, paper=paper)
    if request.headers.get("HX-Request"):
        back = _back(request, paper.get_absolute_url())
        return HttpResponse(vote_control(paper_id=paper.arxiv_id, voted=voted, count=count, signed_in=True,
                                         csrf_token=get_token(request), next_path=back))
    return redirect(_back(request, paper.get_absolute_url()))


@_login_first
@limit_posts("RATE_SUBMIT")
def submit(request: HttpRequest) -> HttpResponse:
    form = SubmitForm(request.POST or None, initial={"paper": request.GET.get("paper", "")})
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            entry = services.request_submission(
                user=request.user, raw_id=form.cleaned_data["paper"], comment=form.cleaned_data["comment"]
            )
        except Refused as exc:
            form.add_error(None, str(exc))
        else:
            if isinstance(entry, PendingSubmission):  # unknown paper: fetched by the queue, the page follows it
                return redirect("community:submission", pk=entry.pk)
            messages.success(request, f"Added to the list of {entry.day:%b %-d}. Thank you!")
            return redirect(entry.paper.get_absolute_url())
    if form.errors:
        status = 400
    return render(
        request, "community/submit.html",
        {"form": form, "day": services.feed_day(timezone.now()),
         "max_per_day": settings.SUBMIT_MAX_PER_DAY, "max_age_days": settings.SUBMIT_MAX_AGE_DAYS},
        status=status,
    )


@_login_first
def submission(request: HttpRequest, pk: int) -> HttpResponse:
    """Where a submission of an unknown paper stands; htmx polls it (the fragment alone) while
    the queue fetches the paper. Only its submitter sees it."""
    pending = get_object_or_404(PendingSubmission.objects.select_related("paper"), pk=pk, user=request.user)
    context = {"pending": pending, "day": services.feed_day(pending.created_at)}
    if request.headers.get("HX-Request"):
        return render(request, "community/_submission_status.html", context)
    return render(request, "community/submission.html", context)


@require_POST
@_login_first
@limit_posts("RATE_COMMENT")
def comment_create(request: HttpRequest, raw_id: str) -> HttpResponse:
    paper = paper_by_raw_id(raw_id)
    form = CommentForm(request.POST)
    if not form.is_valid():
        raise Refused(f"A comment needs text (at most {MAX_COMMENT_LENGTH:,} characters).")
    parent = None
    if parent_id := request.POST.get("parent"):
        if not parent_id.isdigit():
            raise Refused("Reply to a comment of this paper.")
        parent = Comment.objects.filter(pk=int(parent_id), paper=paper).first()
        if parent is None:
            raise Refused("Reply to a comment of this paper.")
    comment = services.post_comment(user=request.user, paper=paper, body=form.cleaned_data["body"], parent=parent)
    return redirect(f"{paper.get_absolute_url()}#comment-{comment.pk}")


@_login_first
def comment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    comment = get_object_or_404(Comment, pk=pk)
    if comment.author_id != request.user.pk:
        raise Refused.forbidden("You can only edit your own comments.")
    form = CommentForm(request.POST or None, initial={"body": comment.body})
    if request.method == "POST" and form.is_valid():
        services.edit_comment(user=request.user, comment=comment, body=form.cleaned_data["body"])
        return redirect(f"{comment.paper.get_absolute_url()}#comment-{comment.pk}")
    return render(request, "community/comment_edit.html", {"form": form, "comment": comment})


@require_POST
@_login_first
def comment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    comment = get_object_or_404(Comment, pk=pk)
    services.delete_comment(user=request.user, comment=comment)
    return redirect(f"{comment.paper.get_absolute_url()}#comments")


@require_POST
@_login_first
@limit_posts("RATE_COMMENT")
def comment_report(request: HttpRequest, pk: int) -> HttpResponse:
    comment = get_object_or_404(Comment, pk=pk)
    form = ReportForm(request.POST)
    form.is_valid()
    services.report_comment(user=request.user, comment=comment, reason=form.cleaned_data.get("reason", ""))
    messages.success(request, "Thank you: a moderator will look at this comment.")
    return redirect(f"{comment.paper.get_absolute_url()}#comment-{comment.pk}")


@require_POST
@_login_first
def claim(request: HttpRequest, raw_id: str, authorship_pk: int) -> HttpResponse:
    paper = paper_by_raw_id(raw_id)
    authorship = get_object_or_404(Authorship.objects.select_related("author"), pk=authorship_pk, paper=paper)
    services.claim_authorship(user=request.user, authorship=authorship)
    messages.success(request, f"Your claim to be {authorship.author.name} is waiting for a moderator.")
    return redirect(paper.get_absolute_url())


@require_POST
@_login_first
@limit_posts("RATE_ORGANIZATION")
def set_organization(request: HttpRequest, raw_id: str) -> HttpResponse:
    paper = paper_by_raw_id(raw_id)
    form = PaperOrganizationForm(request.POST)
    if not form.is_valid():
        raise Refused("An organization is given by its slug: letters, digits, dashes or underscores.")
    slug = form.cleaned_data["organization"]
    organization = get_object_or_404(Organization, slug=slug) if slug else None
    services.set_paper_organization(user=request.user, paper=paper, organization=organization)
    return redirect(paper.get_absolute_url())


@_login_first
@limit_posts("RATE_ORGANIZATION")
def organization_create(request: HttpRequest) -> HttpResponse:
    form = OrganizationForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            org = services.create_organization(user=request.user, **form.cleaned_data)
        except Refused as exc:
            form.add_error(None, str(exc))
        else:
            return redirect(org.get_absolute_url())
    return render(request, "community/organization_form.html", {"form": form}, status=400 if form.errors else 200)


@require_POST
@_login_first
@limit_posts("RATE_ORGANIZATION")
def organization_invite(request: HttpRequest, slug: str) -> HttpResponse:
    org = get_object_or_404(Organization, slug=slug)
    form = InviteForm(request.POST)
    if not form.is_valid():
        raise Refused("Give a username and a role (admin or member).")
    invitation = services.invite_member(actor=request.user, organization=org, **form.cleaned_data)
    messages.success(request, f"Invited {invitation.user.username}: they join once they accept.")
    return redirect(org.get_absolute_url())


def _membership(slug: str, pk: int) -> Membership:
    return get_object_or_404(Membership.objects.select_related("organization", "user"), pk=pk, organization__slug=slug)


@require_POST
@_login_first
def organization_member_role(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    membership = _membership(slug, pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        raise Refused("A role is admin or member.")
    services.change_member_role(actor=request.user, membership=membership, role=form.cleaned_data["role"])
    return redirect(membership.organization.get_absolute_url())


@require_POST
@_login_first
def organization_member_remove(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Removes a member (an admin's action) or leaves the organization (one's own membership)."""
    membership = _membership(slug, pk)
    services.remove_member(actor=request.user, membership=membership)
    return redirect(membership.organization.get_absolute_url())


@_login_first
def invitations(request: HttpRequest) -> HttpResponse:
    return render(
        request, "community/invitations.html", {"invitations": selectors.pending_invitations(user=request.user)}
    )


@require_POST
@_login_first
def invitation_answer(request: HttpRequest, pk: int, answer: str) -> HttpResponse:
    # Only the invited user's own invitations are found: anyone else's is a 404, as if it did not exist.
    invitation = get_object_or_404(Invitation.objects.select_related("organization"), pk=pk, user=request.user)
    if answer == "accept":
        services.accept_invitation(user=request.user, invitation=invitation)
        messages.success(request, f"You are now a member of {invitation.organization.name}.")
        return redirect(invitation.organization.get_absolute_url())
    services.decline_invitation(user=request.user, invitation=invitation)
    return redirect("community:invitations")


def profile(request: HttpRequest, username: str) -> HttpResponse:
    member = get_object_or_404(get_user_model(), username=username)
    return render(request, "community/profile.html", {"member": member, **selectors.profile(user=member)})
