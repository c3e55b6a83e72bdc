from django.urls import re_path

from . import views

app_name = "exports"

BIB = r"\.bib$"

# Included before the papers app's catch-all paper route, which would take "….bib" as an id.
urlpatterns = [
    re_path(r"^papers" + BIB, views.search_bib, name="search"),
    re_path(r"^papers/trending" + BIB, views.trending_bib, name="trending"),
    re_path(r"^papers/date/(?P<value>[^/]+?)" + BIB, views.day_bib, name="date"),
    re_path(r"^papers/week/(?P<value>[^/]+?)" + BIB, views.week_bib, name="week"),
    re_path(r"^papers/month/(?P<value>[^/]+?)" + BIB, views.month_bib, name="month"),
    re_path(r"^papers/(?P<raw_id>.+?)" + BIB, views.paper_bib, name="paper"),
]
