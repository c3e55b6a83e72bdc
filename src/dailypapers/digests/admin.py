from django.contrib import admin

from .models import DigestDelivery, Subscription


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["email", "frequency", "topic", "personal", "confirmed_at", "unsubscribed_at", "inactive_reason"]
    list_filter = ["frequency", "personal"]
    search_fields = ["email", "topic"]
    raw_id_fields = ["user"]


@admin.register(DigestDelivery)
class DigestDeliveryAdmin(admin.ModelAdmin):
    list_display = ["subscription", "period", "status", "papers", "claimed_at", "sent_at"]
    list_filter = ["status", "period"]
    raw_id_fields = ["subscription"]
