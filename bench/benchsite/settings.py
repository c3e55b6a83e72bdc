"""dailypapers.settings unchanged, plus a urlconf with a bare template view.

Used by bench/daily_page_load.py for the whole run (every URL is measured under
these identical settings): PYTHONPATH=bench DJANGO_SETTINGS_MODULE=benchsite.settings.

BENCH_CACHE=locmem swaps the shared file cache for a per-process local-memory
cache (daily_page_load.py --cache locmem): only to measure what the cache
backend costs; it is not a valid production setting (workers would not see
each other's content-version bumps).
"""

import os
from pathlib import Path

from dailypapers.settings import *  # noqa: F403
from dailypapers.settings import TEMPLATES as _TEMPLATES

ROOT_URLCONF = "benchsite.urls"

TEMPLATES = [dict(_TEMPLATES[0], DIRS=[*_TEMPLATES[0]["DIRS"], Path(__file__).resolve().parent / "templates"])]

if os.environ.get("BENCH_CACHE") == "locmem":
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "OPTIONS": {"MAX_ENTRIES": 10000}}
    }
