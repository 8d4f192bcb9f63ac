"""Delivery state routes: a member's wallet devices, and a program's stale members."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from flask import current_app, g, request

from app.api import bp
from app.api.contract import operation
from app.api.schemas import MemberDevices, StaleMembers
from app.members.operations import get_member
from app.models import AppleDevice, AppleRegistration
from app.programs.operations import get_program
from app.updates import delivery
from app.validation import whole_number
from app.wallet.google.saves import google_card, stale_google_objects


def _iso(value: Any) -> str | None:
    """An ISO 8601 timestamp, or None."""
    return value.isoformat() if value is not None else None


def device_alias(library_id: str) -> str:
    """A stable name for a device, different per merchant, that is not Apple's identifier.

    The deviceLibraryIdentifier is shared by every pass on a phone; showing it would let one
    merchant find another merchant's serial numbers on the same device.
    """
    return _per_merchant(library_id)[:16]


def push_token_hint(push_token: str) -> str:
    """A short per-merchant fingerprint of a push token: it shows when the token changes.

    The token's own characters are the same for every pass on the phone, so showing them
    would let two merchants see they share a customer's device.
    """
    return _per_merchant(push_token, purpose="push-token")[:8]


def _per_merchant(value: str, purpose: str = "") -> str:
    """HMAC-SHA256 of a value under a key made of the app secret, this merchant and a purpose."""
    key = f"{current_app.config['SECRET_KEY']}:{g.merchant.id}".encode()
    if purpose:
        key += f":{purpose}".encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def device_json(reg: AppleRegistration, device: AppleDevice, version: int) -> dict[str, Any]:
    """One registered device and what was delivered to it (the push token is not shown)."""
    return {
        "id": reg.id, "channel": "apple", "wallet": "apple",
        "device": device_alias(device.library_id),
        "push_token_hint": push_token_hint(device.push_token),
        "registered_at": _iso(reg.created_at), "last_registered_at": _iso(reg.registered_at),
        "pushed_version": reg.pushed_version, "pushed_at": _iso(reg.pushed_at),
        "push_status": reg.push_status, "push_reason": reg.push_reason,
        "push_attempts": reg.attempts, "next_attempt_at": _iso(reg.next_attempt_at),
        "fetched_at": _iso(reg.fetched_at), "fetched_version": reg.fetched_version,
        "up_to_date": (reg.fetched_version or 0) >= version,
    }


@bp.get("/members/<int:member_id>/devices")
@operation("A member's wallet devices and delivery state", response=MemberDevices)
def member_devices(member_id: int):  # type: ignore[no-untyped-def]
    """The member's wallet devices and the delivery state of each."""
    member = get_member(g.merchant, member_id)
    rows = delivery.member_devices(member)
    return {"member_id": member.id, "pass_version": member.pass_version,
            "pass_updated_at": member.pass_updated_at.isoformat(),
            "devices": [device_json(reg, dev, member.pass_version) for reg, dev in rows],
            "google": google_card(member)}


@bp.get("/programs/<int:program_id>/stale-members")
@operation("Members whose devices have not fetched the latest pass", response=StaleMembers,
           query=(
               {"name": "minutes", "in": "query", "required": False,
                "schema": {"type": "integer", "minimum": 1,
                           "maximum": delivery.MAX_STALE_MINUTES},
                "description": "How long after a change a device may take to fetch it "
                               "(default: WALLETPASS_STALE_MINUTES)."},
               {"name": "limit", "in": "query", "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": delivery.MAX_LIMIT,
                           "default": 100}}))
def stale_members(program_id: int):  # type: ignore[no-untyped-def]
    """Members whose devices have not fetched the latest pass within N minutes of the change."""
    program = get_program(g.merchant, program_id)
    default = current_app.config["SETTINGS"].STALE_MINUTES
    minutes = whole_number(request.args.get("minutes"), "minutes", default, 1,
                                 delivery.MAX_STALE_MINUTES)
    limit = whole_number(request.args.get("limit"), "limit", 100, 1, delivery.MAX_LIMIT)
    members = sorted(delivery.stale_members(program, minutes, limit)
                     + stale_google_objects(program.id, minutes, limit),
                     key=lambda m: (m["pass_updated_at"], m["id"], m["channel"]))[:limit]
    return {"program_id": program.id, "minutes": minutes, "members": members}
