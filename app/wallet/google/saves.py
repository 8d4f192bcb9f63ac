"""Recording Google Wallet saves and removals, once per callback nonce."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from app.extensions import db
from app.models import GoogleCallback, GoogleObject, Member
from app.models.base import utcnow


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
    member_id = db.session.scalar(select(Member.id).where(Member.serial_number == serial))
    if member_id is not None:
        now = utcnow()
        values = ({"saved_at": now, "removed_at": None} if message["eventType"] == "save"
                  else {"removed_at": now})
        db.session.execute(update(GoogleObject).where(GoogleObject.member_id == member_id)
                           .values(**values))
    db.session.flush()
    return True
