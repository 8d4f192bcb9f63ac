"""Members: one customer's card in one program."""

from __future__ import annotations

import secrets
import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.expression import false as sa_false

from app.extensions import db
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
    """A customer enrolled in a program, and the state of their pass.

    A change to what the pass shows goes through app.updates.changes.touch_pass (or
    bump_passes), which bumps pass_version and wakes the update pipeline.
    """

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("program_id", "email"),
                      Index("ix_members_program_created", "program_id", "created_at"),
                      Index("ix_members_program_id_id", "program_id", "id"),
                      Index("ix_members_program_tier", "program_id", "tier_id"),
                      Index("ix_members_program_name", "program_id", "name"))
    """(program_id, created_at): signups per day; (program_id, id): a program's member list,
    page after page, in id order; (program_id, tier_id): members per tier; (program_id,
    name): the dashboard's search by name."""

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
    # distribution (issues 10, 11): how the member came, and how to reach them
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """E.164 form, e.g. +66812345678."""
    source: Mapped[str] = mapped_column(String(16), default="api", server_default="api")
    """How the member enrolled: api, link, poster, import or dashboard."""
    location_id: Mapped[int | None] = mapped_column(
        ForeignKey("store_locations.id", ondelete="SET NULL"), nullable=True, index=True)
    """The store location of the poster the member signed up from, if any."""
    marketing_consent: Mapped[bool] = mapped_column(Boolean, default=False,
                                                    server_default=sa_false())
    import_id: Mapped[int | None] = mapped_column(
        ForeignKey("member_imports.id", ondelete="SET NULL"), nullable=True, index=True)
    """The e-mail list import that enrolled the member, if one did (its welcome mails are
    counted by it)."""
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """When staff voided the card (lost, abused): no more earning or redeeming, and its
    card page and pass download answer 404."""

    program: Mapped[Program] = relationship()
    tier: Mapped[Tier | None] = relationship("Tier")


class ConsentRecord(db.Model):  # type: ignore[name-defined,misc]
    """What a member agreed to, exactly as shown: the text, its language, when and where.

    PDPA (Thailand, Malaysia) and Vietnam's Decree 13 ask a merchant to show the consent a
    customer gave; an import records the basis the merchant stated for the whole list.
    """

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"),
                                           index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    """marketing (mails beyond the card itself), or terms."""
    granted: Mapped[bool] = mapped_column(Boolean)
    text: Mapped[str] = mapped_column(Text)
    """The exact sentence shown (or, for an import, the basis the merchant stated)."""
    language: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    """api, link, poster, import or dashboard."""
    location_id: Mapped[int | None] = mapped_column(
        ForeignKey("store_locations.id", ondelete="SET NULL"), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
