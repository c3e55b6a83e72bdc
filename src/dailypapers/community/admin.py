"""Moderation from the Django admin. Every action is recorded in the admin's history
(LogEntry: who, when, what), including the bulk actions below."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from dailypapers.papers import services as papers
from dailypapers.papers.admin import RefreshesPages

from . import services
from .models import AuthorshipClaim, Ban, Comment, Invitation, Membership, Report, Vote


def _log(modeladmin, request, obj, message: str) -> None:
    modeladmin.log_change(request, obj, message)


@admin.register(Comment)
class CommentAdmin(RefreshesPages):
    list_display = ["pk", "paper", "author", "created_at", "is_visible", "report_count"]
    list_filter = ["hidden_at", "deleted_at"]
    search_fields = ["body", "author__username", "paper__arxiv_id"]
    raw_id_fields = ["paper", "author", "parent"]
    readonly_fields = ["body_html", "created_at", "edited_at", "deleted_at", "hidden_at"]
    actions = ["hide"]

    def refresh(self, objs) -> None:
        papers.refresh_pages(paper_ids={c.paper_id for c in objs})  # the discussions and comment counts shown

    @admin.display(boolean=True, description="visible")
    def is_visible(self, obj):
        return obj.visible

    @admin.display(description="reports")
    def report_count(self, obj):
        return obj.reports.count()

    @admin.action(description="Hide the selected comments")
    def hide(self, request, queryset):
        for comment in queryset:
            services.hide_comment(comment=comment)
            _log(self, request, comment, "Hid the comment")
        self.message_user(request, f"Hid {queryset.count()} comment(s).")


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ["comment", "reporter", "reason", "created_at", "resolved_at", "resolved_by"]
    list_filter = ["resolved_at"]
    raw_id_fields = ["comment", "reporter", "resolved_by"]
    actions = ["hide_and_resolve", "dismiss"]

    def _resolve(self, request, report, message):
        services.resolve_report(report=report, moderator=request.user)
        _log(self, request, report, message)

    @admin.action(description="Hide the reported comments and resolve")
    def hide_and_resolve(self, request, queryset):
        for report in queryset.select_related("comment"):
            services.hide_comment(comment=report.comment)
            self._resolve(request, report, "Hid the reported comment")

    @admin.action(description="Dismiss (keep the comments)")
    def dismiss(self, request, queryset):
        for report in queryset:
            self._resolve(request, report, "Dismissed the report")


@admin.register(Ban)
class BanAdmin(admin.ModelAdmin):
    list_display = ["user", "reason", "banned_by", "created_at"]
    raw_id_fields = ["user"]
    # Filled with the moderator who saves the ban, never typed in.
    readonly_fields = ["banned_by", "created_at"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.banned_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(AuthorshipClaim)
class AuthorshipClaimAdmin(admin.ModelAdmin):
    list_display = ["user", "author", "position", "paper", "status", "created_at", "decided_by"]
    list_filter = ["status"]
    list_select_related = ["user", "authorship__author", "authorship__paper", "decided_by"]
    raw_id_fields = ["user", "authorship"]
    actions = ["approve", "reject"]

    @admin.display(description="author", ordering="authorship__author__name")
    def author(self, claim: AuthorshipClaim) -> str:
        return claim.authorship.author.name

    @admin.display(description="position", ordering="authorship__position")
    def position(self, claim: AuthorshipClaim) -> int:
        return claim.authorship.position + 1  # the first author is 1, as a reader counts

    @admin.display(description="paper", ordering="authorship__paper__arxiv_id")
    def paper(self, claim: AuthorshipClaim) -> str:
        return claim.authorship.paper.arxiv_id

    @admin.action(description="Approve the selected claims")
    def approve(self, request, queryset):
        for claim in queryset:
            services.decide_claim(claim=claim, moderator=request.user, approve=True)
            _log(self, request, claim, "Approved the claim")

    @admin.action(description="Reject the selected claims")
    def reject(self, request, queryset):
        for claim in queryset:
            services.decide_claim(claim=claim, moderator=request.user, approve=False)
            _log(self, request, claim, "Rejected the claim")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["organization", "user", "role", "created_at"]
    raw_id_fields = ["organization", "user"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["organization", "user", "role", "invited_by", "created_at"]
    raw_id_fields = ["organization", "user", "invited_by"]


@admin.register(Vote)
class VoteAdmin(admin.ModelAdmin):
    list_display = ["user", "paper", "created_at"]
    raw_id_fields = ["user", "paper"]


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class ModeratedUserAdmin(UserAdmin):
    actions = ["ban"]

    @admin.action(description="Ban the selected users (they can still read)")
    def ban(self, request, queryset):
        for user in queryset.exclude(pk=request.user.pk):
            services.ban_user(user=user, moderator=request.user, reason="Banned from the user list")
            _log(self, request, user, "Banned the user")
        messages.success(request, "Banned the selected users.")
