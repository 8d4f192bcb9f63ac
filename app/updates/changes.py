"""Marking cards changed: bump the pass version (in the caller's transaction) and wake the
pass_updates sweep once that transaction commits.

These live here, above the models, so that models never import the job runner.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, object_session

from app.jobs import PASS_UPDATES, wake
from app.models import Member
from app.models.base import utcnow, utcnow_seconds


def touch_pass(member: Member, now: datetime | None = None) -> None:
    """Mark a member's pass changed: bump its version and its whole-second Last-Modified time.

    HTTP dates have one-second precision, so the new time is always at least one second
    after the previous one; otherwise a device asking If-Modified-Since could miss an
    update made within the same second.
    """
    member.pass_version, member.pass_updated_at = next_pass(member, now)
    session = object_session(member)
    if session is not None:
        wake(session, PASS_UPDATES)


def next_pass(member: Member, now: datetime | None = None) -> tuple[int, datetime]:
    """The pass version and Last-Modified time a change moves a member's pass to (see
    touch_pass, which sets them; the caller that writes them itself wakes the sweep)."""
    now = (now or utcnow()).replace(microsecond=0)
    previous = member.pass_updated_at.replace(microsecond=0) if member.pass_updated_at else None
    if previous is not None and now <= previous:
        now = previous + timedelta(seconds=1)
    return (member.pass_version or 1) + 1, now


def bump_passes(session: Session, *where: Any) -> None:
    """Mark the passes of every member matching `where` changed, in one UPDATE.

    Like touch_pass, each pass's Last-Modified moves strictly forward: to now, or one second
    past the newest time among those passes when one was already changed within this second.
    """
    newest = session.scalar(select(func.max(Member.pass_updated_at)).where(*where))
    stamp = utcnow_seconds()
    if newest is not None and newest >= stamp:
        stamp = newest.replace(microsecond=0) + timedelta(seconds=1)
    session.execute(update(Member).where(*where).values(
        pass_version=Member.pass_version + 1, pass_updated_at=stamp))
    wake(session, PASS_UPDATES)
