"""The native JSON API (django-ninja): /api/v1/..., OpenAPI at /api/openapi.json, docs at /api/docs.

Reads are open to everyone (anonymous clients within API_ANON_RATE per address); votes,
submissions and comments need a personal API token (`Authorization: Bearer <token>`, made on
/settings/tokens). Lists are paged with `page` (from 1) and `per_page`, and answer `count`
and `pages`. Every error is {"error": "sentence", "detail": optional}.

One module per job: errors (the one error mapping), auth (tokens and limits), serializers (the
shapes), and a router per group of paths (papers, lists, search, orgs, me, for_you, notifications);
request and response schemas are in api.schemas.
"""

from django.urls import register_converter
from ninja import NinjaAPI

from . import errors, follows, for_you, lists, me, notifications, orgs, papers, search
from .auth import AnonymousLimit


class AnyText:
    """A path parameter that takes the rest of the path, newlines and slashes included (old-style arXiv
    ids contain a slash), so every value reaches the view and gets a JSON answer."""

    regex = r"[\s\S]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(AnyText, "anytext")

api = NinjaAPI(
    title="dailypapers API",
    version="1",
    description=(
        "The native API of this Daily Papers site. Reads are public (anonymous clients: at most "
        "API_ANON_RATE requests per address, default 500 per 5 minutes); votes, submissions and comments "
        "need a personal API token sent as `Authorization: Bearer <token>` (create one on /settings/tokens). "
        "Errors are always `{\"error\": \"…\"}`, sometimes with `detail`. The Hugging Face-compatible "
        "paths (/api/daily_papers, /api/papers/search, /api/papers/{id}) are separate and not listed here."
    ),
    urls_namespace="api:native",  # "native", inside api/urls.py's app namespace "api"
    openapi_url="openapi.json",
    docs_url="docs",
    throttle=[AnonymousLimit()],
)
errors.install(api)

for module in (papers, lists, search, orgs, me, for_you, follows, notifications):
    api.add_router("/v1/", module.router)
