"""Delivery state: what each device of a card was pushed and fetched, and who is stale.

Every answer names its channel ("apple"; Google's objects join these lists as "google").
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from app.extensions import db
from app.models import AppleDevice, AppleRegistration, Member, Program
from app.models.base import utcnow

MAX_STALE_MINUTES = 60 * 24 * 30
MAX_LIMIT = 1000


def member_devices(member: Member) -> list[tuple[AppleRegistration, AppleDevice]]:
    """The member's registered devices with their delivery state, oldest first."""
    rows = db.session.execute(
        select(AppleRegistration, AppleDevice).join(AppleDevice)
        .where(AppleRegistration.member_id == member.id).order_by(AppleRegistration.id)).all()
    return [(reg, device) for reg, device in rows]


def stale_members(program: Program, minutes: int, limit: int) -> list[dict[str, Any]]:
    """Members with a device that has not fetched the latest pass within `minutes` of the change."""
    cutoff = utcnow() - timedelta(minutes=minutes)
    behind = func.coalesce(AppleRegistration.fetched_version, 0) < Member.pass_version
    rows = db.session.execute(
        select(Member.id, Member.serial_number, Member.pass_version, Member.pass_updated_at,
               func.count(AppleRegistration.id), func.max(AppleRegistration.pushed_at))
        .join(AppleRegistration, AppleRegistration.member_id == Member.id)
        .where(Member.program_id == program.id, Member.pass_updated_at <= cutoff, behind)
        .group_by(Member.id, Member.serial_number, Member.pass_version, Member.pass_updated_at)
        .order_by(Member.pass_updated_at, Member.id).limit(limit)).all()
    return [{"id": r[0], "serial_number": r[1], "channel": "apple", "pass_version": r[2],
             "pass_updated_at": r[3].isoformat(), "stale_devices": r[4],
             "last_pushed_at": r[5].isoformat() if r[5] else None} for r in rows]
