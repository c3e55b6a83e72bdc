"""/api/v1/organizations…: organizations and their papers."""

import re

from django.db.models import Count
from ninja import Query, Router

from dailypapers.errors import Refused
from dailypapers.limits import MAX_SLUG_LENGTH
from dailypapers.papers import selectors
from dailypapers.papers.models import Organization

from .. import schemas as s
from . import serializers as out
from .errors import responses

router = Router(tags=["organizations"])
_SLUG = re.compile(rf"[-a-zA-Z0-9_]{{1,{MAX_SLUG_LENGTH}}}")


@router.get("/organizations", response=responses(s.OrganizationPage), summary="Organizations, by name")
def list_organizations(request, paging: Query[s.PageParams]):
    page = paging.paging()
    organizations = Organization.objects.annotate(paper_count=Count("papers")).order_by("name", "pk")
    items = [out.organization(o, o.paper_count) for o in page.of(organizations)]
    return out.page_of(organizations.count(), page, items)


@router.get("/organizations/{anytext:slug}", response=responses(s.OrganizationDetailOut, errors={404}),
            summary="An organization and its papers, newest first")
def organization_detail(request, slug: str, paging: Query[s.PageParams]):
    org = Organization.objects.filter(slug=slug).first() if _SLUG.fullmatch(slug) else None
    if org is None:
        raise Refused.not_found(f"There is no organization {slug[:MAX_SLUG_LENGTH]!r}.")
    page = paging.paging()
    papers = selectors.organization_papers(organization=org).order_by("-published_at", "-pk")
    count = papers.count()
    return {"organization": out.organization(org, count),
            "papers": out.page_of(count, page, out.papers(list(page.of(papers))))}
