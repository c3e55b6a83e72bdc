"""Is this node able to serve? Each dependency is checked for real, quickly, and reported alone."""

import time
import uuid
from collections.abc import Callable

from django.core.cache import cache, caches
from django.db import connection

from dailypapers.queue import huey


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return connection.vendor


def _cache() -> str:
    # A round trip through the shared cache (Redis with CACHE_URL): what page caching and
    # invalidation across nodes depend on.
    backend = caches["default"]
    if hasattr(backend, "ping"):
        backend.ping()  # the Redis cache fails soft (a miss): ask it directly
    key, value = f"healthz:{uuid.uuid4().hex}", uuid.uuid4().hex
    cache.set(key, value, timeout=10)
    if cache.get(key) != value:
        raise RuntimeError("the cache did not return what was written")
    cache.delete(key)
    return caches["default"].__class__.__name__  # `cache` is a proxy


def _queue() -> str:
    queue = huey()
    storage = queue.storage
    if hasattr(storage, "conn") and hasattr(storage.conn, "ping"):
        storage.conn.ping()  # Redis
    return f"{storage.__class__.__name__}, {queue.pending_count()} pending"


CHECKS: dict[str, Callable[[], str]] = {"database": _database, "cache": _cache, "queue": _queue}


def check_all() -> tuple[bool, dict[str, dict]]:
    """(all ok, {name: {"ok": bool, "ms": float, "detail"| "error": str}})."""
    results: dict[str, dict] = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            detail = check()
        except Exception as exc:  # noqa: BLE001 - every failure is a report, never a 500
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
        else:
            results[name] = {"ok": True, "detail": detail}
        results[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return all(r["ok"] for r in results.values()), results
