"""Background work, driven by the database.

The database is the source of truth for pending work (passes whose version is newer than
what was pushed, webhook deliveries that are due, points that have expired). A *sweep* is
a function that finds such work and does it; it is safe to run twice and to run in two
workers at once. Sweeps run:

- in the embedded worker, a thread of `walletpass serve`, every few seconds and at once
  when a request commits work for it (`wake`); or
- on Celery (production): beat runs every sweep on its interval and `wake` sends the
  `walletpass.run_sweep` task after the commit.

A crashed worker or a lost queue message therefore loses nothing: the next sweep finds
what is still pending. A wake-up carries the id of the request that committed the work
(app/logs.py), so the log lines of the sweep run it causes name that request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from celery import Celery, Task, shared_task
from celery.signals import setup_logging
from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.logs import current_request_id, request_id_context
from app.metrics import JOB_FAILURES, JOB_RUNS

log = logging.getLogger(__name__)
MAX_REQUEST_IDS = 20
"""Request ids a woken sweep keeps for its next run's log lines (the wake-ups coalesce)."""


@dataclass(frozen=True)
class Sweep:
    """A registered sweep: its function and how often it runs when not woken."""

    name: str
    func: Callable[[], int]
    every: float


SWEEPS: dict[str, Sweep] = {}

PASS_UPDATES = "pass_updates"
"""The sweep that sends changed passes to the wallets; woken by Member.touch_pass."""


def sweep(name: str, every: float) -> Callable[[Callable[[], int]], Callable[[], int]]:
    """Register a function as a sweep (it returns how many items it handled)."""

    def register(func: Callable[[], int]) -> Callable[[], int]:
        SWEEPS[name] = Sweep(name, func, every)
        return func

    return register


def run_sweep_now(name: str, request_id: str = "") -> int:
    """Run one sweep in the current app context, logging (not raising) its failure; its log
    lines carry `request_id` (of the request(s) that woke it)."""
    with request_id_context(request_id or current_request_id()):
        return _run_sweep(name)


def _run_sweep(name: str) -> int:
    """Run one sweep, count it, log what it did or how it failed."""
    from app.extensions import db

    JOB_RUNS.labels(name).inc()
    try:
        handled = SWEEPS[name].func()
    except Exception:
        JOB_FAILURES.labels(name).inc()
        log.exception("sweep %s failed; it will run again", name)
        db.session.rollback()
        return 0
    finally:
        db.session.remove()
    if handled:
        log.info("sweep %s handled %d", name, handled, extra={"sweep": name,
                                                               "handled": handled})
    return handled


def wake(session: Session, *names: str) -> None:
    """Ask for these sweeps to run as soon as the session's transaction commits."""
    session.info.setdefault("walletpass_wake", set()).update(names)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    """Deliver the wake-ups of a committed transaction."""
    names = session.info.pop("walletpass_wake", None)
    if names and has_app_context():
        dispatcher = current_app.extensions.get("walletpass.dispatch")
        if dispatcher is not None:
            dispatcher(sorted(names), current_request_id())


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    """Forget the wake-ups of a rolled-back transaction."""
    session.info.pop("walletpass_wake", None)


class _SweepLoop(threading.Thread):
    """One sweep's loop: runs when woken, or every `every` seconds (at most `poll` apart)."""

    def __init__(self, app: Flask, sweep: Sweep, poll: float, stopping: threading.Event) -> None:
        super().__init__(name=f"walletpass-{sweep.name}", daemon=True)
        self.app = app
        self.sweep = sweep
        self.interval = max(poll, sweep.every)
        self.woken = threading.Event()
        self.stopping = stopping
        self._request_ids: list[str] = []
        self._ids_lock = threading.Lock()

    def wake(self, request_id: str = "") -> None:
        """Run soon; the run's log lines name this request id (with any others waiting)."""
        if request_id:
            with self._ids_lock:
                if request_id not in self._request_ids:
                    self._request_ids = [*self._request_ids, request_id][-MAX_REQUEST_IDS:]
        self.woken.set()

    def take_request_ids(self) -> str:
        """The ids of the requests that woke this loop since its last run, comma-separated."""
        with self._ids_lock:
            ids, self._request_ids = self._request_ids, []
        return ",".join(ids)

    def run(self) -> None:
        """Loop until stopped."""
        while not self.stopping.is_set():
            self.woken.wait(self.interval)
            self.woken.clear()
            if self.stopping.is_set():
                return
            with self.app.app_context():
                run_sweep_now(self.sweep.name, self.take_request_ids())


class EmbeddedWorker:
    """Runs the sweeps in threads of the web process (the default, no broker needed).

    Each sweep has its own thread, so a slow one (a webhook endpoint that never answers)
    cannot hold up another (pushing changed passes).
    """

    def __init__(self, app: Flask, poll: float) -> None:
        self._stopping = threading.Event()
        self._loops = {name: _SweepLoop(app, sw, poll, self._stopping)
                       for name, sw in SWEEPS.items()}

    def start(self) -> None:
        """Start every sweep's thread (each runs once straight away)."""
        for loop in self._loops.values():
            loop.woken.set()
            loop.start()

    def dispatch(self, names: list[str], request_id: str = "") -> None:
        """Wake the threads of these sweeps (for the request with this id)."""
        for name in names:
            loop = self._loops.get(name)
            if loop is not None:
                loop.wake(request_id)

    def is_alive(self) -> bool:
        """Whether any sweep thread is still running."""
        return any(loop.is_alive() for loop in self._loops.values())

    def stop(self, timeout: float = 10.0) -> None:
        """Stop every loop and wait (bounded) for running sweeps to finish."""
        self._stopping.set()
        deadline = time.monotonic() + timeout
        for loop in self._loops.values():
            loop.woken.set()
        for loop in self._loops.values():
            if loop.is_alive():
                loop.join(max(0.0, deadline - time.monotonic()))


def start_embedded_worker(app: Flask) -> EmbeddedWorker | None:
    """Start the in-process worker, unless a Celery broker is configured or it is disabled."""
    settings = app.config["SETTINGS"]
    if settings.CELERY_BROKER_URL or not settings.EMBEDDED_WORKER:
        return None
    worker = EmbeddedWorker(app, settings.WORKER_POLL_SECONDS)
    app.extensions["walletpass.dispatch"] = worker.dispatch
    app.extensions["walletpass.worker"] = worker
    worker.start()
    return worker


def celery_init_app(app: Flask) -> Celery:
    """Flask's Celery pattern: every task runs inside the app context."""

    class FlaskTask(Task):  # type: ignore[misc]
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    settings = app.config["SETTINGS"]
    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.conf.update(
        broker_url=settings.CELERY_BROKER_URL,
        task_ignore_result=True,
        task_acks_late=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        # A broker outage must not stall API writes: publishing fails fast, beat catches up.
        broker_transport_options={"socket_connect_timeout": 2, "socket_timeout": 5},
    )
    celery_app.conf.beat_schedule = {
        f"sweep-{name}": {"task": "walletpass.run_sweep", "schedule": sw.every, "args": (name,)}
        for name, sw in SWEEPS.items()
    }
    celery_app.set_default()
    setup_logging.connect(_keep_our_logging, weak=False)
    app.extensions["celery"] = celery_app
    app.extensions["walletpass.dispatch"] = _celery_dispatch
    return celery_app


def _keep_our_logging(**_: Any) -> None:
    """Celery's setup_logging signal: keep the app's logging (its format, request ids and
    redaction) instead of Celery's own handlers."""


def _celery_dispatch(names: list[str], request_id: str = "") -> None:
    """Send a run_sweep task per woken sweep, with the request id for its log lines
    (failures only delay the work to beat's next run)."""
    for name in names:
        try:
            run_sweep.apply_async((name,), {"request_id": request_id},
                                  retry=False)  # never hold up the request
        except Exception:
            log.warning("could not queue sweep %s; beat will run it", name, exc_info=True)


@shared_task(name="walletpass.run_sweep", ignore_result=True)
def run_sweep(name: str, request_id: str = "") -> int:
    """Celery task: run one sweep (its log lines name the request that queued it)."""
    return run_sweep_now(name, request_id)
