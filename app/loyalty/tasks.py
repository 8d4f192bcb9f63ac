"""Loyalty sweeps: points expiry, tier reviews, birthday bonuses. Each is safe to run twice
and in two workers at once: it re-checks each member under the member's row lock."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from app import jobs
from app.extensions import db
from app.loyalty import bonuses, expiry, tiers
from app.loyalty.ledger import lock_member
from app.models import Member
from app.models.base import utcnow

EXPIRY = "loyalty_expiry"
TIER_REVIEW = "loyalty_tier_review"
BIRTHDAYS = "loyalty_birthdays"


def _each(member_ids: list[int], work: Callable[[int], object]) -> int:
    """Run work per member, one transaction each; returns how many did something."""
    done = 0
    for member_id in member_ids:
        if work(member_id):
            done += 1
        db.session.commit()
    return done


@jobs.sweep(EXPIRY, every=3600)
def expire_points() -> int:
    """Expire every lot whose time has come."""
    ids = expiry.members_with_expired_lots(utcnow())
    db.session.commit()
    return _each(ids, expiry.expire_member)


@jobs.sweep(TIER_REVIEW, every=3600)
def review_tiers() -> int:
    """Re-qualify members whose tier window ended."""
    now = utcnow()
    ids = list(db.session.scalars(select(Member.id).where(Member.tier_expires_at <= now)
                                  .order_by(Member.id).limit(500)))
    db.session.commit()
    return _each(ids, _review_one)


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
    """Give today's birthday bonuses (UTC date)."""
    ids = bonuses.birthdays_due(utcnow().date())
    db.session.commit()
    return _each(ids, bonuses.give_birthday_bonus)
