"""The outbox relay: hands new events to every channel, then they are done here."""

from __future__ import annotations

from sqlalchemy import select, update

import app.outbox.channels  # noqa: F401  (registers the channels)
from app import jobs
from app.extensions import db
from app.models import OutboxEvent
from app.models.base import utcnow
from app.outbox import CHANNELS, SWEEP

BATCH = 500


def relay(limit: int = BATCH) -> int:
    """Give up to `limit` new events to every channel, in one transaction; returns how many.

    The events are marked relayed first, by one UPDATE (PostgreSQL skips rows another relay
    holds; on SQLite the statement takes the write lock), so two relays never hand the same
    event out twice.
    """
    pending = (select(OutboxEvent.id).where(OutboxEvent.relayed_at.is_(None))
               .order_by(OutboxEvent.id).limit(limit))
    if db.session.get_bind().dialect.name == "postgresql":
        pending = pending.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(
        update(OutboxEvent).where(OutboxEvent.id.in_(pending.scalar_subquery()))
        .values(relayed_at=utcnow()).returning(OutboxEvent.id)
        .execution_options(synchronize_session=False)))
    if ids:
        events = db.session.scalars(select(OutboxEvent).where(OutboxEvent.id.in_(ids))
                                    .order_by(OutboxEvent.id)).all()
        for channel in CHANNELS.values():
            channel.fan_out(events)
    db.session.commit()
    return len(ids)


@jobs.sweep(SWEEP, every=5)
def relay_events() -> int:
    """Relay every new event to the channels; returns how many."""
    handled = 0
    while True:
        count = relay()
        handled += count
        if count < BATCH:
            return handled
