"""Members: one customer's card in one program."""

from __future__ import annotations

import secrets
import uuid
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, object_session, relationship

from app.extensions import db
from app.jobs import PASS_UPDATES, wake
from app.models.base import UTCDateTime, utcnow, utcnow_seconds
from app.models.program import Program

if TYPE_CHECKING:
    from app.models.loyalty import Tier


def new_serial() -> str:
    """A fresh, unguessable pass serial number."""
    return uuid.uuid4().hex


def new_token() -> str:
    """A random token of 32 URL-safe characters (passes require at least 16)."""
    return secrets.token_urlsafe(24)


class Member(db.Model):  # type: ignore[name-defined,misc]
    """A customer enrolled in a program, and the state of their pass."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("program_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"), index=True)
    serial_number: Mapped[str] = mapped_column(String(64), unique=True, default=new_serial)
    auth_token: Mapped[str] = mapped_column(String(64), default=new_token)
    download_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    external_id: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    points: Mapped[int] = mapped_column(Integer, default=0)
    pass_version: Mapped[int] = mapped_column(Integer, default=1)
    pass_updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow_seconds)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # loyalty (issue 3): tier held until tier_expires_at, referrals, birthday bonus
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("tiers.id"), nullable=True)
    tier_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True,
                                                             index=True)
    referral_code: Mapped[str | None] = mapped_column(String(16), nullable=True, unique=True,
                                                         index=True)
    referred_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), nullable=True)
    referral_credited_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    birthday: Mapped[date | None] = mapped_column(Date, nullable=True)
    birthday_bonus_year: Mapped[int | None] = mapped_column(Integer, nullable=True)

    program: Mapped[Program] = relationship()
    tier: Mapped[Tier | None] = relationship("Tier")

    def touch_pass(self, now: datetime | None = None) -> None:
        """Mark the pass changed: bump its version and its whole-second Last-Modified time.

        HTTP dates have one-second precision, so the new time is always at least one second
        after the previous one; otherwise a device asking If-Modified-Since could miss an
        update made within the same second.
        """
        now = (now or utcnow()).replace(microsecond=0)
        previous = self.pass_updated_at.replace(microsecond=0) if self.pass_updated_at else None
        if previous is not None and now <= previous:
            now = previous + timedelta(seconds=1)
        self.pass_version = (self.pass_version or 1) + 1
        self.pass_updated_at = now
        session = object_session(self)
        if session is not None:
            wake(session, PASS_UPDATES)


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
