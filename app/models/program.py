"""Loyalty programs (the card design) and their processed images."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow
from app.models.merchant import Merchant

if TYPE_CHECKING:
    from app.models.location import StoreLocation
    from app.models.loyalty import LoyaltyRules, Reward, Tier

BARCODE_FORMATS = ("qr", "pdf417", "aztec", "code128")


class Program(db.Model):  # type: ignore[name-defined,misc]
    """A merchant's loyalty program and the design of its card."""

    __tablename__ = "programs"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    template: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    organization_name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(500))
    logo_text: Mapped[str] = mapped_column(String(100), default="")
    background_color: Mapped[str] = mapped_column(String(7))
    foreground_color: Mapped[str] = mapped_column(String(7))
    label_color: Mapped[str] = mapped_column(String(7))
    points_label: Mapped[str] = mapped_column(String(50), default="Points")
    barcode_format: Mapped[str] = mapped_column(String(16), default="qr")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    language: Mapped[str] = mapped_column(String(16), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    back_text: Mapped[str] = mapped_column(Text, default="")
    terms: Mapped[str] = mapped_column(Text, default="")
    locations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """Deprecated: the store locations are StoreLocation rows (`store_locations`); migration
    0008 moved this field's content there and it stays empty."""
    translations: Mapped[dict[str, dict[str, str]]] = mapped_column(JSON, default=dict)
    signup_fields: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True)
    """The public signup page's fields: {name|phone|birthday|marketing_consent: required or
    optional}; e-mail is always asked; None: the default set (see app/web/signup.py)."""
    design_version: Mapped[int] = mapped_column(Integer, default=1)
    # e-mail (issue 11): {kind: false} switches a mail kind off; absent kinds are on
    mail_switches: Mapped[dict[str, bool] | None] = mapped_column(JSON, nullable=True)
    # dashboard (issue 12): the designer's unpublished draft (ProgramDesign fields, images)
    draft: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    merchant: Mapped[Merchant] = relationship()
    images: Mapped[list[ProgramImage]] = relationship(
        back_populates="program", cascade="all, delete-orphan"
    )
    store_locations: Mapped[list[StoreLocation]] = relationship(
        "StoreLocation", order_by="StoreLocation.id", cascade="all, delete-orphan")
    rules: Mapped[LoyaltyRules | None] = relationship("LoyaltyRules", uselist=False)
    tiers: Mapped[list[Tier]] = relationship("Tier", order_by="(Tier.threshold, Tier.id)",
                                             viewonly=True)
    @property
    def zone(self) -> ZoneInfo:
        """The program's time zone: the days people see (expiry, birthdays) are its days."""
        return zone_of(self.timezone)

    rewards: Mapped[list[Reward]] = relationship(
        "Reward", viewonly=True, order_by="(Reward.points_cost, Reward.id)",
        primaryjoin="and_(Program.id == Reward.program_id, Reward.active.is_(True))")


class ProgramImage(db.Model):  # type: ignore[name-defined,misc]
    """One processed image file of a program's card (e.g. logo@2x.png), made once at upload."""

    __tablename__ = "program_images"
    __table_args__ = (UniqueConstraint("program_id", "filename"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    program: Mapped[Program] = relationship(back_populates="images")


def zone_of(name: str | None) -> ZoneInfo:
    """A time zone by IANA name (UTC when unknown on this machine, never an error)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
