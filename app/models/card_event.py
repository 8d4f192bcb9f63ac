"""Wallet card installs and removals, kept as a log (a registration row goes on unregister)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime, utcnow

WALLETS = ("apple", "google")
EVENTS = ("install", "remove")


class CardEvent(db.Model):  # type: ignore[name-defined,misc]
    """A member's card added to (install) or taken out of (remove) a wallet, and when.

    Apple: a device registered for the pass, or unregistered (the registration row itself is
    deleted then, so this log is what remembers it). Google: a save or del callback.
    """

    __tablename__ = "card_events"
    __table_args__ = (Index("ix_card_events_program_created", "program_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"),
                                           index=True)
    wallet: Mapped[str] = mapped_column(String(8))
    event: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def card_event(member_id: int, program_id: int, wallet: str, event: str,
               at: datetime | None = None) -> None:
    """Log an install or removal in the current transaction (the caller commits)."""
    db.session.add(CardEvent(member_id=member_id, program_id=program_id, wallet=wallet,
                             event=event, created_at=at or utcnow()))
