"""The outbox: domain code announces an event with one call, channels deliver it.

    from app.outbox import record
    record(merchant_id, "points.changed", {...}, member_id=member.id)

`record` writes one ``outbox_events`` row in the caller's transaction (so an event exists
exactly when the change it reports was committed) and wakes the relay. The relay
(app/outbox/tasks.py, the ``outbox`` sweep) hands each new event to every registered
*channel* in one short transaction; a channel turns it into its own delivery rows
(webhooks: one per subscribed endpoint; e-mail next) and wakes its own delivery sweep.
Deliveries are sent with the shared lease and back-off of app/leases.py.

Channels are registered in one place, app/outbox/channels.py. A channel is any object
with a ``name`` and a ``fan_out(events)`` method (the `Channel` protocol below).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, Protocol

from sqlalchemy import Insert, insert

from app.extensions import db
from app.jobs import wake
from app.models import OutboxEvent
from app.models.base import utcnow

SWEEP = "outbox"
"""The sweep that relays new events to the channels; woken by `record`."""


class Channel(Protocol):
    """An outbound channel of the outbox (webhooks, e-mail)."""

    name: str

    def fan_out(self, events: Sequence[OutboxEvent]) -> int:
        """Add this channel's deliveries of these events to the current transaction (and
        wake its delivery sweep); returns how many deliveries it queued."""
        ...


CHANNELS: dict[str, Channel] = {}


def register_channel(channel: Channel) -> Channel:
    """Give every future event to this channel too."""
    CHANNELS[channel.name] = channel
    return channel


def record(merchant_id: int, event_type: str, payload: dict[str, Any],
           member_id: int | None = None) -> None:
    """Record an outbound event in the caller's transaction (delivered after it commits), in
    one INSERT of the table (no ORM object: every point transaction records one)."""
    db.session.execute(_insert_event(), {
        "merchant_id": merchant_id, "member_id": member_id, "event_type": event_type,
        "payload": payload, "created_at": utcnow()})
    wake(db.session(), SWEEP)


@cache
def _insert_event() -> Insert:
    """`record`'s statement, built once."""
    return insert(OutboxEvent.__table__)


def record_many(merchant_id: int, event_type: str,
                events: Sequence[tuple[int | None, dict[str, Any]]]) -> None:
    """Record many events of one type, as `record` does, in one INSERT (bulk enrollments);
    each event is (member_id, payload)."""
    if not events:
        return
    now = utcnow()
    db.session.flush()  # events recorded one by one before these keep their order
    db.session.execute(insert(OutboxEvent.__table__), [  # the table: no per-row ORM work
        {"merchant_id": merchant_id, "member_id": member_id, "event_type": event_type,
         "payload": payload, "created_at": now} for member_id, payload in events])
    wake(db.session(), SWEEP)
