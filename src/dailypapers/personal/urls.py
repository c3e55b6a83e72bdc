from django.urls import path, re_path

from . import views

app_name = "personal"

urlpatterns = [
    path("papers/for-you", views.for_you, name="for_you"),
    path("papers/for-you/filters", views.filters, name="filters"),
    # Old-style arXiv ids contain a slash (hep-th/9901001): the id takes the rest of the path.
    re_path(r"^papers/for-you/not-interested/(?P<raw_id>.+)$", views.not_interested, name="not_interested"),
    re_path(r"^papers/for-you/undo/(?P<raw_id>.+)$", views.undo_not_interested, name="undo"),
]
