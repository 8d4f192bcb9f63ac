"""The API's per-key rate limit: a fixed window of one minute, API_RATE_LIMIT requests.

The counters live in Redis when CELERY_BROKER_URL is a redis:// URL, so every web process
shares them; otherwise in this process's memory, so each gunicorn worker counts on its
own (the limit is then per process).
"""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol

from flask import current_app

from app.errors import RateLimited

WINDOW_SECONDS = 60


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
    """Fixed-window counters in Redis, shared by every process."""

    def __init__(self, url: str) -> None:
        import redis

        self._redis: Any = redis.Redis.from_url(url, socket_timeout=2,
                                                socket_connect_timeout=2)

    def hit(self, key: str, window: int) -> int:
        """Count one hit of the key in this window; the window's count so far."""
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
