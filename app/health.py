"""Health and metrics: /healthz (liveness), /readyz (database, broker, certificate),
/metrics (Prometheus), and what every request gets: a request id and its counts.

None of these three routes logs in, checks CSRF or is rate limited (they are on no
blueprint that does). /metrics asks for `Authorization: Bearer <METRICS_TOKEN>` when that
setting is set.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import hmac
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select

from app import logs, metrics
from app.extensions import db

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)
http_log = logging.getLogger("walletpass.http")

CHECK_SECONDS = 1.5
"""How long /readyz waits for its checks (run at once) before it calls one failed."""
QUIET_ENDPOINTS = frozenset({"health.healthz", "health.readyz", "health.metrics"})
"""Probed every few seconds: counted in the metrics, not logged."""
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness: the process answers (no database, no broker, no file touched)."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Readiness: the database, the broker (or embedded worker) and the signing certificate;
    503 naming the failing part(s)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    checks = run_bounded({"database": check_database, "broker": lambda: check_broker(app),
                          "certificate": lambda: check_certificate(app)}, CHECK_SECONDS)
    failing = any(state.startswith("error") for state in checks.values())
    body = {"status": "unavailable" if failing else "ok", "checks": checks}
    return jsonify(body), 503 if failing else 200


@bp.get("/metrics", endpoint="metrics")
def metrics_view() -> Response:
    """Prometheus text format: every process's counts, and the queue lags read now."""
    token = current_app.config["SETTINGS"].METRICS_TOKEN
    if token and not _bearer_matches(token):
        return Response("Send 'Authorization: Bearer <WALLETPASS_METRICS_TOKEN>'.\n", 401,
                        {"WWW-Authenticate": 'Bearer realm="metrics"'}, mimetype="text/plain")
    return Response(metrics.render(QueueLag()), mimetype=metrics.CONTENT_TYPE)


def _bearer_matches(token: str) -> bool:
    """Whether the request carries `Authorization: Bearer <token>` (compared in constant time)."""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                             token.encode())


# --- readiness checks ------------------------------------------------------------------


def run_bounded(checks: dict[str, Callable[[], str]], timeout: float) -> dict[str, str]:
    """Run the checks at once, each in a thread (in this request's context); a check with no
    answer within `timeout` seconds, or that raises, is an 'error: ...' state."""
    results: dict[str, str] = {}
    threads = []
    for name, check in checks.items():
        thread = threading.Thread(target=contextvars.copy_context().run,
                                  args=(_record, results, name, check),
                                  name=f"walletpass-readyz-{name}", daemon=True)
        thread.start()
        threads.append(thread)
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    done = dict(results)
    return {name: done.get(name, f"error: no answer within {timeout:g} s") for name in checks}


def _record(results: dict[str, str], name: str, check: Callable[[], str]) -> None:
    """Store a check's state, or its failure described without secrets."""
    try:
        results[name] = check()
    except Exception as exc:
        results[name] = f"error: {describe(exc)}"


def describe(exc: BaseException) -> str:
    """A failure in one short line with no secret in it."""
    first = (str(exc).strip().splitlines() or [""])[0]
    return logs.redact(f"{type(exc).__name__}: {first}")[:200]


def check_database() -> str:
    """`SELECT 1` on a pooled connection of the app's database."""
    with db.engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
    return "ok"


def check_broker(app: Flask) -> str:
    """A Redis PING (or a broker connection) under Celery; else the embedded worker's state."""
    url = app.config["SETTINGS"].CELERY_BROKER_URL
    if url.startswith(("redis://", "rediss://", "unix://")):
        import redis

        client = redis.Redis.from_url(url, socket_timeout=CHECK_SECONDS,
                                      socket_connect_timeout=CHECK_SECONDS)
        try:
            client.ping()
        finally:
            client.close()
        return "ok"
    if url:
        from kombu import Connection

        with Connection(url, connect_timeout=CHECK_SECONDS) as conn:
            conn.ensure_connection(max_retries=1, timeout=CHECK_SECONDS)
        return "ok"
    worker = app.extensions.get("walletpass.worker")
    if worker is None:
        return "off: no embedded worker in this process (`walletpass worker` runs the jobs)"
    return "ok" if worker.is_alive() else "error: the embedded worker has stopped"


def check_certificate(app: Flask, now: dt.datetime | None = None) -> str:
    """The Apple signing identity is loaded, and neither it nor the WWDR has expired."""
    from app.wallet.apple.certs import expiring

    issuer = app.extensions.get("walletpass.apple")
    if issuer is None:
        return "error: no signing certificate loaded"
    expired = expiring(issuer.identity, now, days=0)
    if expired is not None:
        which = "the Apple WWDR certificate" if expired.which == "wwdr" else \
            f"the Pass Type ID certificate of {expired.pass_type_id}"
        return f"error: {which} expired on {expired.end:%Y-%m-%d}"
    return "ok"


# --- queue lags, read at scrape time ---------------------------------------------------


class QueueLag:
    """Gauges read from the database at each scrape: undelivered outbox events and running
    imports, their count and the age of the oldest."""

    def collect(self) -> Iterator[Metric]:
        """The lag gauges (none when the database cannot be read: the scrape still works)."""
        from app.models import MemberImport, OutboxEvent

        queues = {"outbox": (OutboxEvent.created_at, OutboxEvent.relayed_at.is_(None)),
                  "import": (MemberImport.created_at, MemberImport.status == "running")}
        count = GaugeMetricFamily("walletpass_queue_pending",
                                  "Items waiting in a queue (outbox: events not yet relayed; "
                                  "import: e-mail list imports running).", labels=["queue"])
        age = GaugeMetricFamily("walletpass_queue_oldest_seconds",
                                "Age of the oldest item waiting in a queue (0 when empty).",
                                labels=["queue"])
        try:
            now = dt.datetime.now(dt.UTC)
            for queue, (created, waiting) in queues.items():
                n, oldest = db.session.execute(select(func.count(), func.min(created))
                                               .where(waiting)).one()
                count.add_metric([queue], n)
                age.add_metric([queue], _age(now, oldest))
        except Exception as exc:
            log.warning("metrics: queue lags not read: %s", describe(exc))
            db.session.rollback()
            return
        yield count
        yield age


def _age(now: dt.datetime, oldest: dt.datetime | None) -> float:
    """Seconds since `oldest` (naive values are UTC), 0 when there is none."""
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=dt.UTC)
    return max(0.0, (now - oldest).total_seconds())


# --- every request ---------------------------------------------------------------------


def init_app(app: Flask) -> None:
    """Register the routes, and give every request an id, its counts and one log line."""
    app.register_blueprint(bp)
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)  # before all
    app.after_request(_finish_request)
    app.teardown_request(_end_request)


def _start_request() -> None:
    """Take the request id (a sane X-Request-ID, else a new one) and start the clock."""
    g.walletpass_started = time.perf_counter()
    rid = logs.accept_request_id(request.headers.get("X-Request-ID"))
    g.walletpass_request_id = rid
    g.walletpass_rid_token = logs.REQUEST_ID.set(rid)


def _finish_request(response: Response) -> Response:
    """Send the request id back, count the answer by route and log it."""
    rid = g.get("walletpass_request_id")
    started = g.get("walletpass_started")
    if rid is None or started is None:  # a before_request ahead of ours failed
        return response
    response.headers["X-Request-ID"] = rid
    seconds = time.perf_counter() - started
    method = request.method if request.method in METHODS else "OTHER"
    route = request.url_rule.rule if request.url_rule is not None else "(unmatched)"
    metrics.HTTP_REQUESTS.labels(method, route, str(response.status_code)).inc()
    metrics.HTTP_SECONDS.labels(method, route).observe(seconds)
    if request.endpoint not in QUIET_ENDPOINTS:
        http_log.info("%s %s %d %.1f ms", method, route, response.status_code, seconds * 1000,
                      extra=_request_extras(method, route, response.status_code, seconds))
    return response


def _request_extras(method: str, route: str, status: int, seconds: float) -> dict[str, Any]:
    """The fields of a request's log line (the URL rule, never the path with its tokens)."""
    return {"method": method, "route": route, "status": status,
            "duration_ms": round(seconds * 1000, 1)}


def _end_request(_exc: BaseException | None) -> None:
    """Forget the request id (a worker thread serves the next request with a new one)."""
    token = g.pop("walletpass_rid_token", None)
    if token is not None:
        try:
            logs.REQUEST_ID.reset(token)
        except ValueError:  # set in another context (a copied one): nothing to undo here
            logs.REQUEST_ID.set("")
