from django.contrib import admin

from .models import Collection, CollectionItem


class CollectionItemInline(admin.TabularInline):
    model = CollectionItem
    raw_id_fields = ["paper"]
    extra = 0


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "is_public", "is_default", "updated_at"]
    list_filter = ["is_public", "is_default"]
    search_fields = ["title", "owner__username"]
    raw_id_fields = ["owner"]
    inlines = [CollectionItemInline]
