"""The API's per-key rate limit: a fixed window of one minute, API_RATE_LIMIT requests.

The counters live in Redis when CELERY_BROKER_URL is a redis:// URL, so every web process
shares them; otherwise in this process's memory, so each gunicorn worker counts on its
own (the limit is then per process). While Redis cannot be reached, each process counts
in its memory instead (for REDIS_RETRY_SECONDS before trying Redis again), so a broker
outage never fails or slows an API request.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Protocol

from flask import current_app

from app.errors import RateLimited

log = logging.getLogger(__name__)
WINDOW_SECONDS = 60
REDIS_RETRY_SECONDS = 5.0
"""After Redis failed, count in memory this long before trying it again."""


class Counter(Protocol):
    """Counts hits of a key in a window."""

    def hit(self, key: str, window: int) -> int:
        """Count one hit of the key in this window; the window's count so far."""


class MemoryCounter:
    """Fixed-window counters in this process's memory (a new window starts them afresh)."""

    def __init__(self) -> None:
        self._window = -1
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, window: int) -> int:
        """Count one hit of the key in this window; the window's count so far."""
        with self._lock:
            if window != self._window:
                self._window, self._counts = window, {}
            self._counts[key] = self._counts.get(key, 0) + 1
            return self._counts[key]


class RedisCounter:
    """Fixed-window counters in Redis, shared by every process (in memory while it is down)."""

    def __init__(self, url: str) -> None:
        import redis

        self._redis: Any = redis.Redis.from_url(url, socket_timeout=2,
                                                socket_connect_timeout=2)
        self._errors = (redis.RedisError, OSError)
        self._fallback = MemoryCounter()
        self._down_until = 0.0

    def hit(self, key: str, window: int) -> int:
        """Count one hit of the key in this window; the window's count so far."""
        if time.monotonic() < self._down_until:
            return self._fallback.hit(key, window)
        try:
            return self._redis_hit(key, window)
        except self._errors as exc:
            log.warning("API rate limit: Redis unavailable (%s); counting in this process "
                        "for %.0f s", type(exc).__name__, REDIS_RETRY_SECONDS)
            self._down_until = time.monotonic() + REDIS_RETRY_SECONDS
            return self._fallback.hit(key, window)

    def _redis_hit(self, key: str, window: int) -> int:
        """Count one hit in Redis (raises when Redis cannot be reached)."""
        name = f"walletpass:ratelimit:{key}:{window}"
        pipe = self._redis.pipeline()
        pipe.incr(name)
        pipe.expire(name, WINDOW_SECONDS * 2)
        return int(pipe.execute()[0])


def counter() -> Counter:
    """The app's counter (made on first use)."""
    found: Counter | None = current_app.extensions.get("walletpass.ratelimit")
    if found is None:
        url = current_app.config["SETTINGS"].CELERY_BROKER_URL
        found = RedisCounter(url) if url.startswith(("redis://", "rediss://")) else (
            MemoryCounter())
        current_app.extensions["walletpass.ratelimit"] = found
    return found


def clock() -> float:
    """The time now, in seconds (a function, so a test can fix it)."""
    return time.time()


def check_api_rate(key_id: int) -> None:
    """Refuse (429, Retry-After) a key past API_RATE_LIMIT requests in this minute."""
    limit = current_app.config["SETTINGS"].API_RATE_LIMIT
    if limit <= 0:
        return
    now = clock()
    window = int(now // WINDOW_SECONDS)
    if counter().hit(f"api-key:{key_id}", window) > limit:
        retry_after = max(1, int((window + 1) * WINDOW_SECONDS - now) + 1)
        raise RateLimited(f"Too many requests with this API key (more than {limit} a "
                          f"minute); try again in {retry_after} seconds.", retry_after)
