"""Delivery state routes: a member's wallet devices, and a program's stale members."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from flask import current_app, g, request

from app.api import bp
from app.api.openapi import errors, id_param, ok, ref
from app.members.operations import get_member
from app.models import AppleDevice, AppleRegistration
from app.programs.operations import get_program
from app.updates import delivery
from app.validation import whole_number


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
def member_devices(member_id: int):  # type: ignore[no-untyped-def]
    """The member's wallet devices and the delivery state of each."""
    member = get_member(g.merchant, member_id)
    rows = delivery.member_devices(member)
    return {"member_id": member.id, "pass_version": member.pass_version,
            "pass_updated_at": member.pass_updated_at.isoformat(),
            "devices": [device_json(reg, dev, member.pass_version) for reg, dev in rows]}


@bp.get("/programs/<int:program_id>/stale-members")
def stale_members(program_id: int):  # type: ignore[no-untyped-def]
    """Members whose devices have not fetched the latest pass within N minutes of the change."""
    program = get_program(g.merchant, program_id)
    default = current_app.config["SETTINGS"].STALE_MINUTES
    minutes = whole_number(request.args.get("minutes"), "minutes", default, 1,
                                 delivery.MAX_STALE_MINUTES)
    limit = whole_number(request.args.get("limit"), "limit", 100, 1, delivery.MAX_LIMIT)
    members = delivery.stale_members(program, minutes, limit)
    return {"program_id": program.id, "minutes": minutes, "members": members}


_TS = {"type": "string", "format": "date-time", "nullable": True}
_INT = {"type": "integer", "nullable": True}
OPENAPI_SCHEMAS = {
    "Device": {"type": "object", "properties": {
        "id": {"type": "integer"},
        "channel": {"type": "string", "description": "The update channel that delivers "
                                                     "to this device, e.g. apple."},
        "wallet": {"type": "string", "description": "Same as channel (kept for clients "
                                                    "written before channels)."},
        "device": {"type": "string", "description": "A per-merchant alias of the device"},
        "push_token_hint": {"type": "string", "description": "A per-merchant fingerprint of "
                            "the push token (it changes when the token does)."},
        "registered_at": _TS, "last_registered_at": _TS,
        "pushed_version": {"type": "integer"}, "pushed_at": _TS,
        "push_status": {**_INT, "description": "APNs HTTP status of the last push; 0 when "
                                               "APNs could not be reached."},
        "push_reason": {"type": "string", "nullable": True},
        "push_attempts": {"type": "integer"}, "next_attempt_at": _TS,
        "fetched_at": _TS,
        "fetched_version": {**_INT, "description": "Newest pass version the device is known "
                                                   "to hold (at registration, or fetched)."},
        "up_to_date": {"type": "boolean"}}},
    "MemberDevices": {"type": "object", "properties": {
        "member_id": {"type": "integer"}, "pass_version": {"type": "integer"},
        "pass_updated_at": {"type": "string", "format": "date-time"},
        "devices": {"type": "array", "items": ref("Device")}}},
    "StaleMembers": {"type": "object", "properties": {
        "program_id": {"type": "integer"}, "minutes": {"type": "integer"},
        "members": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "integer"}, "serial_number": {"type": "string"},
            "channel": {"type": "string", "description": "The update channel whose devices "
                                                         "are behind (one entry per member "
                                                         "and channel)."},
            "pass_version": {"type": "integer"},
            "pass_updated_at": {"type": "string", "format": "date-time"},
            "stale_devices": {"type": "integer"}, "last_pushed_at": _TS}}}}},
}
OPENAPI_PATHS = {
    "/members/{member_id}/devices": {
        "parameters": [id_param("member_id")],
        "get": {"summary": "A member's wallet devices and delivery state",
                "operationId": "getMemberDevices",
                "responses": {"200": ok("Devices", ref("MemberDevices")), **errors(401, 404)}},
    },
    "/programs/{program_id}/stale-members": {
        "parameters": [id_param("program_id")],
        "get": {"summary": "Members whose devices have not fetched the latest pass",
                "operationId": "listStaleMembers",
                "parameters": [
                    {"name": "minutes", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": 43200},
                     "description": "How long after a change a device may take to fetch it "
                                    "(default: WALLETPASS_STALE_MINUTES)."},
                    {"name": "limit", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": 1000,
                                "default": 100}}],
                "responses": {"200": ok("Stale members", ref("StaleMembers")),
                              **errors(401, 404, 422)}},
    },
}
