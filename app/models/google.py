"""Google Wallet delivery state: per program class and per member object."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class GoogleClass(db.Model):  # type: ignore[name-defined,misc]
    """A program's LoyaltyClass at Google: whether it exists and which design it shows.

    The Google channel PATCHes (or inserts) the class whenever ``program.design_version``
    is newer than ``delivered_design``; ``next_attempt_at`` is the claim lease or back-off.
    """

    __tablename__ = "google_classes"

    program_id: Mapped[int] = mapped_column(
        ForeignKey("programs.id", ondelete="CASCADE"), primary_key=True)
    inserted: Mapped[bool] = mapped_column(Boolean, default=False)
    delivered_design: Mapped[int] = mapped_column(Integer, default=0)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class GoogleObject(db.Model):  # type: ignore[name-defined,misc]
    """A member's LoyaltyObject at Google: whether it exists, what it last showed, saves.

    Made for every member while Google Wallet is on. The channel sends the object when
    ``member.pass_version`` is newer than ``delivered_version``, and skips the call when the
    object body is unchanged (``body_hash``): a design change is one class PATCH, not one
    PATCH per member.
    """

    __tablename__ = "google_objects"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), unique=True)
    inserted: Mapped[bool] = mapped_column(Boolean, default=False)
    delivered_version: Mapped[int] = mapped_column(Integer, default=0)
    body_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    design_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The program's object design key (``object_design_key``) the last delivered body
    was built with: a design change that keeps that key leaves the body as it was."""
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True,
                                                             index=True)
    milestones: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    """Tier, reward and expiring values last delivered (a change is a milestone message)."""
    notified_at: Mapped[list[str]] = mapped_column(JSON, default=list)
    """When milestone messages notified in the last 24 hours (Google allows 3)."""
    messages: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """The messages on the object at Google, oldest first (Google keeps at most 10)."""
    saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class GoogleCallback(db.Model):  # type: ignore[name-defined,misc]
    """A verified save or delete callback, kept by nonce (Google repeats deliveries)."""

    __tablename__ = "google_callbacks"

    nonce: Mapped[str] = mapped_column(String(200), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(8))
    object_id: Mapped[str] = mapped_column(String(300))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class GoogleQuota(db.Model):  # type: ignore[name-defined,misc]
    """The deployment-wide Google API pace: the time (epoch seconds) of the next free slot.

    Every process reserves its calls here before making them, so Google's rate limit holds
    across all web and worker processes.
    """

    __tablename__ = "google_quota"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    next_at: Mapped[float] = mapped_column(Float, default=0.0)
