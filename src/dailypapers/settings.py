"""Settings for dailypapers, all driven by the environment.

DATABASE_URL            sqlite (default, in the data dir) or postgres://...
DAILYPAPERS_DATA_DIR    where the SQLite file, cache and indexes live (./data)
SECRET_KEY              required unless DAILYPAPERS_DEBUG=1; falls back to the
                        file $DAILYPAPERS_DATA_DIR/secret_key that `make run` creates
DAILYPAPERS_DEBUG       1 for Django's debug mode (never in production)
ALLOWED_HOSTS           comma-separated (127.0.0.1,localhost)
CACHE_URL               unset: a file cache in the data dir; redis://... when
                        several machines serve the site
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("DAILYPAPERS_DATA_DIR", "data")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = _env_bool("DAILYPAPERS_DEBUG")


def _secret_key() -> str:
    if key := os.environ.get("SECRET_KEY"):
        return key
    key_file = DATA_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    if DEBUG:
        # Debug only: a throwaway key, so sessions end with the process.
        return secrets.token_urlsafe(50)
    raise ImproperlyConfigured(
        f"SECRET_KEY is not set. Set the SECRET_KEY environment variable or write a random "
        f"key to {key_file} (make run does this for you)."
    )


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "dailypapers.papers",
    "dailypapers.search",
    "dailypapers.api",
    "dailypapers.feeds",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "dailypapers.urls"
WSGI_APPLICATION = "dailypapers.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dailypapers.papers.context_processors.site",
                "dailypapers.feeds.context_processors.autodiscovery",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{DATA_DIR / 'dailypapers.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Persistent connections and SQLite don't mix across threads in tests; the
    # connection is cheap to open anyway.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers go on while the ingest writes; IMMEDIATE takes the
        # write lock at BEGIN so two writers wait (timeout) instead of failing.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }

if cache_url := os.environ.get("CACHE_URL"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": cache_url}}
else:
    # Shared by every worker process on the machine, unlike the local-memory cache.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }
# Anonymous list pages are served from the cache for this long (seconds); any
# ingest or edit bumps a version key, so a stale page never outlives a write.
PAGE_CACHE_SECONDS = int(os.environ.get("DAILYPAPERS_PAGE_CACHE_SECONDS", "300"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Without collectstatic (tests, `runserver`) whitenoise serves from the app dirs.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# External sources. Tests point these at a local server replaying recorded responses.
ARXIV_API_URL = os.environ.get("DAILYPAPERS_ARXIV_API_URL", "https://export.arxiv.org/api/query")
ARXIV_OAI_URL = os.environ.get("DAILYPAPERS_ARXIV_OAI_URL", "https://oaipmh.arxiv.org/oai")
HF_API_URL = os.environ.get("DAILYPAPERS_HF_API_URL", "https://huggingface.co/api")
# arXiv asks API clients to wait 3 seconds between requests.
ARXIV_REQUEST_PAUSE_SECONDS = float(os.environ.get("DAILYPAPERS_ARXIV_PAUSE", "3"))
HTTP_TIMEOUT_SECONDS = float(os.environ.get("DAILYPAPERS_HTTP_TIMEOUT", "30"))
HTTP_RETRIES = int(os.environ.get("DAILYPAPERS_HTTP_RETRIES", "4"))

# Search. The embedder is pluggable: a dotted path to a class (see search/embedders).
DAILYPAPERS_EMBEDDER = os.environ.get("DAILYPAPERS_EMBEDDER", "dailypapers.search.embedders.MiniLMInt8")
# Past this many seconds the query embedding is abandoned and keyword results are shown.
SEARCH_EMBED_TIMEOUT = float(os.environ.get("DAILYPAPERS_SEARCH_EMBED_TIMEOUT", "1.0"))
# Fusion of keyword and semantic lists, chosen on SciFact train (bench/search_relevance.py).
SEARCH_FUSION = os.environ.get("DAILYPAPERS_SEARCH_FUSION", "weighted")
SEARCH_KEYWORD_WEIGHT = float(os.environ.get("DAILYPAPERS_SEARCH_KEYWORD_WEIGHT", "0.5"))

SITE_NAME = os.environ.get("DAILYPAPERS_SITE_NAME", "Daily Papers")
SITE_CURATOR = os.environ.get("DAILYPAPERS_CURATOR", "AK")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "dailypapers": {"handlers": ["console"], "level": os.environ.get("DAILYPAPERS_LOG_LEVEL", "INFO")},
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}
