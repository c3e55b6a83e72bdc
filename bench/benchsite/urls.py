"""The site's own URLs plus /bench/bare: a tiny template through the same middleware."""

from django.urls import path
from django.views.generic import TemplateView

from dailypapers.urls import handler400, handler404  # noqa: F401
from dailypapers.urls import urlpatterns as site_urlpatterns

urlpatterns = [
    path("bench/bare", TemplateView.as_view(template_name="bench/bare.html")),
    *site_urlpatterns,
]
