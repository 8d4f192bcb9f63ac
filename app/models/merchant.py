"""Merchants and their API keys."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow

KEY_PREFIX = "wp_"


class Merchant(db.Model):  # type: ignore[name-defined,misc]
    """A business that runs loyalty programs."""

    __tablename__ = "merchants"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    api_keys: Mapped[list[ApiKey]] = relationship(back_populates="merchant")


class ApiKey(db.Model):  # type: ignore[name-defined,misc]
    """An API key; only its SHA-256 is stored, the key itself is shown once."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    merchant: Mapped[Merchant] = relationship(back_populates="api_keys")

    @staticmethod
    def hash_key(key: str) -> str:
        """SHA-256 hex of an API key (keys are 256-bit random, so a fast hash is enough)."""
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, merchant: Merchant) -> tuple[ApiKey, str]:
        """Create a new key for a merchant; returns the row and the plain key (shown once)."""
        plain = KEY_PREFIX + secrets.token_urlsafe(32)
        row = cls(merchant=merchant, key_hash=cls.hash_key(plain), hint=plain[:7])
        return row, plain
