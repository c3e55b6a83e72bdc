from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from dailypapers import views
from dailypapers.ops import views as ops_views

admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]  # the site's login, with its throttling, for the admin too

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="papers:daily", permanent=False)),
    path("favicon.ico", views.favicon),
    path("healthz", ops_views.healthz, name="healthz"),
    path("admin/status/", admin.site.admin_view(ops_views.status), name="ops-status"),  # before the admin's own
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/", include("dailypapers.api.urls")),
    path("feeds/", include("dailypapers.feeds.urls")),
    path("settings/", include("dailypapers.api.token_urls")),
    path("digest/", include("dailypapers.digests.urls")),
    path("", include("dailypapers.notifications.urls")),
    path("", include("dailypapers.personal.urls")),  # /papers/for-you before the pages' catch-all
    path("", include("dailypapers.exports.urls")),  # "….bib" before the pages' catch-all paper route
    path("", include("dailypapers.collections.urls")),  # a paper's /save, before the pages' catch-all
    path("", include("dailypapers.follows.urls")),  # /follows and the Follow buttons
    path("", include("dailypapers.community.urls")),  # before the pages' catch-all paper route
    path("", include("dailypapers.pages.urls")),
    re_path(r"^media/(?P<path>.*)$", views.media),
]

handler400 = "dailypapers.views.bad_request"
handler404 = "dailypapers.views.page_not_found"
handler429 = "dailypapers.views.rate_limited"  # also used by allauth for its own limits
