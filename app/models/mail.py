"""E-mail: one row per mail to send, the per-merchant suppression list, shared rate limits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow
from app.models.member import Member


class MailDelivery(db.Model):  # type: ignore[name-defined,misc]
    """One mail of one kind to one member for one event (unique: never sent twice).

    kind: welcome, reward_available, tier_near, points_expiring. event_key names the event
    the mail is about (the enrollment, an outbox event id, an expiry day...). status:
    pending (due at next_attempt_at, which is also the claim lease while sending), sent,
    suppressed (the address is on the merchant's suppression list), bounced (the server
    refused the address for good; it is now suppressed), failed (gave up), skipped (the
    member has no address any more). params holds the facts the mail tells (points, date,
    reward...), fixed when the event happened; the text is rendered when it is sent.
    """

    __tablename__ = "mail_deliveries"
    __table_args__ = (UniqueConstraint("member_id", "kind", "event_key"),
                      Index("ix_mail_deliveries_due", "status", "next_attempt_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"),
                                           index=True)
    kind: Mapped[str] = mapped_column(String(32))
    event_key: Mapped[str] = mapped_column(String(100))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    member: Mapped[Member] = relationship()


class MailSuppression(db.Model):  # type: ignore[name-defined,misc]
    """An address of a merchant's that gets no mail: hard bounce, unsubscribe or manual."""

    __tablename__ = "mail_suppressions"
    __table_args__ = (UniqueConstraint("merchant_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"),
                                             index=True)
    email: Mapped[str] = mapped_column(String(320))
    reason: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RateLimit(db.Model):  # type: ignore[name-defined,misc]
    """A rate shared by every process: the next free send slot of a named limit."""

    __tablename__ = "rate_limits"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    next_slot_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
