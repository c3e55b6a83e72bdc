from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("notifications", views.page, name="page"),
    path("notifications/read", views.read_all, name="read_all"),
    path("notifications/<int:pk>/read", views.read_one, name="read"),
    path("notifications/preferences", views.preferences, name="preferences"),
    path("notifications/unsubscribe/<str:token>", views.unsubscribe, name="unsubscribe"),
]
