from django.contrib import admin

from .models import FeedToken, Follow


@admin.register(Follow)
class FollowAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "author", "organization", "query", "digest", "created_at"]
    list_filter = ["kind", "digest"]
    raw_id_fields = ["user", "author", "organization"]


@admin.register(FeedToken)
class FeedTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "created_at"]
    raw_id_fields = ["user"]
    exclude = ["token"]  # a secret: the admin neither shows nor edits it
