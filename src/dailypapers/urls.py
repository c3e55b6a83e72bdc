from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="papers:daily", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/", include("dailypapers.api.urls")),
    path("feeds/", include("dailypapers.feeds.urls")),
    path("", include("dailypapers.papers.urls")),
]

handler400 = "dailypapers.views.bad_request"
handler404 = "dailypapers.views.page_not_found"
