"""Loyalty sweeps: points expiry, tier reviews, birthday bonuses. Each is safe to run twice
and in two workers at once: it re-checks each member under the member's row lock."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import delete, select

from app import jobs
from app.extensions import db
from app.loyalty import bonuses, expiry, tiers
from app.loyalty.ledger import lock_member
from app.models import IdempotencyRecord, Member
from app.models.base import utcnow
from app.models.program import zone_of

IDEMPOTENCY_KEEP = timedelta(days=30)
EXPIRY = "loyalty_expiry"
TIER_REVIEW = "loyalty_tier_review"
BIRTHDAYS = "loyalty_birthdays"
IDEMPOTENCY_CLEANUP = "idempotency_cleanup"


BATCH = 500
MAX_BATCHES = 20


def _drain(find: Callable[[], list[int]], work: Callable[[int], object]) -> int:
    """Run work per member found, one transaction each, batch after batch (bounded);
    returns how many did something."""
    done = 0
    for _ in range(MAX_BATCHES):
        member_ids = find()
        db.session.commit()
        for member_id in member_ids:
            if work(member_id):
                done += 1
            db.session.commit()
        if len(member_ids) < BATCH:
            break
    return done


@jobs.sweep(EXPIRY, every=3600)
def expire_points() -> int:
    """Expire every lot whose time has come."""
    return _drain(lambda: expiry.members_with_expired_lots(utcnow(), BATCH),
                  expiry.expire_member)


@jobs.sweep(TIER_REVIEW, every=3600)
def review_tiers() -> int:
    """Re-qualify members whose tier window ended."""
    return _drain(_tiers_due, _review_one)


def _tiers_due() -> list[int]:
    """Members whose tier window has ended."""
    return list(db.session.scalars(select(Member.id).where(Member.tier_expires_at <= utcnow())
                                   .order_by(Member.id).limit(BATCH)))


def _review_one(member_id: int) -> bool:
    """Review one member's tier if it is still due (another worker may have done it)."""
    member = lock_member(member_id)
    now = utcnow()
    if member.tier_expires_at is None or member.tier_expires_at > now:
        return False
    tiers.review(member, now)
    return True


@jobs.sweep(BIRTHDAYS, every=3600)
def birthday_bonuses() -> int:
    """Give today's birthday bonuses: today as it is in each program's time zone."""
    zones = bonuses.birthday_zones()
    db.session.commit()
    done = 0
    for name in zones:
        today = utcnow().astimezone(zone_of(name)).date()
        done += _drain(functools.partial(bonuses.birthdays_due, today, BATCH, name),
                       bonuses.give_birthday_bonus)
    return done


@jobs.sweep(IDEMPOTENCY_CLEANUP, every=3600)
def forget_old_idempotency_keys() -> int:
    """Drop stored answers to Idempotency-Keys older than 30 days."""
    result = db.session.execute(delete(IdempotencyRecord).where(
        IdempotencyRecord.created_at < utcnow() - IDEMPOTENCY_KEEP))
    db.session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
