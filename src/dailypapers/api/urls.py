from django.urls import path, re_path

from . import for_you, views  # noqa: F401 - for_you registers /api/v1/me/for-you on the native API
from .native import api as native_api

app_name = "api"

urlpatterns = [
    # The Hugging Face-compatible paths first: the huggingface_hub client calls these.
    path("daily_papers", views.daily_papers, name="daily_papers"),
    path("papers/search", views.papers_search, name="papers_search"),
    re_path(r"^papers/(?P<raw_id>.+)/similar$", views.paper_similar, name="paper_similar"),
    # Old-style ids contain a slash (hep-th/9901001), so this takes the rest of the path.
    re_path(r"^papers/(?P<raw_id>.+)$", views.paper_info, name="paper_info"),
    # The native API (django-ninja): /api/v1/..., /api/openapi.json, /api/docs.
    path("", native_api.urls),
]
