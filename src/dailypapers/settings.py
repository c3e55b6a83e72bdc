"""Settings for dailypapers, all driven by the environment.

DATABASE_URL            sqlite (default, in the data dir) or postgres://...
DAILYPAPERS_DATA_DIR    where the SQLite file, cache and indexes live (./data)
SECRET_KEY              required unless DAILYPAPERS_DEBUG=1; falls back to the
                        file $DAILYPAPERS_DATA_DIR/secret_key that `make run` creates
DAILYPAPERS_DEBUG       1 for Django's debug mode (never in production)
ALLOWED_HOSTS           comma-separated (127.0.0.1,localhost)
CACHE_URL               unset: a file cache in the data dir; redis://... when
                        several machines serve the site
DAILYPAPERS_QUEUE_URL   unset: the task queue in a SQLite file in the data dir;
                        redis://host:6379/N when several machines share the work
DAILYPAPERS_HTTPS       1 when the site is reached over HTTPS: secure cookies, HSTS, redirect to https
DAILYPAPERS_TRUSTED_PROXY_COUNT  reverse proxies in front of the app (0): the client address and
                        the scheme are then read from X-Forwarded-For / X-Forwarded-Proto
"""

import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("DAILYPAPERS_DATA_DIR", "data")).resolve()
# Everything the app writes (the SQLite file and its -wal/-shm, cache, search indexes, media,
# the secret key) is private to the service's user: 0700 directories, 0600 files, also for a
# data dir an older version created 0755.
os.umask(0o077)
DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
if DATA_DIR.stat().st_uid == os.geteuid():
    DATA_DIR.chmod(0o700)
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700


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

# Deployment behind HTTPS and reverse proxies (README: "Configuration"; `check --deploy` is clean
# with DAILYPAPERS_HTTPS=1, a real SECRET_KEY and ALLOWED_HOSTS).
HTTPS = _env_bool("DAILYPAPERS_HTTPS")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS and _env_bool("DAILYPAPERS_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(os.environ.get("DAILYPAPERS_HSTS_SECONDS", "31536000")) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("DAILYPAPERS_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = _env_bool("DAILYPAPERS_HSTS_PRELOAD", True)
# How many proxies of ours append to X-Forwarded-For: the client is the entry that many places
# from the right (anything left of it is the client's own claim). One rule for every rate
# limit: dailypapers.security.client_ip (django-ratelimit, the API limiter) and allauth's own.
TRUSTED_PROXY_COUNT = int(os.environ.get("DAILYPAPERS_TRUSTED_PROXY_COUNT", "0"))
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
RATELIMIT_IP_META_KEY = "dailypapers.security.client_ip"
if TRUSTED_PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "ninja",  # serves the API docs' assets itself (no CDN)
    "dailypapers.papers",
    "dailypapers.community",
    "dailypapers.notifications",
    "dailypapers.search",
    "dailypapers.api",
    "dailypapers.feeds",
    "dailypapers.collections",
    "dailypapers.follows",
    "dailypapers.personal",
    "dailypapers.digests",
    "dailypapers.exports",
    "dailypapers.ops",  # ingest, demo, worker, status, /healthz, scheduled ingests: top-layer operations
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "dailypapers.compression.CompressPages",  # gzip for pages; BREACH: see compression.py
    "csp.middleware.CSPMiddleware",
    "dailypapers.security.RejectControlCharactersMiddleware",  # before anything reads the input
    "dailypapers.security.CollapseLeadingSlashesMiddleware",  # //api/... (an endpoint ending in /)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "dailypapers.views.RefusedMiddleware",  # a view's Refused -> the error page with its status
    "django_ratelimit.middleware.RatelimitMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# Content-Security-Policy (django-csp) on every response: scripts, styles and fonts only from our
# own static files (KaTeX, htmx and Swagger UI are served locally); no inline script, no inline
# style. KaTeX's render() sets its sizes through the CSSOM (element.style), which CSP does not
# restrict (only style="" in markup and <style> elements need 'unsafe-inline'); htmx's indicator
# <style> and eval are off (htmx-config in base.html). img-src: our own files (organization avatars
# are mirrored into the media store at ingest) and data: for Swagger UI's icons in its CSS.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

ROOT_URLCONF = "dailypapers.urls"
CSRF_FAILURE_VIEW = "dailypapers.views.csrf_failure"  # the site's own 403 page, not Django's bare one
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
                "dailypapers.limits.context",
                "dailypapers.notifications.context_processors.unread",
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
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database that is down or restarting fails a request within seconds (a 503 page with
    # Retry-After, dailypapers.views.server_error) instead of holding a web worker; a persistent
    # connection that died with the server is replaced before it is used, not failed on.
    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        "connect_timeout": int(os.environ.get("DAILYPAPERS_DB_CONNECT_TIMEOUT", "3")),
    }
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
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

CACHES: dict[str, dict[str, Any]]
if cache_url := os.environ.get("CACHE_URL"):
    if not cache_url.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(f"CACHE_URL must be a redis://, rediss:// or unix:// URL, not {cache_url!r}")
    CACHES = {
        "default": {
            # A Redis that is down or restarting is a cache that misses (pages are rendered afresh,
            # dailypapers/cache.py), within the 2 s connect timeout; /healthz reports it (503).
            "BACKEND": "dailypapers.cache.FailSoftRedisCache",
            "LOCATION": cache_url,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    # Shared by every worker process on the machine, unlike the local-memory cache.
    CACHES = {
        "default": {
            "BACKEND": "dailypapers.cache.SparselyCulledFileCache",
            "LOCATION": str(DATA_DIR / "cache"),
            # Past MAX_ENTRIES the file cache drops a third of everything: leave room for every day page.
            "OPTIONS": {"MAX_ENTRIES": 50_000},
        }
    }
# Per-process copies of cached pages, in front of the shared cache (see pagecache.py).
CACHES["local"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "pages",
    "OPTIONS": {"MAX_ENTRIES": 2_000},
}
# Per-process copies of the part of a paper's card that is the same for every reader
# (papers/templatetags/cards.py); ~3 kB each, so at most ~15 MB a process.
CACHES["cards"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "cards",
    "OPTIONS": {"MAX_ENTRIES": 5_000},
}
# The task queue (huey, see dailypapers/ops/tasks.py and each app's tasks.py): background
# embedding, index upkeep, digests, arXiv fetches of submitted papers, scheduled ingests.
# Default: a SQLite file in the data dir, no service needed (one machine). With several
# machines: redis://host:6379/N, shared by every web node and worker.
QUEUE_URL = os.environ.get("DAILYPAPERS_QUEUE_URL", "")
_queue_common = {"name": "dailypapers", "results": False, "immediate": False, "utc": True}
if not QUEUE_URL:
    HUEY = {**_queue_common, "huey_class": "huey.SqliteHuey", "filename": str(DATA_DIR / "queue.sqlite3"),
            "timeout": 20}
elif QUEUE_URL.startswith(("redis://", "rediss://", "unix://")):
    import redis

    # Connect within 2 s (a Redis that is down fails /healthz fast); reads wait longer than the
    # consumer's 1 s blocking pop.
    HUEY = {**_queue_common, "huey_class": "huey.RedisHuey", "blocking": True, "connection_pool":
            redis.ConnectionPool.from_url(QUEUE_URL, socket_connect_timeout=2, socket_timeout=10)}
elif QUEUE_URL.startswith("sqlite:///"):
    HUEY = {**_queue_common, "huey_class": "huey.SqliteHuey", "filename": QUEUE_URL.removeprefix("sqlite:///"),
            "timeout": 20}
else:
    raise ImproperlyConfigured(
        f"DAILYPAPERS_QUEUE_URL must be empty (a SQLite file in the data dir), sqlite:///path or redis://host:port/N, "
        f"not {QUEUE_URL!r}"
    )
# Scheduled ingests, both off by default. DAILYPAPERS_OAI_SETS: comma-separated OAI-PMH sets
# (e.g. "cs,physics:hep-th") harvested daily for the previous days' changes;
# DAILYPAPERS_HF_DAILY_IMPORT=1 imports Hugging Face's daily list (today's and yesterday's).
OAI_SETS = [x.strip() for x in os.environ.get("DAILYPAPERS_OAI_SETS", "").split(",") if x.strip()]
OAI_HOUR_UTC = int(os.environ.get("DAILYPAPERS_OAI_HOUR_UTC", "5"))
HF_DAILY_IMPORT = _env_bool("DAILYPAPERS_HF_DAILY_IMPORT")
# Papers one embedding job claims at a time (SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL).
EMBED_BATCH_SIZE = int(os.environ.get("DAILYPAPERS_EMBED_BATCH_SIZE", "32"))
EMBED_THREADS = int(os.environ.get("DAILYPAPERS_EMBED_THREADS", "1"))

# One-line summaries from a language model (papers.summaries), off unless DAILYPAPERS_LLM_URL is set: an
# OpenAI-compatible base URL (llama.cpp's server, vLLM, Ollama: "http://127.0.0.1:8080/v1"), the model's
# name (it labels the summaries), an API key if the server wants one, requests a minute, a timeout, and
# how many papers one worker run takes (a run every minute).
LLM_URL = os.environ.get("DAILYPAPERS_LLM_URL", "").strip()
LLM_MODEL = os.environ.get("DAILYPAPERS_LLM_MODEL", "").strip()
LLM_API_KEY = os.environ.get("DAILYPAPERS_LLM_API_KEY", "")
LLM_RATE_PER_MINUTE = float(os.environ.get("DAILYPAPERS_LLM_RATE", "30"))
LLM_TIMEOUT_SECONDS = float(os.environ.get("DAILYPAPERS_LLM_TIMEOUT", "60"))
LLM_PAPERS_PER_RUN = int(os.environ.get("DAILYPAPERS_LLM_PAPERS_PER_RUN", "20"))
if LLM_URL and not LLM_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"DAILYPAPERS_LLM_URL must be an http(s) URL, not {LLM_URL!r}")
if LLM_URL and not LLM_MODEL:
    raise ImproperlyConfigured("DAILYPAPERS_LLM_URL is set: DAILYPAPERS_LLM_MODEL must name the model")

# Anonymous list pages are served from the cache for this long (seconds); a write replaces the
# scope tokens of the pages it changes (pagecache.py), so those never outlive it.
PAGE_CACHE_SECONDS = int(os.environ.get("DAILYPAPERS_PAGE_CACHE_SECONDS", "300"))
# Week and month lists show this many papers a page (the top ones first), then a "more" link.
LIST_PAGE_SIZE = int(os.environ.get("DAILYPAPERS_LIST_PAGE_SIZE", "50"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Accounts (django-allauth): sign-up with email, username and password; verification
# mail; allauth's own rate limits answer 429 and throttle repeated failed logins.
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
ACCOUNT_ADAPTER = "dailypapers.accounts.AccountAdapter"
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{os.environ.get('DAILYPAPERS_SITE_NAME', 'Daily Papers')}] "  # not the host
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
# Mandatory: with "optional" a sign-up logs in at once, so allauth could not answer a sign-up
# with a registered address like any other (it must refuse it, or make a duplicate account).
# Now every sign-up gets "check your inbox", and the owner of a registered address is told
# by mail instead (ACCOUNT_PREVENT_ENUMERATION); password resets answer alike too.
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_RATE_LIMITS = {
    "signup": os.environ.get("DAILYPAPERS_RATE_SIGNUP", "20/h/ip"),
    "login": os.environ.get("DAILYPAPERS_RATE_LOGIN", "30/m/ip"),
    # "key" is the login name *and* the client here (see dailypapers/accounts.py): an attacker's
    # failures never lock the owner out; failures over all clients have their own, higher limit.
    "login_failed": os.environ.get("DAILYPAPERS_RATE_LOGIN_FAILED", "10/m/ip,5/5m/key"),
    "login_failed_account": os.environ.get("DAILYPAPERS_RATE_LOGIN_FAILED_ACCOUNT", "100/h/key"),
    "reset_password": "20/m/ip,5/m/key",
    "confirm_email": "1/3m/key",
}
LOGIN_REDIRECT_URL = "/papers"
LOGIN_URL = "/accounts/login/"
ACCOUNT_LOGOUT_REDIRECT_URL = "/papers"

# Community rate limits (django-ratelimit), per user: "count/period".
RATE_VOTE = os.environ.get("DAILYPAPERS_RATE_VOTE", "120/m")
RATE_SUBMIT = os.environ.get("DAILYPAPERS_RATE_SUBMIT", "20/h")
RATE_COMMENT = os.environ.get("DAILYPAPERS_RATE_COMMENT", "10/m")
RATE_ORGANIZATION = os.environ.get("DAILYPAPERS_RATE_ORGANIZATION", "20/h")  # create, set on a paper, invite
RATE_COLLECTION = os.environ.get("DAILYPAPERS_RATE_COLLECTION", "120/m")  # save, add, move, note, create
RATE_COLLECTION_IMPORT = os.environ.get("DAILYPAPERS_RATE_COLLECTION_IMPORT", "20/h")
RATELIMIT_VIEW = "dailypapers.views.rate_limited"

# Anonymous JSON API clients, per address (as Hugging Face: 500 requests per 5 minutes).
API_ANON_RATE = os.environ.get("DAILYPAPERS_API_ANON_RATE", "500/5m")

# Submissions to the daily list. The feed day rolls over at this local time.
SUBMIT_MAX_PER_DAY = int(os.environ.get("DAILYPAPERS_SUBMIT_MAX_PER_DAY", "5"))
SUBMIT_MAX_AGE_DAYS = int(os.environ.get("DAILYPAPERS_SUBMIT_MAX_AGE_DAYS", "14"))
FEED_DAY_ROLLOVER = os.environ.get("DAILYPAPERS_FEED_DAY_ROLLOVER", "21:30")
FEED_DAY_TIMEZONE = os.environ.get("DAILYPAPERS_FEED_DAY_TIMEZONE", "America/New_York")
COMMENT_EDIT_MINUTES = int(os.environ.get("DAILYPAPERS_COMMENT_EDIT_MINUTES", "15"))

# Email: SMTP when EMAIL_HOST is set, otherwise mails are printed to the server log.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("EMAIL_USE_TLS")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "dailypapers <noreply@localhost>")
# Where the site is reached from outside: links in emails (digests) are built from it.
BASE_URL = os.environ.get("DAILYPAPERS_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# Digest unsubscribe by mail goes to this address (List-Unsubscribe: mailto).
DIGEST_UNSUBSCRIBE_MAILTO = os.environ.get("DAILYPAPERS_UNSUBSCRIBE_MAILTO", "unsubscribe@localhost")
DIGEST_MAX_PAPERS = int(os.environ.get("DAILYPAPERS_DIGEST_MAX_PAPERS", "10"))
# Subscribe requests per client ("count/period"), and confirmation mails to one address per hour
# whoever asks (past it the same page answers and nothing is sent).
RATE_DIGEST_SUBSCRIBE = os.environ.get("DAILYPAPERS_RATE_DIGEST_SUBSCRIBE", "10/h")
DIGEST_MAILS_PER_ADDRESS_PER_HOUR = int(os.environ.get("DAILYPAPERS_DIGEST_MAILS_PER_ADDRESS_PER_HOUR", "3"))

# Notification mails: every this many minutes (a divisor of 60), each user gets one mail with
# what is new for them (per their preferences on /notifications).
NOTIFICATION_MAIL_MINUTES = int(os.environ.get("DAILYPAPERS_NOTIFICATION_MAIL_MINUTES", "15"))
if not 1 <= NOTIFICATION_MAIL_MINUTES <= 60 or 60 % NOTIFICATION_MAIL_MINUTES:
    raise ImproperlyConfigured(
        "DAILYPAPERS_NOTIFICATION_MAIL_MINUTES must divide 60 (1, 2, 5, 10, 15, 30, 60), "
        f"not {NOTIFICATION_MAIL_MINUTES}")

# Uploads (organization avatars), served by the app under /media/.
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/media/"
# Imported organization avatars are copied into the media store at ingest (pages never hot-link
# them), only from these hosts and their subdomains: an imported record cannot make the server
# fetch from anywhere else (e.g. a host on its own network).
AVATAR_MIRROR_HOSTS = [
    h.strip() for h in os.environ.get("DAILYPAPERS_AVATAR_HOSTS", "huggingface.co").split(",") if h.strip()
]
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
# Where the search indexes live (search.backends): "local" (files in the data directory, one machine)
# or "postgres" (full-text search and pgvector in the PostgreSQL database: web nodes hold no search state).
SEARCH_BACKEND = os.environ.get("DAILYPAPERS_SEARCH_BACKEND", "local").strip().lower()
if SEARCH_BACKEND not in ("local", "postgres"):
    raise ImproperlyConfigured(f"DAILYPAPERS_SEARCH_BACKEND must be local or postgres, not {SEARCH_BACKEND!r}")
if SEARCH_BACKEND == "postgres" and DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DAILYPAPERS_SEARCH_BACKEND=postgres needs DATABASE_URL=postgres://... "
                               "(with the pgvector extension); the default SQLite database has no such search")
# The postgres backend's HNSW build (`dailypapers index --rebuild`) may use up to this much memory in the
# database server (maintenance_work_mem): ~1.7 GB builds 1M vectors in memory; past it, slowly on disk.
SEARCH_PG_BUILD_MEMORY_MB = int(os.environ.get("DAILYPAPERS_SEARCH_PG_BUILD_MEMORY_MB", "2048"))
# How far the postgres backend's HNSW search looks (hnsw.ef_search; at least the rows asked for, at most
# pgvector's 1000): more finds more of the true nearest papers, for more time (bench/search.py backends-vectors:
# at 1M, 200 -> recall@10 0.72 in 9.8 ms, 400 -> 0.80 in 14.8, 1000 -> 0.91 in 33.6; at 250k 0.85, 0.92, 0.97).
SEARCH_PG_EF_SEARCH = int(os.environ.get("DAILYPAPERS_SEARCH_PG_EF_SEARCH", "400"))
# Ranking (search.selectors.rank), chosen on the six query sets of bench/search.py relevance-sets:
# fused = weight x BM25 / full-match BM25 + (1 - weight) x cosine; a keyword match at least this strong
# is never below a paper found only by meaning; a paper found only by meaning needs this similarity.
# Re-chosen for papers embedded from 128 tokens (their vectors say less, and random strings come closer
# to them: 0.2 and 0.35 were chosen at 256).
SEARCH_KEYWORD_WEIGHT = float(os.environ.get("DAILYPAPERS_SEARCH_KEYWORD_WEIGHT", "0.3"))
SEARCH_STRONG_MATCH = float(os.environ.get("DAILYPAPERS_SEARCH_STRONG_MATCH", "0.5"))
SEARCH_SEMANTIC_FLOOR = float(os.environ.get("DAILYPAPERS_SEARCH_SEMANTIC_FLOOR", "0.38"))

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
        "huey": {"handlers": ["console"], "level": os.environ.get("DAILYPAPERS_QUEUE_LOG_LEVEL", "INFO"),
                 "propagate": False},
    },
}
