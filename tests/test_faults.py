"""Faults, each with nothing lost (README, "From one machine to several"): a service the site needs
that is down answers a 503 page at once, never a 500 or a hang."""

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import path
from redis.exceptions import ConnectionError as RedisConnectionError


def _raises(exception: Exception):
    def view(request):
        raise exception

    return view


urlpatterns = [
    path("database-down", _raises(OperationalError('connection to server at "127.0.0.1" failed: Connection refused'))),
    path("api/database-down", _raises(OperationalError("the database system is starting up"))),
    path("cache-down", _raises(RedisConnectionError("Error 111 connecting to 127.0.0.1:6390. Connection refused."))),
    path("bug", _raises(ValueError("a bug"))),
]
handler500 = "dailypapers.views.server_error"


@pytest.fixture
def client(settings):
    settings.ROOT_URLCONF = __name__
    return Client(raise_request_exception=False)


def test_a_database_that_is_down_is_a_503_page_with_retry_after_not_a_500(client):
    response = client.get("/database-down")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    page = response.content.decode()
    assert "503 · Temporarily unavailable" in page and "The database is not reachable right now." in page
    assert "127.0.0.1" not in page and "Connection refused" not in page  # the reason in words, no internals
    response = client.get("/api/database-down")
    assert response.status_code == 503 and response.json() == {
        "error": "The database is not reachable right now. Try again in 5 seconds."}


def test_a_cache_that_is_down_is_a_503_and_a_bug_is_still_a_500(client):
    response = client.get("/cache-down")
    assert response.status_code == 503 and "The cache is not reachable right now." in response.content.decode()
    response = client.get("/bug")
    assert response.status_code == 500 and "Retry-After" not in response
    assert "500 · Server error" in response.content.decode() and "a bug" not in response.content.decode()
