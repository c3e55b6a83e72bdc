from django.urls import path, re_path

from . import views

app_name = "api"

urlpatterns = [
    path("papers/search", views.papers_search, name="papers_search"),
    re_path(r"^papers/(?P<raw_id>.+)/similar$", views.paper_similar, name="paper_similar"),
]
