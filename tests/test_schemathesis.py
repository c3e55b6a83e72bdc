"""A bounded schemathesis run against the native API's own OpenAPI document (/api/openapi.json),
in-process through the WSGI app: for every operation, generated requests must never get a 5xx,
and every response must be documented (status code, content type, body schema).

Bounded and reproducible for CI: MAX_EXAMPLES per operation, derandomize=True, no example database.
"""

import re
import time

import pytest
import schemathesis
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from dailypapers.api.services import create_token
from dailypapers.community.services import post_comment
from dailypapers.follows.services import follow_organization
from dailypapers.papers.models import Organization, Paper
from dailypapers.search import services as search_services

from .helpers import load_three_days

MAX_EXAMPLES = 40
# Besides fully generated path parameters (mostly unknown ids: 404s), each operation with path
# parameters also runs with ones that exist, so the success paths get generated queries and bodies.
KNOWN = {"arxiv_id": "2603.00002", "day": "2026-03-16", "week": "2026-W12", "month": "2026-03", "slug": "acme-ai",
         "submission_id": "1"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
HYPOTHESIS = hypothesis_settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as found
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def wsgi_app():
    """Django's WSGI app, called in-process; like Django's test client, it must not close the test
    transaction's database connection at the end of each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
def test_native_api_conforms_to_its_openapi(settings, wsgi_app):
    settings.API_ANON_RATE = "1000000/5m"  # the run makes hundreds of anonymous requests
    # Submissions of unknown ids would fetch from arXiv: point that at a closed local port (refused at once).
    settings.ARXIV_API_URL = "http://127.0.0.1:9/api/query"
    load_three_days()
    search_services.index_keywords(rebuild=True)
    search_services.embed_pending()
    user = get_user_model().objects.create_user("fuzzer", "fuzzer@example.org", "pw")
    post_comment(user=user, paper=Paper.objects.get(arxiv_id="2603.00002"), body="A first comment.")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    _, token = create_token(user=user, name="schemathesis")
    follow, _ = follow_organization(user=user, organization=Organization.objects.get(slug="acme-ai"))
    known = {**KNOWN, "follow_id": str(follow.pk)}  # deleted by the first DELETE: the 404s come after

    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", wsgi_app)
    started, failures, ran, statuses = time.perf_counter(), [], [], {}
    for result in schema.get_all_operations():
        operation = result.ok()
        headers = _auth_headers(operation, token)
        ran.append(operation.label)
        names = re.findall(r"{(\w+)}", operation.path)
        variants = [None] + ([{name: known[name] for name in names}] if names else [])
        for path_parameters in variants:

            @given(case=operation.as_strategy(path_parameters=path_parameters))
            @HYPOTHESIS
            def check(case):
                response = case.call_and_validate(headers=headers, checks=CHECKS)  # noqa: B023 - check() runs before the loop moves on
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

            try:
                check()
            except Exception as exc:  # noqa: BLE001 - collect every operation's failure, then report all
                failures.append(f"{operation.label} {path_parameters or ''}: {exc}")
    took = time.perf_counter() - started
    print(f"schemathesis: {len(ran)} operations, max {MAX_EXAMPLES} examples each, {took:.1f} s; "
          f"statuses {dict(sorted(statuses.items()))}")
    assert len(ran) >= 15
    assert not failures, "\n\n".join(failures)
    assert statuses.get(200, 0) + statuses.get(201, 0) > 0 and not any(code >= 500 for code in statuses)


def _auth_headers(operation, token: str) -> dict:
    """The token for operations that declare security; none for the public ones (anonymous clients)."""
    security = operation.definition.raw.get("security")
    return {"Authorization": f"Bearer {token}"} if security else {}
