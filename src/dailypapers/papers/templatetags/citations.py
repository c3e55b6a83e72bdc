"""`{{ paper|bibtex }}`, the paper's BibTeX entry for the paper page's Cite box, and
`{% bib_url period day %}`, the BibTeX export of a list page."""

from datetime import date

from django import template
from django.urls import reverse

from dailypapers.papers import bibtex as bib
from dailypapers.papers.models import Paper
from dailypapers.papers.selectors import bib_papers

register = template.Library()


@register.filter
def bibtex(paper: Paper) -> str:
    return bib.entry(bib_papers(papers=[paper])[0])


@register.simple_tag
def bib_url(period: str, day: date | None) -> str:
    """The .bib export of the list a page shows (a day, ISO week or month, or trending)."""
    if period == "trending":
        return reverse("exports:trending")
    if day is None:
        return ""
    year, week, _ = day.isocalendar()
    name, value = {
        "day": ("exports:date", day.isoformat()),
        "week": ("exports:week", f"{year}-W{week:02d}"),
        "month": ("exports:month", day.strftime("%Y-%m")),
    }[period]
    return reverse(name, args=[value])
