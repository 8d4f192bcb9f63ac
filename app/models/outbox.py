"""The outbox: every outbound event, written in the transaction of the change it reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class OutboxEvent(db.Model):  # type: ignore[name-defined,misc]
    """One event (points.changed, member.enrolled...) to hand to the outbound channels.

    relayed_at is empty until the relay has given the event to every channel (webhooks,
    e-mail), each of which then keeps its own deliveries, attempts and back-off.
    """

    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_events_pending", "relayed_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"),
                                             index=True)
    member_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    relayed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
