from django import forms
from django.contrib import admin
from django.core.files.uploadedfile import UploadedFile

from . import services
from .avatars import reencode_avatar
from .models import Author, Authorship, DailyEntry, HarvestState, Organization, Paper


class RefreshesPages(admin.ModelAdmin):
    """Edits made in the admin show on the site at once. An author's or organization's name is on
    every card of theirs, so by default an edit refreshes every cached page; `refresh` narrows it."""

    def refresh(self, objs) -> None:
        services.refresh_all_pages()

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)  # after save_model: the inlines are saved too
        self.refresh([form.instance])

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        self.refresh([obj])

    def delete_queryset(self, request, queryset):
        objs = list(queryset)
        super().delete_queryset(request, queryset)
        self.refresh(objs)


class AuthorshipInline(admin.TabularInline):
    model = Authorship
    extra = 0
    autocomplete_fields = ["author"]
    ordering = ["position"]


class DailyEntryInline(admin.TabularInline):
    model = DailyEntry
    extra = 0
    fields = ["day", "source", "submitted_by", "submitter_name", "submitted_at"]
    autocomplete_fields = ["submitted_by"]


@admin.register(Paper)
class PaperAdmin(RefreshesPages):
    list_display = ["arxiv_id", "title", "primary_category", "published_at", "upvotes", "num_comments", "organization"]
    list_filter = ["primary_category", "organization"]
    search_fields = ["arxiv_id", "title"]
    date_hierarchy = "published_at"
    autocomplete_fields = ["organization"]
    # Made by the worker from the text (search.keywords, papers.summaries), with what they came from.
    readonly_fields = ["created_at", "modified_at", "imported_upvotes", "imported_comments", "extracted_keywords",
                       "keywords_model", "keywords_text_hash", "llm_summary", "llm_summary_model", "llm_summary_hash",
                       "llm_summary_checked_at"]
    inlines = [AuthorshipInline, DailyEntryInline]
    actions = ["lock_comments", "unlock_comments"]

    def refresh(self, objs) -> None:
        # The form's inlines may change authors and daily entries, which search indexes too.
        services.mark_changed(paper_ids=[o.pk for o in objs])
        services.refresh_all_pages()

    @admin.action(description="Lock the discussion of the selected papers")
    def lock_comments(self, request, queryset):
        papers = list(queryset)
        services.lock_comments(paper_ids=[p.pk for p in papers], locked=True)
        for paper in papers:
            self.log_change(request, paper, "Locked comments")

    @admin.action(description="Unlock the discussion of the selected papers")
    def unlock_comments(self, request, queryset):
        papers = list(queryset)
        services.lock_comments(paper_ids=[p.pk for p in papers], locked=False)
        for paper in papers:
            self.log_change(request, paper, "Unlocked comments")


@admin.register(Author)
class AuthorAdmin(RefreshesPages):
    search_fields = ["name"]


class OrganizationAdminForm(forms.ModelForm):
    class Meta:
        model = Organization
        fields = ["slug", "name", "avatar_url", "hf_name", "avatar"]  # every editable field, named

    def clean_avatar(self):
        """A new upload is re-encoded like every other (papers.avatars); a kept or cleared one is left as it is."""
        avatar = self.cleaned_data.get("avatar")
        return reencode_avatar(avatar) if isinstance(avatar, UploadedFile) else avatar


@admin.register(Organization)
class OrganizationAdmin(RefreshesPages):
    form = OrganizationAdminForm
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(DailyEntry)
class DailyEntryAdmin(admin.ModelAdmin):
    list_display = ["day", "paper", "source", "submitter_display", "submitted_at"]
    list_filter = ["source", "day"]
    date_hierarchy = "day"
    search_fields = ["paper__arxiv_id", "paper__title", "submitter_name"]
    autocomplete_fields = ["paper", "submitted_by"]
    list_select_related = ["paper", "submitted_by"]
    actions = ["remove_from_list"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.mark_changed(paper_ids=[obj.paper_id])  # "on a daily list" is a search filter
        services.refresh_all_pages()  # the entry may have moved from another day

    def delete_model(self, request, obj):
        self.delete_queryset(request, DailyEntry.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        services.unlist(entries=queryset)

    @admin.action(description="Remove the selected papers from their day's list")
    def remove_from_list(self, request, queryset):
        self.log_deletions(request, queryset)
        services.unlist(entries=queryset)


@admin.register(HarvestState)
class HarvestStateAdmin(admin.ModelAdmin):
    list_display = ["key", "pages_done", "completed_at", "updated_at"]
    readonly_fields = ["key", "resumption_token", "pages_done", "completed_at", "updated_at"]
