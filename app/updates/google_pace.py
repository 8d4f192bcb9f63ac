"""A deployment-wide pace for Google API calls, kept in the database.

Google allows 20 requests per second per issuer, whatever the number of processes. Before a
call, a worker takes the next free slot from the single `google_quota` row (one short
locking transaction per batch of slots) and sleeps until its slot comes: every web and
worker process of the deployment draws from the same row, so together they never exceed
the rate.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import GoogleQuota

SLOTS_PER_RESERVATION = 5
"""Slots taken per database round: fewer round trips, and little unused if a batch ends."""
HEADROOM = 0.9
"""Share of the rate actually used: slots are evenly spaced, but calls reach Google with
some jitter, and a call that arrives late next to one on time would make 21 in a second."""


def reserve(count: int, rate: float, now: Callable[[], float] = time.time) -> float:
    """Reserve `count` consecutive call slots; returns the epoch time the first one starts."""
    row = db.session.get(GoogleQuota, 1, with_for_update=True)
    if row is None:
        try:
            db.session.add(GoogleQuota(id=1, next_at=0.0))
            db.session.commit()
        except IntegrityError:  # another process made it first
            db.session.rollback()
        row = db.session.get(GoogleQuota, 1, with_for_update=True, populate_existing=True)
    assert row is not None
    start = max(row.next_at, now())
    row.next_at = start + count / rate
    db.session.commit()
    return start


class Pacer:
    """Waits before each call until this process's next reserved slot."""

    def __init__(self, rate: float, sleep: Callable[[float], None] = time.sleep) -> None:
        self.rate = rate * HEADROOM
        self.sleep = sleep
        self._slots: list[float] = []

    def wait(self) -> None:
        """Block until the next slot (reserving more from the shared row when none is left)."""
        if self.rate <= 0:
            return
        if not self._slots:
            start = reserve(SLOTS_PER_RESERVATION, self.rate)
            self._slots = [start + i / self.rate for i in range(SLOTS_PER_RESERVATION)]
        slot = self._slots.pop(0)
        delay = slot - time.time()
        if delay > 0:
            self.sleep(delay)
