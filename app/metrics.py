"""Prometheus metrics of every process: HTTP requests, pass builds, pushes, Google calls,
mails, job failures (the queue lags are read from the database at scrape time, see
app/health.py).

With PROMETHEUS_MULTIPROC_DIR set (as `walletpass up` does for all its children) every
process writes its counts to files in that folder, and a scrape of any web process sums
them all: gunicorn's workers and the Celery workers alike. The variable must be set before
the process starts (prometheus_client reads it on import).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

HTTP_REQUESTS = Counter("walletpass_http_requests_total",
                        "HTTP requests answered, by method, route (URL rule) and status.",
                        ["method", "route", "status"])
HTTP_SECONDS = Histogram("walletpass_http_request_duration_seconds",
                         "Time to answer an HTTP request, by method and route (URL rule).",
                         ["method", "route"])
PASS_BUILDS = Histogram("walletpass_pass_build_seconds",
                        "Signed .pkpass files built, and the time each took.",
                        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5))
APNS_PUSHES = Counter("walletpass_apns_pushes_total",
                      "APNs pushes by answer: HTTP status (0: no answer) and reason.",
                      ["status", "reason"])
GOOGLE_CALLS = Counter("walletpass_google_calls_total",
                       "Google Wallet API calls by method and HTTP status (0: no answer).",
                       ["method", "status"])
MAILS = Counter("walletpass_mails_total",
                "Mails handed to the mail server, by outcome (sent, retry, bounced, failed).",
                ["outcome"])
JOB_RUNS = Counter("walletpass_job_runs_total", "Background job (sweep) runs, by sweep.",
                   ["sweep"])
JOB_FAILURES = Counter("walletpass_job_failures_total",
                       "Background job (sweep) runs that raised, by sweep.", ["sweep"])


def multiprocess() -> bool:
    """Whether this process writes its metrics to PROMETHEUS_MULTIPROC_DIR."""
    return bool(os.environ.get(MULTIPROC_ENV))


def render(*extra: Collector) -> bytes:
    """The text exposition of every process's metrics, then of the `extra` collectors."""
    if multiprocess():
        registry = CollectorRegistry(auto_describe=False)
        MultiProcessCollector(registry)
        text = generate_latest(registry)
    else:
        text = generate_latest(REGISTRY)
    if extra:
        scraped = CollectorRegistry(auto_describe=False)
        for collector in extra:
            scraped.register(collector)
        text += generate_latest(scraped)
    return text


@contextmanager
def timed(observe: Callable[[float], Any]) -> Iterator[None]:
    """Time a block and pass its seconds to `observe` (also when it raises)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        observe(time.perf_counter() - started)
