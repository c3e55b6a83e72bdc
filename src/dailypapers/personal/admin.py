from django.contrib import admin

from .models import FeedFilters, Impression, NotInterested


@admin.register(NotInterested)
class NotInterestedAdmin(admin.ModelAdmin):
    list_display = ["user", "paper", "created_at"]
    raw_id_fields = ["user", "paper"]


@admin.register(Impression)
class ImpressionAdmin(admin.ModelAdmin):
    list_display = ["user", "paper", "count", "last_shown_at"]
    raw_id_fields = ["user", "paper"]


@admin.register(FeedFilters)
class FeedFiltersAdmin(admin.ModelAdmin):
    list_display = ["user", "include", "exclude", "updated_at"]
    raw_id_fields = ["user"]
