"""The webhook delivery sweep."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from app import jobs
from app.extensions import db
from app.models import WebhookDelivery
from app.models.base import utcnow
from app.webhooks.delivery import TIMEOUT_SECONDS, post, prepare, record
from app.webhooks.operations import SWEEP

LEASE = timedelta(seconds=TIMEOUT_SECONDS * 4)
BATCH = 100


@jobs.sweep(SWEEP, every=10)
def deliver_due_webhooks() -> int:
    """Send every due pending delivery once; returns how many were attempted."""
    now = utcnow()
    ids = list(db.session.scalars(
        select(WebhookDelivery.id).where(WebhookDelivery.state == "pending",
                                         WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(BATCH)))
    db.session.commit()
    handled = 0
    for delivery_id in ids:
        if _claim(delivery_id):
            _deliver(delivery_id)
            handled += 1
    return handled


def _claim(delivery_id: int) -> bool:
    """Take a delivery for LEASE (a conditional UPDATE, so two workers never both send)."""
    now = utcnow()
    result = db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.state == "pending",
               WebhookDelivery.next_attempt_at <= now)
        .values(next_attempt_at=now + LEASE))
    db.session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _deliver(delivery_id: int) -> None:
    """POST a claimed delivery (no transaction held open meanwhile) and record the outcome."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        return
    request = prepare(delivery)
    db.session.commit()  # no transaction (SQLite: no write lock) held during the POST
    outcome = post(request.url, request.body, request.headers)
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is not None:
        record(delivery, outcome)
        db.session.commit()
