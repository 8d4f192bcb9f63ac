"""Store locations of a program: where its card surfaces on the lock screen, where its
posters hang, and where signups are counted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, String
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
