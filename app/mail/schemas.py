"""The shapes of the mail API: suppressed addresses, a program's mail switches, a
member's mails."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from app.validation import EMAIL_ADDRESS, FLAG, OMIT, Input, one_of, text

REASONS = ("bounce", "unsubscribe", "manual")
STATUSES = Literal["pending", "sent", "suppressed", "bounced", "failed", "skipped"]


class SuppressionCreate(Input):
    """An address to mail no more (reason 'manual' unless given)."""

    email: Annotated[str, EMAIL_ADDRESS]
    reason: Annotated[str, one_of(*REASONS)] = "manual"
    detail: Annotated[str, text(200, required=False)] = ""


class Suppression(BaseModel):
    """A suppressed address."""

    email: str
    reason: Literal["bounce", "unsubscribe", "manual"] = Field(
        description="bounce: the server refused the address for good; unsubscribe: the "
                    "member used a mail's unsubscribe link; manual: added through this API.")
    detail: str
    created_at: datetime


class SuppressionList(BaseModel):
    """A page of suppressed addresses and how many there are in all."""

    suppressions: list[Suppression]
    total: int


class SuppressionDeleted(BaseModel):
    """The address taken off the list."""

    email: str
    deleted: bool


class MailSettings(Input):
    """Which mails a program sends: every kind is on unless switched off."""

    welcome: Annotated[bool, FLAG] = OMIT
    reward_available: Annotated[bool, FLAG] = OMIT
    tier_near: Annotated[bool, FLAG] = OMIT
    """Close to the next tier."""
    points_expiring: Annotated[bool, FLAG] = OMIT


class MailSwitches(BaseModel):
    """Which mails a program sends."""

    welcome: bool
    reward_available: bool
    tier_near: bool
    points_expiring: bool


class Mail(BaseModel):
    """One mail to a member and its state."""

    id: int
    kind: Literal["welcome", "reward_available", "tier_near", "points_expiring"]
    event_key: str
    status: STATUSES
    attempts: int
    last_error: str | None = Field(
        description="A short category such as 'connection refused', 'timeout', "
                    "'deferred (451)' or 'recipient refused (550)'.")
    next_attempt_at: datetime
    created_at: datetime
    sent_at: datetime | None


class MailList(BaseModel):
    """A member's mails, newest first."""

    mails: list[Mail]


