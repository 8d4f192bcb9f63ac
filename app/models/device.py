"""Apple devices registered for pass updates, and the delivery state of each registration."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow
from app.models.member import Member


class AppleDevice(db.Model):  # type: ignore[name-defined,misc]
    """A device (deviceLibraryIdentifier) and the APNs push token it last registered with."""

    __tablename__ = "apple_devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    library_id: Mapped[str] = mapped_column(String(128), unique=True)
    push_token: Mapped[str] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    registrations: Mapped[list[AppleRegistration]] = relationship(
        back_populates="device", cascade="all, delete-orphan", passive_deletes=True)


class AppleRegistration(db.Model):  # type: ignore[name-defined,misc]
    """One device registered for one member's pass, and what was delivered to it.

    The update pipeline pushes this device whenever ``member.pass_version`` is newer than
    ``pushed_version``; ``next_attempt_at`` holds back a row (a claim lease while a worker
    pushes it, the coalescing window after a push, or a back-off after a failure).
    """

    __tablename__ = "apple_registrations"
    __table_args__ = (
        UniqueConstraint("device_id", "member_id"),
        Index("ix_apple_registrations_pending", "member_id", "pushed_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(
        ForeignKey("apple_devices.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    pushed_version: Mapped[int] = mapped_column(Integer, default=0)
    pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    push_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    push_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """Not indexed, so the claim and record of a push update the row in place (HOT)."""
    listed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    fetched_version: Mapped[int | None] = mapped_column(Integer, nullable=True)

    device: Mapped[AppleDevice] = relationship(back_populates="registrations")
    member: Mapped[Member] = relationship()
