"""Points expiry: lots expire `expiry_days` after they were credited, oldest first."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, time, timedelta, tzinfo
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, func, select

from app.extensions import db
from app.loyalty.ledger import Posting, known, lock_member, post
from app.loyalty.rules import rules_of
from app.models import LedgerEntry, Member
from app.models.base import utcnow


def members_with_expired_lots(now: datetime, limit: int = 500) -> list[int]:
    """Members holding lots whose expiry has passed."""
    return list(db.session.scalars(
        select(LedgerEntry.member_id).where(LedgerEntry.remaining > 0,
                                            LedgerEntry.expires_at <= now)
        .group_by(LedgerEntry.member_id).order_by(LedgerEntry.member_id).limit(limit)))


def expire_member(member_id: int, now: datetime | None = None) -> int:
    """Record an expire entry for each of the member's expired lots; returns points expired."""
    now = now or utcnow()
    member = lock_member(member_id)
    lots = list(db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.member_id == member_id, LedgerEntry.remaining > 0,
                                  LedgerEntry.expires_at <= now)
        .order_by(LedgerEntry.expires_at, LedgerEntry.id)
        .execution_options(populate_existing=True)))
    total = 0
    for lot in lots:
        points = lot.remaining
        post(member, Posting("expire", -points, source="system", take_first=lot,
                             reason=f"Expiry of {points} points from transaction {lot.id}"), now)
        total += points
    return total


def expiring_soon(member: Member, now: datetime | None = None) -> list[dict[str, Any]]:
    """Points that expire within the program's 'soon' window, grouped by expiry date."""
    now = now or utcnow()
    horizon = now + timedelta(days=rules_of(member.program).expiring_soon_days)
    return expiring(member, horizon)


def expiring(member: Member, until: datetime | None = None) -> list[dict[str, Any]]:
    """Open lots with an expiry (up to `until`), summed per expiry day in the program's time
    zone, soonest first. No query when this transaction holds the member locked and knows
    that none of their open lots expires by then."""
    held = known(member.id)
    if held is not None and held.expiry_known and (
            held.first_expiry is None or (until is not None and held.first_expiry > until)):
        return []
    stmt, params = _open_lots(until is not None), {"member_id": member.id, "until": until}
    per_day: dict[str, int] = defaultdict(int)
    zone = member.program.zone
    for expires_at, remaining in db.session.execute(stmt, params):
        if expires_at is not None:
            per_day[expires_at.astimezone(zone).date().isoformat()] += remaining
    return [{"points": p, "expires_at": d} for d, p in sorted(per_day.items())]


@cache
def _open_lots(bounded: bool) -> Select[datetime | None, int]:
    """`expiring`'s statement (up to :until when bounded), built once."""
    stmt = (select(LedgerEntry.expires_at, LedgerEntry.remaining)
            .where(LedgerEntry.member_id == bindparam("member_id"), LedgerEntry.remaining > 0,
                   LedgerEntry.expires_at.is_not(None)))
    return stmt.where(LedgerEntry.expires_at <= bindparam("until")) if bounded else stmt


def next_expiry(member_id: int, zone: tzinfo = UTC) -> tuple[int, datetime] | None:
    """(points, first expiry) of the member's next expiring points, or None: the points are
    those of every lot expiring on the same day as the first one, a day in `zone`."""
    first = db.session.scalar(
        select(func.min(LedgerEntry.expires_at))
        .where(LedgerEntry.member_id == member_id, LedgerEntry.remaining > 0,
               LedgerEntry.expires_at.is_not(None)))
    return expiring_on_first_day(member_id, zone, first)


def expiring_on_first_day(member_id: int, zone: tzinfo,
                          first: datetime | None) -> tuple[int, datetime] | None:
    """next_expiry for a caller that read the first expiry already (the card's snapshot
    does, in its own statement): one query, none when nothing expires."""
    if first is None:
        return None
    day = first.astimezone(zone).date() + timedelta(days=1)
    day_end = datetime.combine(day, time(), tzinfo=zone)
    points = db.session.scalar(
        select(func.sum(LedgerEntry.remaining))
        .where(LedgerEntry.member_id == member_id, LedgerEntry.remaining > 0,
               LedgerEntry.expires_at.is_not(None), LedgerEntry.expires_at < day_end))
    return int(points or 0), first
