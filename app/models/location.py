"""Store locations of a program: where its card surfaces on the lock screen, where its
posters hang, and where signups are counted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class StoreLocation(db.Model):  # type: ignore[name-defined,misc]
    """One shop of a program: name, address, coordinates and its time zone."""

    __tablename__ = "store_locations"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"),
                                            index=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(500), default="")
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    relevant_text: Mapped[str] = mapped_column(String(200), default="")
    """The lock-screen text Apple shows near the shop."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SignupAttempt(db.Model):  # type: ignore[name-defined,misc]
    """One post of a public signup form, kept a short while to rate-limit floods per IP."""

    __tablename__ = "signup_attempts"
    __table_args__ = (Index("ix_signup_attempts_client", "program_id", "client", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    client: Mapped[str] = mapped_column(String(64))
    """The client's IP address (as the proxy in front reports it)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
