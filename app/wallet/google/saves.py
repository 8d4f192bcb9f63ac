"""Google Wallet state per member: saves and removals (once per callback nonce), and
delivery state for the devices answer and the stale-member list."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from app.extensions import db
from app.models import GoogleCallback, GoogleObject, Member
from app.models.base import utcnow
from app.models.card_event import card_event


def record_event(message: dict[str, Any], issuer_id: str) -> bool:
    """Record a verified save/del event for its member; False when the nonce was seen before.

    Flushes only; the caller commits.
    """
    nonce = str(message["nonce"])[:200]
    if db.session.get(GoogleCallback, nonce) is not None:
        return False
    object_id = str(message.get("objectId") or "")
    db.session.add(GoogleCallback(nonce=nonce, event_type=message["eventType"],
                                  object_id=object_id[:300]))
    prefix = issuer_id + "."
    serial = object_id[len(prefix):] if object_id.startswith(prefix) else None
    found = db.session.execute(select(Member.id, Member.program_id)
                               .where(Member.serial_number == serial)).first()
    if found is not None:
        member_id, now = found[0], utcnow()
        card_event(member_id, found[1], "google",
                   "install" if message["eventType"] == "save" else "remove", now)
        values = ({"saved_at": now, "removed_at": None} if message["eventType"] == "save"
                  else {"removed_at": now})
        db.session.execute(update(GoogleObject).where(GoogleObject.member_id == member_id)
                           .values(**values))
    db.session.flush()
    return True


def google_card(member: Member) -> dict[str, Any] | None:
    """The member's Google object delivery state, for the devices answer (None: none yet)."""
    row = db.session.scalar(select(GoogleObject).where(GoogleObject.member_id == member.id))
    if row is None:
        return None
    iso = (lambda v: v.isoformat() if v is not None else None)  # noqa: E731
    return {"wallet": "google", "inserted": row.inserted,
            "delivered_version": row.delivered_version, "delivered_at": iso(row.delivered_at),
            "status": row.status, "reason": row.reason, "attempts": row.attempts,
            "next_attempt_at": iso(row.next_attempt_at), "saved_at": iso(row.saved_at),
            "removed_at": iso(row.removed_at),
            "up_to_date": row.delivered_version >= member.pass_version}


def stale_google_objects(program_id: int, minutes: int, limit: int) -> list[dict[str, Any]]:
    """Members whose Google object has not received a change made over `minutes` ago (one
    entry per member, in the stale-members shape, channel "google")."""
    cutoff = utcnow() - timedelta(minutes=minutes)
    rows = db.session.execute(
        select(Member.id, Member.serial_number, Member.pass_version, Member.pass_updated_at,
               GoogleObject.delivered_at)
        .join(GoogleObject, GoogleObject.member_id == Member.id)
        .where(Member.program_id == program_id, Member.pass_updated_at <= cutoff,
               GoogleObject.delivered_version < Member.pass_version)
        .order_by(Member.pass_updated_at, Member.id).limit(limit)).all()
    return [{"id": r[0], "serial_number": r[1], "channel": "google", "pass_version": r[2],
             "pass_updated_at": r[3].isoformat(), "stale_devices": 1,
             "last_pushed_at": r[4].isoformat() if r[4] else None} for r in rows]
