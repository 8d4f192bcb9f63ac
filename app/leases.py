"""Claiming due rows with a lease, and backing off after a failure: shared by every channel.

A channel that delivers something outside the database (APNs pushes, Google Wallet
updates, webhooks, e-mail) keeps one row per pending delivery with a ``next_attempt_at``
column, and works in three short steps:

1. **claim**: reserve due rows (``next_attempt_at`` empty or past) by moving their
   ``next_attempt_at`` a *lease* ahead, and commit, so no transaction stays open while
   sending. Two workers never claim the same row (PostgreSQL: ``FOR UPDATE SKIP LOCKED``;
   SQLite: a sweep's transaction holds the write lock), and a crashed worker's rows come
   back by themselves when the lease ends: nothing is lost and nothing needs cleaning up.
2. **deliver** with no transaction open.
3. **record** the outcome per row: done, or due again at ``Backoff.next_attempt(...)``.

    rows = leases.claim(select(T.id, ...).where(leases.due(T.next_attempt_at), ...),
                        T.next_attempt_at, lease=120.0, limit=100)
    ...deliver...
    row.next_attempt_at = RETRY.next_attempt(now, row.attempts)
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute

from app.extensions import db
from app.models.base import utcnow

IDS_PER_UPDATE = 10_000
"""Ids per UPDATE of a SQLite claim (well under its 32,766 parameters per statement)."""
MAX_DOUBLINGS = 30
"""Past this many failures the wait stops growing (it is at the cap long before)."""


@dataclass(frozen=True)
class Backoff:
    """Exponential back-off: `first` seconds after the first failure, doubling after each
    further one, never longer than `cap`; each wait is spread by +-`jitter` (a fraction) so
    the retries of a burst of failures do not all come back at the same moment."""

    first: float
    cap: float
    jitter: float = 0.2

    def delay(self, failures: int, first: float | None = None) -> float:
        """The wait after the n-th failure in a row (n >= 1), before jitter, in seconds."""
        base = self.first if first is None else first
        return float(min(self.cap, base * 2 ** min(max(failures - 1, 0), MAX_DOUBLINGS)))

    def wait(self, failures: int, first: float | None = None) -> timedelta:
        """The wait after the n-th failure, jitter included (never past the cap)."""
        spread = random.uniform(1 - self.jitter, 1 + self.jitter) if self.jitter else 1.0
        return timedelta(seconds=min(self.cap, self.delay(failures, first) * spread))

    def next_attempt(self, now: datetime, failures: int, first: float | None = None) -> datetime:
        """When a row that has now failed `failures` times in a row is due again."""
        return now + self.wait(failures, first)


def due(column: InstrumentedAttribute[Any], now: datetime | None = None) -> ColumnElement[bool]:
    """The condition of a row whose lease / back-off column lets it be attempted now."""
    return or_(column.is_(None), column <= (now or utcnow()))


def claim(query: Select[*tuple[Any, ...]], column: InstrumentedAttribute[Any], lease: float,
          limit: int | None = None, until: datetime | None = None
          ) -> Sequence[Row[*tuple[Any, ...]]]:
    """Run `query` (due rows; its first column is the row's id) and hold the rows it finds
    for `lease` seconds (or `until` then, for a later `release_held`), in one short
    transaction that is committed before returning.

    PostgreSQL: one statement, ``UPDATE ... FROM (query FOR UPDATE SKIP LOCKED) RETURNING``
    (the rows come back in no particular order); SQLite: the query, then an UPDATE per
    IDS_PER_UPDATE ids.
    """
    model = column.class_
    if limit is not None:
        query = query.limit(limit)
    until = until or utcnow() + timedelta(seconds=lease)
    if db.session.get_bind().dialect.name == "postgresql":
        picked = query.with_for_update(skip_locked=True, of=model).subquery("picked")
        rows = db.session.execute(
            update(model).where(model.id == list(picked.c)[0]).values({column: until})
            .returning(*picked.c).execution_options(synchronize_session=False)).all()
    else:
        rows = db.session.execute(query).all()
        for start in range(0, len(rows), IDS_PER_UPDATE):
            ids = [r[0] for r in rows[start:start + IDS_PER_UPDATE]]
            db.session.execute(update(model).where(model.id.in_(ids)).values({column: until})
                               .execution_options(synchronize_session=False))
    db.session.commit()
    return rows


def claim_ids(column: InstrumentedAttribute[Any], conditions: Sequence[ColumnElement[bool]],
              order: Sequence[Any], lease: float, limit: int) -> list[int]:
    """Hold up to `limit` due rows (those matching `conditions`, first by `order`) for
    `lease` seconds with one UPDATE ... RETURNING, committed before returning; their ids,
    ascending. PostgreSQL picks them with FOR UPDATE SKIP LOCKED; on SQLite the statement
    holds the write lock while it picks and updates."""
    model = column.class_
    pick = select(model.id).where(*conditions).order_by(*order).limit(limit)
    if db.session.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    ids = db.session.scalars(update(model).where(model.id.in_(pick.scalar_subquery()))
                             .values({column: utcnow() + timedelta(seconds=lease)})
                             .returning(model.id)
                             .execution_options(synchronize_session=False)).all()
    db.session.commit()
    return sorted(ids)


def claim_one(column: InstrumentedAttribute[Any], row_id: int, lease: float,
              *conditions: ColumnElement[bool]) -> bool:
    """Take one row for `lease` seconds if it is still due (and matches `conditions`); a
    conditional UPDATE, committed at once, so of two workers only one gets it."""
    model = column.class_
    now = utcnow()
    result = db.session.execute(
        update(model).where(model.id == row_id, due(column, now), *conditions)
        .values({column: now + timedelta(seconds=lease)})
        .execution_options(synchronize_session=False))
    db.session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def release(column: InstrumentedAttribute[Any], row_id: int,
            *conditions: ColumnElement[bool]) -> None:
    """Make a claimed row due again at once (it was claimed but could not be sent)."""
    model = column.class_
    db.session.execute(update(model).where(model.id == row_id, *conditions)
                       .values({column: utcnow()})
                       .execution_options(synchronize_session=False))
    db.session.commit()


def release_held(column: InstrumentedAttribute[Any], ids: Sequence[int], until: datetime) -> None:
    """Make rows claimed `until` then due again at once (they were claimed but will not be
    sent); a row whose lease ran out and that another worker claimed since is left alone."""
    model = column.class_
    now = utcnow()
    for start in range(0, len(ids), IDS_PER_UPDATE):
        db.session.execute(update(model).where(model.id.in_(ids[start:start + IDS_PER_UPDATE]),
                                               column == until)
                           .values({column: now}).execution_options(synchronize_session=False))
    db.session.commit()
