"""Answer shapes of the API that belong to no feature: errors, deletions, delivery state."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    """What went wrong: a stable code, a sentence for people, and details for programs."""

    code: str
    message: str
    details: dict[str, Any] | None = Field(default=None, description=(
        "For validation errors: {'fields': [{'field', 'message'}]}"))


class Error(BaseModel):
    """The shape of every error answer."""

    error: ErrorBody


class Deleted(BaseModel):
    """What was deleted."""

    id: int
    deleted: bool


class StampResult(BaseModel):
    """The stamp artwork was stored."""

    kind: str
    design_version: int


class Device(BaseModel):
    """One registered device and what was delivered to it (the push token is not shown)."""

    id: int
    channel: Literal["apple"] = Field(description="The update channel that delivers to "
                                                  "this device.")
    wallet: Literal["apple"] = Field(description="Same as channel (kept for clients written "
                                                 "before channels).")
    device: str = Field(description="A per-merchant alias of the device")
    push_token_hint: str = Field(description="A per-merchant fingerprint of the push token "
                                             "(it changes when the token does).")
    registered_at: datetime | None
    last_registered_at: datetime | None
    pushed_version: int
    pushed_at: datetime | None
    push_status: int | None = Field(description="APNs HTTP status of the last push; 0 when "
                                                "APNs could not be reached.")
    push_reason: str | None
    push_attempts: int
    next_attempt_at: datetime | None
    fetched_at: datetime | None
    fetched_version: int | None = Field(description="Newest pass version the device is known "
                                                    "to hold (at registration, or fetched).")
    up_to_date: bool


class GoogleCard(BaseModel):
    """The member's Google Wallet object: what was delivered, and whether it is saved."""

    wallet: Literal["google"]
    inserted: bool = Field(description="Whether the object exists at Google.")
    delivered_version: int
    delivered_at: datetime | None
    status: int | None = Field(description="HTTP status of Google's last answer.")
    reason: str | None
    attempts: int
    next_attempt_at: datetime | None
    saved_at: datetime | None = Field(description="When the customer saved the card (from "
                                                   "Google's callback).")
    removed_at: datetime | None = Field(description="When the customer removed it.")
    up_to_date: bool


class MemberDevices(BaseModel):
    """A member's wallet devices and the delivery state of each (Apple devices, and the
    Google Wallet object when Google is configured)."""

    member_id: int
    pass_version: int
    pass_updated_at: datetime
    devices: list[Device]
    google: GoogleCard | None = None


class StaleMember(BaseModel):
    """A member some of whose devices have not fetched the latest pass."""

    id: int
    serial_number: str
    channel: Literal["apple", "google"] = Field(
        description="The update channel whose devices are behind (one entry per member and "
                    "channel).")
    pass_version: int
    pass_updated_at: datetime
    stale_devices: int
    last_pushed_at: datetime | None


class StaleMembers(BaseModel):
    """Members whose devices have not fetched the latest pass within `minutes`."""

    program_id: int
    minutes: int
    members: list[StaleMember]
