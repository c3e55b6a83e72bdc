"""/healthz for load balancers and monitors, and the admin's status page."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from . import health, selectors


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database, the shared cache and the queue all answer; 503 naming the one that
    does not. Anonymous and cheap (three round trips), never cached."""
    ok, checks = health.check_all()
    return JsonResponse({"status": "ok" if ok else "error", "checks": checks}, status=200 if ok else 503)


def status(request: HttpRequest) -> HttpResponse:
    """The same numbers as `dailypapers status`, for staff (wrapped in admin_view in urls.py)."""
    context = {**admin.site.each_context(request), "title": "Site status", "status": selectors.site_status()}
    ok, checks = health.check_all()
    context.update(health_ok=ok, checks=checks)
    return render(request, "ops/status.html", context)
