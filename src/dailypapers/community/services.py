"""Writes of the community app. Every refusal is a Refused (403: understood, not allowed) with a
sentence for the user."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from dailypapers.errors import Refused
from dailypapers.limits import MAX_COMMENT_LENGTH, MAX_MENTIONS, MAX_REPORT_REASON_LENGTH
from dailypapers.papers import services as papers
from dailypapers.papers.models import Author, DailyEntry, Organization, Paper
from dailypapers.papers.records import parse_arxiv_id
from dailypapers.papers.services import upsert_papers
from dailypapers.papers.sources import arxiv_api
from dailypapers.papers.sources.http import SourceError

from . import markdown, selectors, signals
from .models import AuthorshipClaim, Ban, Comment, Invitation, Membership, PendingSubmission, Report, Vote


def ensure_can_post(user) -> None:
    if not user.is_authenticated:
        raise Refused.forbidden("Log in first.")
    if selectors.is_banned(user=user):
        raise Refused.forbidden("Your account is banned: you can read, but not post, vote or submit.")


def ensure_verified_email(*, user, before: str) -> None:
    if not selectors.has_verified_email(user=user):
        raise Refused.forbidden(f"Verify your email address before {before} (see the link we mailed you).")


def feed_day(at: datetime) -> date:
    """The list a submission at `at` goes on: the day rolls over at FEED_DAY_ROLLOVER, local time."""
    hours, minutes = (int(x) for x in settings.FEED_DAY_ROLLOVER.split(":"))
    local = at.astimezone(ZoneInfo(settings.FEED_DAY_TIMEZONE))
    return (local + timedelta(hours=24 - hours, minutes=-minutes)).date()


# --- votes ---------------------------------------------------------------------------------------

def _add_vote(user, paper: Paper) -> bool:
    """Whether this call added the vote: the unique constraint lets one of concurrent votes in, and
    the counter moves with the row, in the caller's transaction."""
    try:
        with transaction.atomic():
            Vote.objects.create(user=user, paper=paper)
    except IntegrityError:
        return False  # a concurrent click already voted
    papers.adjust_counts(paper_id=paper.pk, upvotes=1)
    return True


def _remove_vote(user, paper: Paper) -> bool:
    """Whether this call took the vote back: a conditional delete, so of concurrent calls one counts."""
    removed, _ = Vote.objects.filter(user=user, paper=paper).delete()
    if removed:
        papers.adjust_counts(paper_id=paper.pk, upvotes=-1)
    return bool(removed)


def _upvotes(paper: Paper) -> int:
    return Paper.objects.values_list("upvotes", flat=True).get(pk=paper.pk)


def toggle_vote(*, user, paper: Paper) -> tuple[bool, int]:
    """Vote, or take the vote back (the page's button). Returns (voted, upvotes). A double click
    counts once: the unique constraint refuses the second vote, and the counter moves in the same
    transaction."""
    ensure_can_post(user)
    with transaction.atomic():
        voted = not _remove_vote(user, paper)
        if voted:
            _add_vote(user, paper)
    return voted, _upvotes(paper)


def set_vote(*, user, paper: Paper, voted: bool) -> tuple[bool, int]:
    """Make the user's vote on the paper `voted` (the API's POST and DELETE: idempotent). Returns
    (voted, upvotes). Unlike reading the vote and then toggling it, repeated or concurrent calls
    end where they were asked to, with the counter equal to the votes."""
    ensure_can_post(user)
    with transaction.atomic():
        _add_vote(user, paper) if voted else _remove_vote(user, paper)
    return voted, _upvotes(paper)


# --- submissions -----------------------------------------------------------------------------------

def _submittable_id(*, user, raw_id: str) -> str:
    """The arXiv id `user` asks to submit, once they may submit at all."""
    ensure_can_post(user)
    ensure_verified_email(user=user, before="submitting papers")
    try:
        arxiv_id, _ = parse_arxiv_id(raw_id)
    except ValueError:
        raise Refused.forbidden(f"“{raw_id.strip()[:100]}” is not an arXiv id or URL "
                                "(e.g. 2401.12345 or https://arxiv.org/abs/2401.12345).") from None
    return arxiv_id


def submit_paper(*, user, raw_id: str, comment: str = "", now: datetime | None = None) -> DailyEntry:
    """Put a paper on the current feed day's list, fetching it from arXiv if we don't have it."""
    arxiv_id = _submittable_id(user=user, raw_id=raw_id)
    now = now or timezone.now()
    day = feed_day(now)
    paper = Paper.objects.filter(arxiv_id=arxiv_id).first() or _fetch_from_arxiv(arxiv_id)
    if paper.published_at and paper.published_at < now - timedelta(days=settings.SUBMIT_MAX_AGE_DAYS):
        raise Refused.forbidden(
            f"{arxiv_id} was published on {paper.published_at:%b %-d, %Y}: only papers from the last "
            f"{settings.SUBMIT_MAX_AGE_DAYS} days can go on the daily list."
        )
    with transaction.atomic():
        if DailyEntry.objects.filter(paper=paper, day=day).exists():
            raise Refused.forbidden(f"{arxiv_id} is already on the list of {day:%b %-d}.")
        if DailyEntry.objects.filter(submitted_by=user, day=day).count() >= settings.SUBMIT_MAX_PER_DAY:
            raise Refused.forbidden(
                f"You have submitted {settings.SUBMIT_MAX_PER_DAY} papers for {day:%b %-d} already, the most "
                f"for one day. The next list opens at {settings.FEED_DAY_ROLLOVER} ({settings.FEED_DAY_TIMEZONE})."
            )
        entry = papers.list_paper(
            paper=paper, day=day, submitted_by=user, submitted_at=now, source=DailyEntry.Source.COMMUNITY
        )
        if comment.strip():
            post_comment(user=user, paper=paper, body=comment)
    return entry


def request_submission(*, user, raw_id: str, comment: str = "") -> DailyEntry | PendingSubmission:
    """What the submit form and the API call. A paper we hold is submitted now (a DailyEntry); an
    unknown one becomes a PendingSubmission, and the task queue fetches it from arXiv and submits
    it (community.tasks.fetch_submission): the request never waits for arXiv."""
    arxiv_id = _submittable_id(user=user, raw_id=raw_id)
    if Paper.objects.filter(arxiv_id=arxiv_id).exists():
        return submit_paper(user=user, raw_id=arxiv_id, comment=comment)
    # A second click while the first fetch runs follows the same fetch.
    pending = PendingSubmission.objects.filter(
        user=user, arxiv_id=arxiv_id, status=PendingSubmission.Status.FETCHING).first()
    if pending is None:
        pending = PendingSubmission.objects.create(user=user, arxiv_id=arxiv_id, comment=comment[:MAX_COMMENT_LENGTH])
        from .tasks import fetch_submission  # tasks import this module

        fetch_submission(pending.pk)
    return pending


def complete_submission(*, pending: PendingSubmission) -> PendingSubmission:
    """The queue's half of a submission: fetch the paper, then submit it with the usual rules.
    A refusal (arXiv unreachable or without the paper, too old, the day's limit) is recorded
    with its reason for the submit page; anything else propagates, for the queue to retry."""
    try:
        paper = Paper.objects.filter(arxiv_id=pending.arxiv_id).first() or _fetch_from_arxiv(pending.arxiv_id)
        pending.paper = paper
        submit_paper(user=pending.user, raw_id=pending.arxiv_id, comment=pending.comment)
    except Refused as exc:
        pending.status, pending.error = PendingSubmission.Status.FAILED, str(exc)[:500]
    else:
        pending.status, pending.error = PendingSubmission.Status.DONE, ""
    with transaction.atomic():
        pending.save(update_fields=["status", "error", "paper", "updated_at"])
        signals.submission_finished.send(sender=PendingSubmission, pending=pending)
    return pending


def fail_submission(*, pending: PendingSubmission, reason: str) -> None:
    with transaction.atomic():
        failed = PendingSubmission.objects.filter(pk=pending.pk, status=PendingSubmission.Status.FETCHING).update(
            status=PendingSubmission.Status.FAILED, error=reason[:500], updated_at=timezone.now())
        if failed:
            pending.refresh_from_db()
            signals.submission_finished.send(sender=PendingSubmission, pending=pending)


def _fetch_from_arxiv(arxiv_id: str) -> Paper:
    try:
        upsert_papers(records=arxiv_api.fetch_records(id_list=[arxiv_id]))
    except SourceError as exc:
        raise Refused.forbidden(f"Could not fetch {arxiv_id} from arXiv: {exc}") from exc
    paper = Paper.objects.filter(arxiv_id=arxiv_id).first()
    if paper is None:
        raise Refused.forbidden(f"arXiv has no paper {arxiv_id}.")
    return paper


# --- comments ------------------------------------------------------------------------------------

def _clean_body(body: str) -> str:
    body = body.strip()
    if not body:
        raise Refused.forbidden("A comment needs some text.")
    if len(body) > MAX_COMMENT_LENGTH:
        raise Refused.forbidden(f"A comment can be at most {MAX_COMMENT_LENGTH:,} characters.")
    return body


def _mentioned(body: str) -> list:
    """The users the comment's first MAX_MENTIONS @names name (the unknown ones are nobody)."""
    return selectors.users_named(names=markdown.mentions(body)[:MAX_MENTIONS])


def _render(body: str, mentioned: list) -> str:
    return markdown.render(body, usernames={u.username.lower(): u.username for u in mentioned})


def post_comment(*, user, paper: Paper, body: str, parent: Comment | None = None) -> Comment:
    ensure_can_post(user)
    if paper.comments_locked:
        raise Refused.forbidden("The discussion of this paper is locked by a moderator.")
    if parent is not None and (parent.paper_id != paper.pk or not parent.visible):
        raise Refused.forbidden("You can only reply to a visible comment on this paper.")
    body = _clean_body(body)
    mentioned = _mentioned(body)
    with transaction.atomic():
        comment = Comment.objects.create(
            paper=paper, author=user, parent=parent, body=body, body_html=_render(body, mentioned)
        )
        papers.adjust_counts(paper_id=paper.pk, comments=1)
        signals.comment_posted.send(sender=Comment, comment=comment, mentioned=mentioned)
    return comment


def edit_comment(*, user, comment: Comment, body: str, now: datetime | None = None) -> Comment:
    ensure_can_post(user)
    if comment.author_id != user.pk:
        raise Refused.forbidden("You can only edit your own comments.")
    if not comment.visible:
        raise Refused.forbidden("This comment was removed.")
    now = now or timezone.now()
    if now - comment.created_at > timedelta(minutes=settings.COMMENT_EDIT_MINUTES):
        raise Refused.forbidden(f"Comments can be edited for {settings.COMMENT_EDIT_MINUTES} minutes after posting.")
    comment.body = _clean_body(body)
    mentioned = _mentioned(comment.body)
    comment.body_html = _render(comment.body, mentioned)
    comment.edited_at = now
    with transaction.atomic():
        comment.save(update_fields=["body", "body_html", "edited_at"])
        signals.comment_edited.send(sender=Comment, comment=comment, mentioned=mentioned)
    papers.refresh_pages(paper_ids=[comment.paper_id], lists=False)  # the discussion shows the new text
    return comment


def _remove(comment: Comment, field: str) -> None:
    with transaction.atomic():
        was_visible = comment.visible
        setattr(comment, field, timezone.now())
        comment.save(update_fields=[field])
        if was_visible:
            papers.adjust_counts(paper_id=comment.paper_id, comments=-1)
        else:
            papers.refresh_pages(paper_ids=[comment.paper_id], lists=False)


def delete_comment(*, user, comment: Comment) -> None:
    if comment.author_id != user.pk:
        raise Refused.forbidden("You can only delete your own comments.")
    if comment.deleted_at is None:
        _remove(comment, "deleted_at")


def hide_comment(*, comment: Comment) -> None:
    """Moderation (from the admin): the comment stays in the database, out of sight."""
    if comment.hidden_at is None:
        _remove(comment, "hidden_at")


def resolve_report(*, report: Report, moderator) -> None:
    """Moderation (from the admin): the report is dealt with (its comment hidden, or the report dismissed)."""
    report.resolved_at, report.resolved_by = timezone.now(), moderator
    report.save(update_fields=["resolved_at", "resolved_by"])


def ban_user(*, user, moderator, reason: str) -> Ban:
    """Moderation (from the admin): the user reads but no longer posts, votes or submits. Once: a
    second ban keeps the first one's reason and moderator."""
    ban, _ = Ban.objects.get_or_create(user=user, defaults={"reason": reason, "banned_by": moderator})
    return ban


def report_comment(*, user, comment: Comment, reason: str) -> Report:
    ensure_can_post(user)
    if comment.author_id == user.pk:
        raise Refused.forbidden("You cannot report your own comment.")
    reason = reason.strip()[:MAX_REPORT_REASON_LENGTH] or "No reason given"
    report, created = Report.objects.get_or_create(comment=comment, reporter=user, defaults={"reason": reason})
    if not created:
        raise Refused.forbidden("You have reported this comment already; a moderator will look at it.")
    return report


# --- organizations -------------------------------------------------------------------------------

def create_organization(*, user, name: str, slug: str, avatar=None) -> Organization:
    ensure_can_post(user)
    ensure_verified_email(user=user, before="creating an organization")
    if Organization.objects.filter(slug__iexact=slug).exists():
        raise Refused.forbidden(f"The name “{slug}” is taken: choose another.")
    with transaction.atomic():
        org = Organization.objects.create(name=name, slug=slug, avatar=avatar or "")
        Membership.objects.create(organization=org, user=user, role=Membership.Role.ADMIN)
    return org


def _ensure_can_manage(*, actor, organization: Organization) -> None:
    ensure_can_post(actor)
    if not selectors.can_manage_members(user=actor, organization=organization):
        raise Refused.forbidden("Only the organization's admins can manage its members.")


def _role(role: str) -> str:
    if role not in Membership.Role.values:
        raise Refused.forbidden(f"A role is one of: {', '.join(Membership.Role.values)}.")
    return role


def invite_member(*, actor, organization: Organization, username: str, role: str) -> Invitation:
    """An admin invites a user; the user becomes a member only when they accept."""
    _ensure_can_manage(actor=actor, organization=organization)
    role = _role(role)
    invited = get_user_model().objects.filter(username__iexact=username.strip()).first()
    if invited is None:
        raise Refused.forbidden(f"There is no user “{username.strip()[:150]}”.")
    if Membership.objects.filter(organization=organization, user=invited).exists():
        raise Refused.forbidden(f"{invited.username} is a member already: change their role in the member list.")
    invitation, _ = Invitation.objects.update_or_create(
        organization=organization, user=invited, defaults={"role": role, "invited_by": actor}
    )
    return invitation


def accept_invitation(*, user, invitation: Invitation) -> Membership:
    ensure_can_post(user)
    if invitation.user_id != user.pk:
        raise Refused.forbidden("This invitation is for someone else.")
    with transaction.atomic():
        membership, _ = Membership.objects.update_or_create(
            organization=invitation.organization, user=user, defaults={"role": invitation.role}
        )
        invitation.delete()
    # No cached page shows members (the organization page is rendered per request): nothing to refresh.
    return membership


def decline_invitation(*, user, invitation: Invitation) -> None:
    if invitation.user_id != user.pk:
        raise Refused.forbidden("This invitation is for someone else.")
    invitation.delete()


def _lock_admins(organization: Organization) -> int:
    """Lock the organization's row (so two admins demoting each other at once are serialised)
    and count its admins under that lock."""
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    return Membership.objects.filter(organization=organization, role=Membership.Role.ADMIN).count()


LAST_ADMIN = "An organization always keeps an admin: make another member admin first."


def change_member_role(*, actor, membership: Membership, role: str) -> Membership:
    organization = membership.organization
    _ensure_can_manage(actor=actor, organization=organization)
    role = _role(role)
    with transaction.atomic():
        admins = _lock_admins(organization)
        membership.refresh_from_db()
        if membership.role == Membership.Role.ADMIN and role != Membership.Role.ADMIN and admins <= 1:
            raise Refused.forbidden(LAST_ADMIN)
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


def remove_member(*, actor, membership: Membership) -> None:
    """An admin (or staff) removes a member, or a member leaves (removes themselves)."""
    organization = membership.organization
    if membership.user_id != actor.pk:
        _ensure_can_manage(actor=actor, organization=organization)
    with transaction.atomic():
        admins = _lock_admins(organization)
        membership.refresh_from_db()
        if membership.role == Membership.Role.ADMIN and admins <= 1:
            raise Refused.forbidden(LAST_ADMIN)
        membership.delete()


def set_paper_organization(*, user, paper: Paper, organization: Organization | None) -> None:
    """Hugging Face's rule: the paper's submitter, an approved author of the paper, or staff set it,
    to an organization they are a member of (staff: any); an admin of the current organization
    may only remove it. Every change goes to the paper's admin history."""
    ensure_can_post(user)
    ensure_verified_email(user=user, before="setting a paper's organization")
    rights = selectors.organization_rights(user=user, paper=paper)
    if organization is None:
        if not rights.may_remove:
            raise Refused.forbidden("Only the paper's submitter, an approved author, an admin of its organization "
                                    "or staff "
                          "can remove its organization.")
    elif not rights.may_set:
        raise Refused.forbidden(
            "Only the paper's submitter, an approved author of it or staff can set its organization.")
    elif not user.is_staff and organization.pk not in {o.pk for o in rights.choices}:
        raise Refused.forbidden(
            f"You are not a member of {organization.name}: a paper goes under one of your own organizations.")
    with transaction.atomic():
        old = Paper.objects.select_for_update(of=("self",)).select_related("organization").get(pk=paper.pk).organization
        if old == organization:
            return
        papers.set_organization(paper_id=paper.pk, organization=organization)
        LogEntry.objects.log_actions(
            user_id=user.pk, queryset=[paper], action_flag=CHANGE, single_object=True,
            change_message=f"Organization changed on the site from {_org_label(old)} to {_org_label(organization)}",
        )


def _org_label(organization: Organization | None) -> str:
    return f"“{organization.name}” ({organization.slug})" if organization else "none"


# --- authorship claims ---------------------------------------------------------------------------

def claim_authorship(*, user, paper: Paper, author: Author) -> AuthorshipClaim:
    ensure_can_post(user)
    if not paper.authorships.filter(author=author).exists():
        raise Refused.forbidden(f"{author.name} is not an author of this paper.")
    claim, created = AuthorshipClaim.objects.get_or_create(user=user, paper=paper, author=author)
    if not created:
        raise Refused.forbidden(f"You have claimed {author.name} on this paper already ({claim.status}).")
    return claim


def decide_claim(*, claim: AuthorshipClaim, moderator, approve: bool) -> None:
    claim.status = AuthorshipClaim.Status.APPROVED if approve else AuthorshipClaim.Status.REJECTED
    claim.decided_by, claim.decided_at = moderator, timezone.now()
    claim.save(update_fields=["status", "decided_by", "decided_at"])
    papers.refresh_pages(paper_ids=[claim.paper_id], lists=False)  # the "Paper author" badge in its discussion
