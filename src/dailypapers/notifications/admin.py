from django.contrib import admin

from .models import Notification, NotificationMail, NotificationPreference


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "actor", "paper", "created_at", "read_at", "emailed_at"]
    list_filter = ["kind"]
    raw_id_fields = ["user", "actor", "paper", "comment", "submission", "mail"]


@admin.register(NotificationMail)
class NotificationMailAdmin(admin.ModelAdmin):
    list_display = ["to", "status", "claimed_at", "sent_at", "error"]
    list_filter = ["status"]
    raw_id_fields = ["user"]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "on_site", "by_email"]
    raw_id_fields = ["user"]
