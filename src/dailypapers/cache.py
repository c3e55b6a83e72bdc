"""The shared caches: in files in the data dir (one machine, the default) or on Redis (CACHE_URL).

FileBasedCache lists its whole directory on every write, to see whether it is full; this one looks once
every CULL_CHECK_SHARE of its capacity in writes (see SparselyCulledFileCache).

On Redis the cache fails soft: a Redis that is down or restarting is a
cache that misses, not an error page. Pages are rendered afresh meanwhile, rate limits count from
one (they let requests through), and the page-cache tokens a write replaces while Redis is away are
lost with everything else Redis held (a restart without persistence forgets every token: all pages
are rendered afresh after it anyway). Every failure is logged, at most once per RETRY_SECONDS, and for
RETRY_SECONDS after one the cache is not asked at all, so a Redis that is gone costs no connect
timeout per request."""

import itertools
import logging
import time
from typing import ClassVar

from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

RETRY_SECONDS = 1.0
_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


CULL_CHECK_SHARE = 0.01


class SparselyCulledFileCache(FileBasedCache):
    """Django's file cache, which lists its directory before every write to see whether it holds
    MAX_ENTRIES files and drops a random 1/CULL_FREQUENCY of them if so. With tens of thousands of
    cached pages and query vectors that listing cost every write tens of milliseconds (bench/file_cache.py).
    Here each process looks once every MAX_ENTRIES * CULL_CHECK_SHARE writes to a directory (500 at the
    default 50,000), starting with its first: between two looks a process writes at most that many more,
    so the cache holds at most 1% over MAX_ENTRIES per process writing to it, and is culled back as
    Django culls it."""

    # This process's writes per cache directory, every thread's cache object together (next() is atomic).
    _writes: ClassVar[dict[str, itertools.count]] = {}

    def _cull(self):
        writes = next(self._writes.setdefault(self._dir, itertools.count()))  # type: ignore[attr-defined]
        if writes % max(1, round(self._max_entries * CULL_CHECK_SHARE)) == 0:
            super()._cull()  # type: ignore[misc]  # not in django-stubs


class FailSoftRedisCache(RedisCache):
    _down_until = 0.0

    def _soft(self, name: str, default, *args, **kwargs):
        if time.monotonic() >= self._down_until:
            try:
                return getattr(super(), name)(*args, **kwargs)
            except _UNREACHABLE as exc:
                self._down_until = time.monotonic() + RETRY_SECONDS
                logger.warning("the cache (Redis) is unreachable, serving without it for %.0f s: %s",
                               RETRY_SECONDS, exc)
        if isinstance(default, Exception):
            raise default
        return default

    def ping(self) -> None:
        """Raises when Redis is unreachable (/healthz: the one caller that wants to know)."""
        self._cache.get_client(write=True).ping()

    def get(self, key, default=None, version=None):
        return self._soft("get", default, key, default, version)

    def get_many(self, keys, version=None):
        return self._soft("get_many", {}, keys, version)

    def has_key(self, key, version=None):
        return self._soft("has_key", False, key, version)

    def set(self, *args, **kwargs):
        return self._soft("set", None, *args, **kwargs)

    def set_many(self, *args, **kwargs):
        return self._soft("set_many", [], *args, **kwargs)

    def add(self, *args, **kwargs):
        return self._soft("add", False, *args, **kwargs)

    def touch(self, *args, **kwargs):
        return self._soft("touch", False, *args, **kwargs)

    def delete(self, *args, **kwargs):
        return self._soft("delete", False, *args, **kwargs)

    def delete_many(self, *args, **kwargs):
        return self._soft("delete_many", None, *args, **kwargs)

    def incr(self, key, delta=1, version=None):
        # What a missing key answers: callers (django-ratelimit) start counting again.
        return self._soft("incr", ValueError(f"Key {key!r} not found"), key, delta, version)
