"""Test settings: the real settings, with a throwaway data dir and no pause between requests."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "tests-only-" + "x" * 40)
os.environ.setdefault("DAILYPAPERS_DATA_DIR", tempfile.mkdtemp(prefix="dailypapers-tests-"))

from dailypapers.settings import *  # noqa: F403

ARXIV_REQUEST_PAUSE_SECONDS = 0
HTTP_TIMEOUT_SECONDS = 2
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; tests only
# No collectstatic in tests: plain static URLs, served by whitenoise from the app dirs.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# The live-server thread must not keep a connection open, or PostgreSQL cannot drop the test database.
DATABASES["default"]["CONN_MAX_AGE"] = 0

# A file, not memory, for the SQLite test database: tests that run the real CLI in a
# subprocess (e.g. a digest sender killed mid-run) must see the same database.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
# Tests never touch the internet: no avatar host is allowed unless a test names its replay server.
AVATAR_MIRROR_HOSTS = []

# Tasks run inline, in memory, where they are enqueued (huey's immediate mode); tests of the real
# queue switch it off (tests/test_queue.py) or run `dailypapers worker` processes.
HUEY = {**HUEY, "immediate": True}
