"""Issue 8, HTTP side: the CSP header, the anonymous page cache, control characters in input,
deployment settings (check --deploy, the client's address behind proxies), private data-dir
files, 404 reasons and gunicorn's control socket."""

import os
import secrets
import socket
import stat
import subprocess
import sys
import time

import pytest
from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory

from dailypapers.pagecache import cached_response

from .helpers import load_three_days, run_cli

User = get_user_model()


@pytest.fixture
def three_days_db(db):
    load_three_days()


def make_user(username: str = "carol", password: str = "correct horse battery") -> User:
    from allauth.account.models import EmailAddress

    user = User.objects.create_user(username, f"{username}@example.org", password)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


# -- 1: Content-Security-Policy on every HTML response ------------------------------------------

CSP_DIRECTIVES = {
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
    "object-src 'none'", "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'",
}


def assert_csp(response, url: str) -> None:
    assert response["Content-Type"].startswith("text/html"), url
    policy = response.get("Content-Security-Policy", "")
    assert {part.strip() for part in policy.split(";")} == CSP_DIRECTIVES, (url, policy)
    assert "unsafe" not in policy


@pytest.mark.parametrize("url, status", [
    ("/papers", 200),
    ("/papers/trending", 200),
    ("/papers/date/2026-03-16", 200),
    ("/papers/week/2026-W12", 200),
    ("/papers/month/2026-03", 200),
    ("/papers/2603.00002", 200),
    ("/papers?q=attention", 200),
    ("/organizations/acme-ai", 200),
    ("/accounts/login/", 200),
    ("/accounts/signup/", 200),
    ("/accounts/password/reset/", 200),
    ("/accounts/login/?next=/admin/", 200),  # where /admin/login/ sends everyone
    ("/digest/subscribe", 200),
    ("/digest/confirm/not-a-token", 400),
    ("/papers/date/not-a-date", 400),
    ("/users/a%00b", 400),
    ("/no/such/page", 404),
    ("/papers/2699.99999", 404),
])
def test_every_html_page_carries_the_csp(client, three_days_db, url, status):
    response = client.get(url)
    assert response.status_code == status, url
    assert_csp(response, url)


def test_csp_on_403_and_429_pages_too(three_days_db, settings):
    settings.RATE_COMMENT = "1/m"
    user = make_user()
    client = Client()
    client.force_login(user)
    assert client.post("/papers/2603.00002/comments", {"body": "first"}).status_code == 302
    limited = client.post("/papers/2603.00002/comments", {"body": "second"})
    assert limited.status_code == 429
    assert_csp(limited, "429")

    strict = Client(enforce_csrf_checks=True)
    forbidden = strict.post("/accounts/login/", {"login": "carol", "password": "x"})
    assert forbidden.status_code == 403
    assert_csp(forbidden, "403")


# -- 3: the anonymous page cache never shares a personal page ------------------------------------

def test_flash_messages_are_never_served_to_other_visitors(three_days_db):
    make_user("carol")
    carol = Client()
    response = carol.post("/accounts/login/", {"login": "carol", "password": "correct horse battery"})
    assert response.status_code == 302
    # Carol signs out before any page showed her the sign-in message: both messages are now
    # waiting in her (anonymous) browser.
    assert carol.post("/accounts/logout/").status_code == 302
    own = carol.get("/papers").content.decode()
    assert "Successfully signed in as carol" in own

    for _ in range(2):  # the first anonymous visitor fills the cache, the second reads it
        page = Client().get("/papers").content.decode()
        assert "Successfully signed in as carol" not in page
        assert "signed out" not in page
    assert "messages" not in Client().get("/papers").cookies


def _request(path: str = "/papers"):
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore

    request = RequestFactory().get(path)
    request.user = AnonymousUser()
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


@pytest.mark.django_db
def test_a_response_that_sets_a_cookie_is_not_cached():
    def with_cookie():
        response = HttpResponse("mine")
        response.set_cookie("someone", "value")
        return response

    cached_response(_request(), with_cookie)
    assert cached_response(_request(), lambda: HttpResponse("fresh")).content == b"fresh"


@pytest.mark.django_db
def test_a_page_with_a_csrf_token_is_not_cached():
    def with_form(request):
        return lambda: HttpResponse(f"<form>{get_token(request)}</form>")

    first = _request()
    first_body = cached_response(first, with_form(first)).content
    second = _request()
    second_body = cached_response(second, with_form(second)).content
    # Each visitor's page holds a token for their own cookie, never the first visitor's.
    assert first_body != second_body
    assert second.META.get("CSRF_COOKIE_NEEDS_UPDATE")


@pytest.mark.django_db
def test_a_page_that_uses_the_session_is_not_cached():
    def writes_session(request):
        def render():
            request.session["seen"] = True
            return HttpResponse("personal")
        return render

    first = _request()
    cached_response(first, writes_session(first))
    assert cached_response(_request(), lambda: HttpResponse("fresh")).content == b"fresh"


@pytest.mark.django_db
def test_shareable_pages_are_still_cached():
    cached_response(_request(), lambda: HttpResponse("shared"))
    assert cached_response(_request(), lambda: HttpResponse("fresh")).content == b"shared"


def test_anonymous_forms_still_post_after_cached_pages(three_days_db):
    """A browser that first gets cached pages can still sign in: the login page (with its CSRF
    form) is its own, and the cookie matches the token in it."""
    make_user("dave")
    Client().get("/papers")  # fills the cache
    browser = Client(enforce_csrf_checks=True)
    browser.get("/papers")
    browser.get("/papers/2603.00002")
    login_page = browser.get("/accounts/login/")
    token = login_page.content.decode().split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    response = browser.post("/accounts/login/", {"login": "dave", "password": "correct horse battery",
                                                 "csrfmiddlewaretoken": token})
    assert response.status_code == 302


# -- 10: control characters are a 400, never a 500 ------------------------------------------------

@pytest.mark.parametrize("url", [
    "/users/a%00b",
    "/papers/2603.00002%00",
    "/organizations/a%00b",
    "/papers?q=%00",
    "/papers?q=a%1bb",
    "/feeds/daily.rss?q=%00",
])
def test_control_characters_in_a_page_address_are_a_400_page(client, three_days_db, url):
    response = client.get(url)
    assert response.status_code == 400, url
    assert "control character" in response.content.decode()
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("url", [
    "/api/daily_papers?submitter=%00",
    "/api/papers/search?q=%00",
    "/api/v1/papers?q=%00",
    "/api/v1/papers/2603.00002%00",
])
def test_control_characters_in_an_api_address_are_a_400_json(client, three_days_db, url):
    response = client.get(url)
    assert response.status_code == 400, url
    assert "control character" in response.json()["error"]


def test_control_characters_in_form_fields_are_a_400(three_days_db):
    user = make_user()
    client = Client()
    client.force_login(user)
    from dailypapers.api.models import ApiToken

    response = client.post("/settings/tokens", {"name": "a\x00b"})
    assert response.status_code == 400 and "form contains a control character" in response.content.decode()
    response = client.post("/organizations/new", {"slug": "a\x00b", "name": "Evil"})
    assert response.status_code == 400
    response = client.post("/papers/2603.00002/comments", {"body": "bell\x07"})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()
    # Tab, newline and carriage return are text.
    assert client.post("/papers/2603.00002/comments", {"body": "line\r\n\tindented"}).status_code == 302


def test_control_characters_in_a_json_body_are_a_400(three_days_db):
    from dailypapers.api.services import create_token

    user = make_user()
    raw = create_token(user=user, name="tests")[1]
    response = Client().post(
        "/api/v1/papers/2603.00002/comments", data='{"body": "a\\u0000b"}',
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert response.status_code == 400
    assert "JSON body contains a control character" in response.json()["error"]
    # An escaped backslash before "u0000" is plain text, not NUL.
    ok = Client().post(
        "/api/v1/papers/2603.00002/comments", data='{"body": "a\\\\u0000b"}',
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert ok.status_code == 201


# -- 14: deployment settings ----------------------------------------------------------------------

PRODUCTION_ENV = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "papers.example.org",
    "DAILYPAPERS_HTTPS": "1",
    "DAILYPAPERS_TRUSTED_PROXY_COUNT": "1",
}


def test_check_deploy_is_clean_with_the_documented_production_settings(tmp_path):
    result = run_cli("check", "--deploy", "--fail-level", "WARNING", data_dir=tmp_path / "data", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_without_https(tmp_path):
    env = {**PRODUCTION_ENV, "DAILYPAPERS_HTTPS": "0"}
    result = run_cli("check", "--deploy", "--fail-level", "WARNING", data_dir=tmp_path / "data", **env)
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr


def test_https_settings_follow_the_environment(tmp_path):
    code = ("from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
            "s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT, s.SECURE_PROXY_SSL_HEADER, s.ALLAUTH_TRUSTED_PROXY_COUNT)")
    result = run_cli("shell", "--no-imports", "-c", code, data_dir=tmp_path / "data", **PRODUCTION_ENV)
    assert result.stdout.split() == ["True", "True", "31536000", "True", "('HTTP_X_FORWARDED_PROTO',", "'https')", "1"]


def _api_get(xff: str):
    return Client().get("/api/daily_papers", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=xff)


def test_behind_a_proxy_each_client_has_its_own_rate_limit_bucket(three_days_db, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.API_ANON_RATE = "2/h"  # an hour: a window cannot roll over mid-test
    for _ in range(2):
        assert _api_get("203.0.113.5").status_code == 200
    assert _api_get("203.0.113.5").status_code == 429
    # Another client behind the same proxy is not limited by the first one's requests...
    assert _api_get("203.0.113.6").status_code == 200
    # ...and a client cannot get a fresh bucket by sending its own X-Forwarded-For: the proxy
    # appends the real address, and only that entry counts.
    assert _api_get("198.51.100.77, 203.0.113.5").status_code == 429
    assert _api_get("garbage, 203.0.113.5").status_code == 429


def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(three_days_db, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    settings.API_ANON_RATE = "2/h"  # an hour: a window cannot roll over mid-test
    for xff in ("203.0.113.5", "203.0.113.6"):
        assert _api_get(xff).status_code == 200
    assert _api_get("203.0.113.7").status_code == 429  # all from 127.0.0.1


@pytest.mark.parametrize("xff, hops, expected", [
    ("203.0.113.5", 1, "203.0.113.5"),
    ("1.2.3.4, 203.0.113.5", 1, "203.0.113.5"),
    ("1.2.3.4, 203.0.113.5, 10.0.0.9", 2, "203.0.113.5"),
    ("203.0.113.5", 0, "127.0.0.1"),
])
def test_allauth_and_our_rate_limits_agree_on_the_client_address(settings, xff, hops, expected):
    from allauth.core.internal.httpkit import get_client_ip

    from dailypapers.security import client_ip

    settings.TRUSTED_PROXY_COUNT = settings.ALLAUTH_TRUSTED_PROXY_COUNT = hops
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=xff)
    assert client_ip(request) == get_client_ip(request) == expected


# -- 15: the data dir is private ------------------------------------------------------------------

def _modes(root) -> dict[str, int]:
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = stat.S_IMODE(path.stat().st_mode)
    return found


def test_migrate_in_a_fresh_data_dir_makes_it_private(tmp_path):
    data_dir = tmp_path / "data"
    result = run_cli("migrate", "--no-input", data_dir=data_dir, SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr
    modes = _modes(data_dir)
    assert "dailypapers.sqlite3" in modes
    for name, mode in modes.items():
        expected = 0o700 if (data_dir / name).is_dir() else 0o600
        assert mode == expected, (name, oct(mode))


def test_an_existing_world_readable_data_dir_is_tightened(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    data_dir.chmod(0o755)
    assert run_cli("check", data_dir=data_dir, SECRET_KEY="x" * 50).returncode == 0
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700


# -- 18: the 404 page ----------------------------------------------------------------------------

# (/favicon.ico was one of these until the site had an icon: it is served now, see test_browser_a11y.)
@pytest.mark.parametrize("url", ["/apple-touch-icon.png", "/no/such/page", "/media/missing.png", "/static/missing.css"])
def test_unknown_addresses_get_a_generic_404(client, db, url):
    response = client.get(url)
    assert response.status_code == 404
    body = response.content.decode()
    assert "There is no page at this address" in body or "There is no such file" in body
    for leak in ("tried", "URLResolver", "URLPattern", "/work/", "site-packages", "media/missing", os.sep + "tmp"):
        assert leak not in body, leak


def test_the_apps_own_404_still_says_why(client, three_days_db):
    # (2699.99999 was the example until month 99 became an impossible id: see test_honest.)
    response = client.get("/papers/2601.99999")
    assert response.status_code == 404
    assert "No paper 2601.99999 here yet." in response.content.decode()
    impossible = client.get("/papers/2699.99999")
    assert impossible.status_code == 404 and "“2699.99999” cannot be an arXiv id" in impossible.content.decode()


# -- 20: gunicorn's control socket ----------------------------------------------------------------

def test_serve_argv_disables_gunicorns_shared_control_socket():
    from dailypapers.cli import gunicorn_argv

    argv = gunicorn_argv(host="127.0.0.1", port=8123, workers=3, access_log=False)
    assert argv[:2] == ["gunicorn", "dailypapers.wsgi:application"]
    assert "--no-control-socket" in argv and "--control-socket" not in argv
    assert argv[argv.index("--bind") + 1] == "127.0.0.1:8123" and argv[argv.index("--workers") + 1] == "3"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_real_serve_leaves_no_control_socket_behind(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(HOME=str(tmp_path), DAILYPAPERS_DATA_DIR=str(tmp_path / "data"), SECRET_KEY="x" * 50)
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "dailypapers.cli", "serve", "--no-background", "--port", str(port),
             "--workers", "1"],
            env=env, stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path,
        )
    try:
        deadline = time.monotonic() + 60
        while "Booting worker" not in log.read_text():
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(b"GET /static/dailypapers/site.js HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            assert conn.recv(64).startswith(b"HTTP/1.")
        time.sleep(1)  # gunicorn opens its control socket right after the first worker boots
    finally:
        process.terminate()
        process.wait(timeout=30)
    text = log.read_text()
    assert "Control socket" not in text
    assert not (tmp_path / ".gunicorn").exists()
