from django.urls import path, re_path

from . import views

app_name = "papers"  # the URL names predate the move to pages/: kept, templates use them

urlpatterns = [
    path("papers", views.daily, name="daily"),
    path("papers/trending", views.trending, name="trending"),
    path("papers/date", views.pick_date, name="pick_date"),
    path("papers/date/<str:value>", views.by_date, name="date"),
    path("papers/week/<str:value>", views.by_week, name="week"),
    path("papers/month/<str:value>", views.by_month, name="month"),
    path("authors/<int:pk>", views.author, name="author"),
    path("organizations/<slug:slug>", views.organization, name="organization"),
    # Old-style ids contain a slash (hep-th/9901001), so these two take the rest of the path.
    re_path(r"^papers/(?P<raw_id>.+)\.md$", views.paper_markdown, name="paper_markdown"),
    re_path(r"^papers/(?P<raw_id>.+)$", views.paper, name="paper"),
]
