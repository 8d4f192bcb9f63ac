"""The webhook delivery sweep.

A run sends due deliveries concurrently: WORKERS threads do only the HTTP attempts, while
every database read and write (claim, prepare, record) stays in the calling thread and its
session. A delivery is claimed only when a thread is free to send it at once, and no new
delivery is claimed after BUDGET_SECONDS, so one run holds its worker for at most
BUDGET_SECONDS plus one attempt's worst case (REQUEST_DEADLINE, DNS included). The claim
lease (LEASE) is several times that, so a slow receiver never lets another worker claim
and send the same delivery again while the first attempt is still running. A claimed
delivery that could not be handed to a thread is released (due again at once).
"""

from __future__ import annotations

import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from app import jobs, leases
from app.extensions import db
from app.models import WebhookDelivery
from app.models.base import utcnow
from app.outbox.tasks import relay
from app.webhooks.delivery import REQUEST_DEADLINE, Outcome, Request, post, prepare, record
from app.webhooks.operations import SWEEP

BATCH = 100
WORKERS = 8
BUDGET_SECONDS = 20.0
LEASE = timedelta(seconds=120)
assert LEASE.total_seconds() > 2 * (BUDGET_SECONDS + REQUEST_DEADLINE)


@jobs.sweep(SWEEP, every=10)
def deliver_due_webhooks() -> int:
    """Send due pending deliveries (at most BATCH, within the time budget) once each;
    returns how many were attempted. New outbox events are relayed first, so an event
    never waits for the outbox sweep."""
    relay()
    stop_at = time.monotonic() + BUDGET_SECONDS
    allow_private = bool(current_app.config["SETTINGS"].WEBHOOK_ALLOW_PRIVATE)
    now = utcnow()
    due = deque(db.session.scalars(
        select(WebhookDelivery.id).where(WebhookDelivery.state == "pending",
                                         WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(BATCH)))
    db.session.commit()
    handled = 0
    in_flight: dict[Future[Outcome], int] = {}
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="webhook") as pool:
        while due or in_flight:
            while due and len(in_flight) < WORKERS and time.monotonic() < stop_at:
                delivery_id = due.popleft()
                request = _claim(delivery_id)
                if request is None:
                    continue
                try:
                    future = pool.submit(post, request.url, request.body, request.headers,
                                         allow_private=allow_private)
                except BaseException:
                    _release(delivery_id)
                    raise
                in_flight[future] = delivery_id
            if time.monotonic() >= stop_at:
                due.clear()  # out of time: the rest stay due for the next run (unclaimed)
            if not in_flight:
                continue
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                delivery_id = in_flight.pop(future)
                try:
                    outcome = future.result()
                except Exception:  # post() turns failures into outcomes; just in case
                    outcome = Outcome(None, "delivery error")
                _record(delivery_id, outcome)
                handled += 1
    return handled


def _claim(delivery_id: int) -> Request | None:
    """Take a delivery for LEASE (a conditional UPDATE, so two workers never both send) and
    build its signed request; None when another worker took it or it is gone."""
    if not leases.claim_one(WebhookDelivery.next_attempt_at, delivery_id,
                            LEASE.total_seconds(), WebhookDelivery.state == "pending"):
        return None
    try:
        delivery = db.session.get(WebhookDelivery, delivery_id)
        request = prepare(delivery) if delivery is not None else None
        db.session.commit()  # no transaction (SQLite: no write lock) held during the POST
    except BaseException:
        db.session.rollback()
        _release(delivery_id)
        raise
    return request


def _release(delivery_id: int) -> None:
    """Make a claimed but unsent delivery due again at once."""
    leases.release(WebhookDelivery.next_attempt_at, delivery_id,
                   WebhookDelivery.state == "pending")


def _record(delivery_id: int, outcome: Outcome) -> None:
    """Store the outcome of a sent delivery (in the sweep's own thread and session)."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is not None and delivery.state == "pending":
        record(delivery, outcome)
    db.session.commit()
