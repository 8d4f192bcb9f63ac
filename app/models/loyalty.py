"""The loyalty engine's data: earning rules, tiers, rewards, causes, the points ledger and
idempotency records."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow

MONEY = Numeric(12, 2)


class LoyaltyRules(db.Model):  # type: ignore[name-defined,misc]
    """A program's earning, bonus, tier, expiry and stamp settings (one row per program).

    Points for a purchase: floor/round/ceil(amount x points_per_unit x tier multiplier)
    + points_per_purchase ("round" is half-up). A stamp program (mode "stamps") counts
    stamps in the same ledger; a full card holds stamps_required stamps.
    """

    __tablename__ = "loyalty_rules"

    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"), primary_key=True)
    mode: Mapped[str] = mapped_column(String(16), default="points")
    points_per_unit: Mapped[Decimal] = mapped_column(Numeric(10, 4), default=Decimal("1"))
    rounding: Mapped[str] = mapped_column(String(8), default="floor")
    points_per_purchase: Mapped[int] = mapped_column(Integer, default=0)
    welcome_bonus: Mapped[int] = mapped_column(Integer, default=0)
    referral_bonus: Mapped[int] = mapped_column(Integer, default=0)
    birthday_bonus: Mapped[int] = mapped_column(Integer, default=0)
    expiry_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    expiring_soon_days: Mapped[int] = mapped_column(Integer, default=30)
    tier_basis: Mapped[str] = mapped_column(String(8), default="points")
    tier_window_months: Mapped[int | None] = mapped_column(Integer, nullable=True)
    stamps_required: Mapped[int] = mapped_column(Integer, default=10)
    point_value: Mapped[Decimal | None] = mapped_column(Numeric(12, 4), nullable=True)
    """What one point is worth in the program's currency (analytics: the liability)."""
    earn_cooldown_minutes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Staff scanner: at most one earn per member within this many minutes (0: no limit)."""
    earns_per_day: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Staff scanner: at most this many earns per member per day, in the program's time
    zone (0: no limit)."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Tier(db.Model):  # type: ignore[name-defined,misc]
    """A tier of a program, reached at `threshold` qualifying points (or currency spent)."""

    __tablename__ = "tiers"
    __table_args__ = (UniqueConstraint("program_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    threshold: Mapped[Decimal] = mapped_column(MONEY)
    multiplier: Mapped[Decimal] = mapped_column(Numeric(6, 3), default=Decimal("1"))
    perks: Mapped[str] = mapped_column(Text, default="")
    background_color: Mapped[str | None] = mapped_column(String(7), nullable=True)
    foreground_color: Mapped[str | None] = mapped_column(String(7), nullable=True)
    label_color: Mapped[str | None] = mapped_column(String(7), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Reward(db.Model):  # type: ignore[name-defined,misc]
    """A catalog reward priced in points: a free item, an amount off or a percent off."""

    __tablename__ = "rewards"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[Decimal | None] = mapped_column(MONEY, nullable=True)
    points_cost: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Cause(db.Model):  # type: ignore[name-defined,misc]
    """A cause members can donate points to."""

    __tablename__ = "causes"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LedgerEntry(db.Model):  # type: ignore[name-defined,misc]
    """One append-only change of a member's points; the balance is the sum of `points`.

    Credits are lots: `remaining` is what is left of them after debits took points oldest
    expiry first, and `expires_at` is when that remainder expires. The void of a debit is
    the exception: it puts the points back into the lots they came from and is no lot
    itself (remaining 0, no expiry). The only column ever updated after insert is
    `remaining`.
    """

    __tablename__ = "ledger_entries"
    __table_args__ = (
        Index("ix_ledger_entries_member_created", "member_id", "created_at"),
        Index("ix_ledger_entries_open_lots", "member_id", "remaining"),
        Index("ix_ledger_entries_created_member", "created_at", "member_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(24))
    points: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal | None] = mapped_column(MONEY, nullable=True)
    qualifying_points: Mapped[int] = mapped_column(Integer, default=0)
    qualifying_amount: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    remaining: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True,
                                                        index=True)
    reason: Mapped[str] = mapped_column(String(500), default="")
    source: Mapped[str] = mapped_column(String(16), default="api")
    actor: Mapped[str] = mapped_column(String(200), default="")
    reward_id: Mapped[int | None] = mapped_column(ForeignKey("rewards.id"), nullable=True)
    cause_id: Mapped[int | None] = mapped_column(ForeignKey("causes.id"), nullable=True,
                                                 index=True)
    voids_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_entries.id"), nullable=True, unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    reward: Mapped[Reward | None] = relationship()


class IdempotencyRecord(db.Model):  # type: ignore[name-defined,misc]
    """The first answer to a write sent with an Idempotency-Key, replayed for repeats."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("merchant_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer, default=0)
    response: Mapped[Any] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
