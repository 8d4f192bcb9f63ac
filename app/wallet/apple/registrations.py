"""Device registrations for Apple passes: plain functions behind the PassKit web service."""

from __future__ import annotations

import hmac
import re
from datetime import UTC, datetime

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import AppleDevice, AppleRegistration, Member
from app.models.base import utcnow
from app.models.card_event import card_event
from app.transactions import bookkeeping

PUSH_TOKEN = re.compile(r"^[0-9a-fA-F]{16,200}$")
LIBRARY_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
SERIAL = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
TAG_MARGIN_SECONDS = 5
"""How far behind the answer's time a lastUpdated tag is set (see updated_serials)."""
_NO_TOKEN = "\0" * 32  # compared against when the serial is unknown, so timing tells nothing


def authorized_member(pass_type_id: str, expected_type: str, serial: str,
                      header: str | None) -> Member | None:
    """The member whose pass this request may act on, or None (never says which part failed)."""
    scheme, _, token = (header or "").strip().partition(" ")
    token = token.strip()
    type_ok = hmac.compare_digest(pass_type_id.encode(), expected_type.encode())
    member = None
    if SERIAL.match(serial):
        member = db.session.scalar(select(Member).where(Member.serial_number == serial))
    secret = member.auth_token if member is not None else _NO_TOKEN
    token_ok = hmac.compare_digest(token.encode(), secret.encode())
    if scheme != "ApplePass" or not token or not type_ok or not token_ok:
        return None
    return member


def valid_push_token(value: object) -> str | None:
    """The push token, lower-cased, if it is a hex string of a sane length."""
    if isinstance(value, str) and PUSH_TOKEN.match(value):
        return value.lower()
    return None


def register_device(library_id: str, member: Member, push_token: str) -> bool:
    """Register (or re-register) a device for a member's pass; True when it is new."""
    try:
        return _upsert(library_id, member, push_token)
    except IntegrityError:  # a concurrent registration of the same device won the race
        db.session.rollback()
        return _upsert(library_id, member, push_token)


def _upsert(library_id: str, member: Member, push_token: str) -> bool:
    """Insert or refresh the device and its registration, in one transaction."""
    now = utcnow()
    device = db.session.scalar(select(AppleDevice).where(AppleDevice.library_id == library_id))
    if device is None:
        device = AppleDevice(library_id=library_id, push_token=push_token, created_at=now)
        db.session.add(device)
    if device.push_token != push_token:
        device.push_token = push_token
    device.updated_at = now
    db.session.flush()
    reg = db.session.scalar(select(AppleRegistration).where(
        AppleRegistration.device_id == device.id, AppleRegistration.member_id == member.id))
    created = reg is None
    if reg is None:
        # The device holds the pass it registers with: nothing to push until it changes.
        reg = AppleRegistration(device_id=device.id, member_id=member.id, created_at=now,
                                pushed_version=member.pass_version,
                                fetched_version=member.pass_version, attempts=0)
        db.session.add(reg)
        card_event(member.id, member.program_id, "apple", "install", now)
    reg.registered_at = now
    db.session.commit()
    return created


def unregister_device(library_id: str, member_id: int) -> None:
    """Remove a device's registration for a pass (and the device once it has none)."""
    device_id = db.session.scalar(
        select(AppleDevice.id).where(AppleDevice.library_id == library_id))
    if device_id is not None:
        gone = db.session.execute(delete(AppleRegistration).where(
            AppleRegistration.device_id == device_id, AppleRegistration.member_id == member_id))
        program_id = db.session.scalar(select(Member.program_id).where(Member.id == member_id))
        if gone.rowcount and program_id is not None:  # type: ignore[attr-defined]
            card_event(member_id, program_id, "apple", "remove")
        remaining = db.session.scalar(select(func.count()).where(
            AppleRegistration.device_id == device_id))
        if not remaining:
            db.session.execute(delete(AppleDevice).where(AppleDevice.id == device_id))
    db.session.commit()


def parse_tag(tag: str | None) -> datetime | None:
    """The time a lastUpdated tag stands for, or None for a missing or foreign tag."""
    if not tag or not (tag.isascii() and tag.isdigit()) or len(tag) > 12:
        return None
    try:
        return datetime.fromtimestamp(int(tag), UTC)
    except (ValueError, OverflowError, OSError):
        return None


def updated_serials(library_id: str, since: datetime | None) -> tuple[list[str], str] | None:
    """Serials registered to a device (changed at or after `since`) and the next tag.

    The tag is the time of this answer less TAG_MARGIN_SECONDS, never a pass's own time:
    pass times can run ahead of the clock (a pass changed twice in one second is stamped a
    second later) and a change stamped just before this answer may commit just after it.
    The next answer therefore lists recently changed passes again (the device then gets
    304 for those it has), but never misses one.
    """
    query = (select(AppleRegistration.id, Member.serial_number, Member.pass_updated_at)
             .join(Member, Member.id == AppleRegistration.member_id)
             .join(AppleDevice, AppleDevice.id == AppleRegistration.device_id)
             .where(AppleDevice.library_id == library_id))
    if since is not None:
        query = query.where(Member.pass_updated_at >= since)
    rows = db.session.execute(query).all()
    if not rows:
        return None
    now = utcnow()
    bookkeeping(update(AppleRegistration).where(
        AppleRegistration.id.in_([r.id for r in rows])).values(listed_at=now))
    return sorted(r.serial_number for r in rows), str(int(now.timestamp()) - TAG_MARGIN_SECONDS)


def record_fetch(member_id: int, version: int) -> None:
    """Note that a device fetched (or confirmed with 304) this version of a member's pass.

    Apple's pass request does not name the device, so the fetch is credited to the devices
    that asked for updated serials since their last fetch, or else to every device of the
    pass that is known to hold an older version. Nothing is written when neither applies
    (a repeated fetch of a version every device has), and what is written goes through
    `bookkeeping`, so the pass request's own transaction stays read-only.
    """
    reg = AppleRegistration
    rows = db.session.execute(select(reg.listed_at, reg.fetched_at, reg.fetched_version)
                              .where(reg.member_id == member_id)).all()
    asked = any(listed is not None and (fetched is None or listed >= fetched)
                for listed, fetched, _ in rows)
    behind = any(held is None or held < version for _, _, held in rows)
    values = {"fetched_at": utcnow(), "fetched_version": version}
    if asked:  # the same conditions again: the write may run after other requests' writes
        bookkeeping(update(reg).where(
            reg.member_id == member_id, reg.listed_at.is_not(None),
            or_(reg.fetched_at.is_(None), reg.listed_at >= reg.fetched_at)).values(**values))
    elif behind:
        bookkeeping(update(reg).where(and_(
            reg.member_id == member_id,
            or_(reg.fetched_version.is_(None), reg.fetched_version < version))).values(**values))
