"""The one way sources fetch over HTTP: a timeout, retries with backoff, and manners.

Transient failures (5xx, 429, timeouts, dropped connections) are retried with
exponential backoff, or after the server's Retry-After when it sends one. A
minimum pause between consecutive requests to one host keeps us within what
arXiv asks of API clients (one request every 3 seconds).
"""

import email.utils
import threading
import time
from collections.abc import Collection, Mapping
from datetime import datetime, timezone

import httpx
from django.conf import settings

USER_AGENT = "dailypapers/0.1 (self-hosted Daily Papers)"
# First retry waits this long, then twice as long each time (tests shrink it).
BACKOFF_SECONDS = 1.0
# A Retry-After longer than this is treated as a refusal, not as a wait.
MAX_RETRY_AFTER_SECONDS = 600.0

_last_request_at: dict[str, float] = {}  # host:port -> time.monotonic() of its last request
_pause_lock = threading.Lock()


class SourceError(Exception):
    """A source could not be read. The message is for the person running the ingest."""


class ExpiredPosition(SourceError):
    """The saved position of a paged source (a resumption token) is no longer valid: it must be
    dropped, or it would block every later run."""


def fetch(
    url: str,
    *,
    params: Mapping[str, str | int] | None = None,
    min_interval: float = 0.0,
    accept_statuses: Collection[int] = (),
) -> httpx.Response:
    """GET url and return the response of a 2xx (or of a status in accept_statuses).

    min_interval: seconds to leave since the previous request to the same host.
    Raises SourceError once retries are exhausted, or at once for any other 4xx.
    """
    request_url = httpx.URL(url, params={k: v for k, v in (params or {}).items() if v not in (None, "")})
    attempts = settings.HTTP_RETRIES + 1
    problem = ""
    with httpx.Client(
        timeout=settings.HTTP_TIMEOUT_SECONDS, follow_redirects=True, headers={"User-Agent": USER_AGENT}
    ) as client:
        for attempt in range(attempts):
            host = request_url.netloc.decode()
            _wait_turn(host, min_interval)
            wait = BACKOFF_SECONDS * 2**attempt
            try:
                response = client.get(request_url)
            except httpx.TimeoutException:
                problem = f"timed out after {settings.HTTP_TIMEOUT_SECONDS:g} s"
            except httpx.TransportError as exc:
                problem = f"connection failed ({exc or type(exc).__name__})"
            else:
                _done(host)
                if response.is_success or response.status_code in accept_statuses:
                    return response
                problem = f"HTTP {response.status_code} {response.reason_phrase}{_body_hint(response)}"
                if response.status_code != 429 and response.status_code < 500:
                    raise SourceError(f"GET {request_url}: {problem}")
                if (retry_after := _retry_after(response)) is not None:
                    if retry_after > MAX_RETRY_AFTER_SECONDS:
                        raise SourceError(f"GET {request_url}: {problem}; server asks to retry in {retry_after:.0f} s")
                    wait = retry_after
            if attempt + 1 < attempts:
                time.sleep(wait)
    raise SourceError(f"GET {request_url}: {problem} (gave up after {attempts} attempts)")


def _wait_turn(host: str, min_interval: float) -> None:
    """Sleep until min_interval has passed since the last request to host, then claim the slot."""
    with _pause_lock:
        now = time.monotonic()
        last = _last_request_at.get(host)
        if last is not None and min_interval > 0 and now - last < min_interval:
            time.sleep(min_interval - (now - last))
        _last_request_at[host] = time.monotonic()


def _done(host: str) -> None:
    """The pause also runs from the end of the last answer: a slow connection or answer never shortens the
    gap the server sees between two requests."""
    with _pause_lock:
        _last_request_at[host] = time.monotonic()


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asks us to wait (Retry-After is seconds or an HTTP date), or None."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000" means UTC too
        when = when.replace(tzinfo=timezone.utc)
    return max((when - datetime.now(timezone.utc)).total_seconds(), 0.0)


def _body_hint(response: httpx.Response) -> str:
    """The start of an error body, which often says what was wrong (HF sends {"error": ...})."""
    text = " ".join(response.text.split())[:200]
    return f": {text}" if text else ""
