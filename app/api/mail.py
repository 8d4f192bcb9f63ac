"""Mail routes: the suppression list, each program's mail switches, a member's mails."""

from __future__ import annotations

from typing import Any

from flask import g, request

from app import validation as v
from app.api import bp, json_body
from app.api.idempotency import write
from app.api.openapi import errors, id_param, json_content, ok, ref
from app.errors import ValidationError
from app.extensions import db
from app.mail import KINDS
from app.mail import suppressions as ops
from app.mail.channel import switches
from app.members.operations import get_member
from app.models import MailDelivery, MailSuppression
from app.programs.operations import get_program

Answer = tuple[dict[str, Any], int]


def suppression_json(row: MailSuppression) -> dict[str, Any]:
    """A suppressed address as JSON."""
    return {"email": row.email, "reason": row.reason, "detail": row.detail,
            "created_at": row.created_at.isoformat()}


def mail_json(row: MailDelivery) -> dict[str, Any]:
    """One mail to a member and its state, as JSON."""
    return {"id": row.id, "kind": row.kind, "event_key": row.event_key, "status": row.status,
            "attempts": row.attempts, "last_error": row.last_error,
            "next_attempt_at": row.next_attempt_at.isoformat(),
            "created_at": row.created_at.isoformat(),
            "sent_at": row.sent_at.isoformat() if row.sent_at else None}


@bp.get("/suppressions")
def list_suppressions():  # type: ignore[no-untyped-def]
    """List the merchant's suppressed addresses (?email= to look one up; limit, offset)."""
    limit = v.whole_number(request.args.get("limit"), "limit", 100, 1, 1000)
    offset = v.whole_number(request.args.get("offset"), "offset", 0, 0, 10**9)
    rows, total = ops.list_suppressions(g.merchant, limit, offset, request.args.get("email"))
    return {"suppressions": [suppression_json(r) for r in rows], "total": total}


@bp.post("/suppressions")
@write
def add_suppression() -> Answer:
    """Put an address on the suppression list (it gets no more mail)."""
    return suppression_json(ops.add_suppression(g.merchant, json_body())), 201


@bp.delete("/suppressions/<email>")
@write
def remove_suppression(email: str) -> Answer:
    """Take an address off the suppression list."""
    ops.remove_suppression(g.merchant, email)
    return {"email": email.lower(), "deleted": True}, 200


@bp.get("/programs/<int:program_id>/mail-settings")
def show_mail_settings(program_id: int):  # type: ignore[no-untyped-def]
    """Which mails the program sends."""
    return switches(get_program(g.merchant, program_id))


@bp.patch("/programs/<int:program_id>/mail-settings")
@write
def update_mail_settings(program_id: int) -> Answer:
    """Switch mail kinds on or off for a program."""
    program = get_program(g.merchant, program_id)
    body = json_body()
    for kind, on in body.items():
        if kind not in KINDS or not isinstance(on, bool):
            raise ValidationError(f"'{kind}' must be one of {', '.join(KINDS)}, set to true "
                                  "or false.")
    program.mail_switches = {**(program.mail_switches or {}), **body}
    db.session.flush()
    return switches(program), 200


@bp.get("/members/<int:member_id>/mails")
def list_member_mails(member_id: int):  # type: ignore[no-untyped-def]
    """The mails queued or sent to a member, newest first."""
    member = get_member(g.merchant, member_id)
    rows = db.session.scalars(db.select(MailDelivery).where(MailDelivery.member_id == member.id)
                              .order_by(MailDelivery.id.desc()).limit(100))
    return {"mails": [mail_json(r) for r in rows]}


_SWITCHES = {"type": "object", "additionalProperties": False,
             "properties": {k: {"type": "boolean"} for k in KINDS}}
OPENAPI_SCHEMAS = {
    "SuppressionCreate": {"type": "object", "additionalProperties": False,
                          "required": ["email"],
                          "properties": {"email": {"type": "string", "format": "email"},
                                         "reason": {"type": "string",
                                                    "enum": list(ops.REASONS)},
                                         "detail": {"type": "string", "maxLength": 200}}},
    "Suppression": {"type": "object", "properties": {
        "email": {"type": "string"},
        "reason": {"type": "string", "enum": list(ops.REASONS),
                   "description": "bounce: the server refused the address for good; "
                                  "unsubscribe: the member used a mail's unsubscribe link; "
                                  "manual: added through this API."},
        "detail": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"}}},
    "MailSettings": {**_SWITCHES, "description": "Every kind of mail is on unless switched "
                     "off: welcome, reward_available, tier_near (close to the next tier), "
                     "points_expiring."},
    "Mail": {"type": "object", "properties": {
        "id": {"type": "integer"}, "kind": {"type": "string", "enum": list(KINDS)},
        "event_key": {"type": "string"},
        "status": {"type": "string", "enum": ["pending", "sent", "suppressed", "bounced",
                                              "failed", "skipped"]},
        "attempts": {"type": "integer"},
        "last_error": {"type": "string", "description": "A short category such as "
                       "'connection refused', 'timeout', 'deferred (451)' or "
                       "'recipient refused (550)'."},
        "next_attempt_at": {"type": "string", "format": "date-time"},
        "created_at": {"type": "string", "format": "date-time"},
        "sent_at": {"type": "string", "format": "date-time", "nullable": True}}},
}
_EMAIL = {"name": "email", "in": "path", "required": True,
          "schema": {"type": "string", "format": "email"}}
OPENAPI_PATHS = {
    "/suppressions": {
        "get": {"summary": "List suppressed addresses", "operationId": "listSuppressions",
                "parameters": [
                    {"name": "email", "in": "query", "schema": {"type": "string"}},
                    {"name": "limit", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
                    {"name": "offset", "in": "query", "schema": {"type": "integer",
                                                                 "minimum": 0}}],
                "responses": {"200": ok("Suppressed addresses", {"type": "object", "properties": {
                    "suppressions": {"type": "array", "items": ref("Suppression")},
                    "total": {"type": "integer"}}}), **errors(401, 422)}},
        "post": {"summary": "Suppress an address", "operationId": "addSuppression",
                 "requestBody": {"required": True, "content": json_content(
                     ref("SuppressionCreate"))},
                 "responses": {"201": ok("Suppressed", ref("Suppression")),
                               **errors(400, 401, 413, 415, 422)}},
    },
    "/suppressions/{email}": {
        "parameters": [_EMAIL],
        "delete": {"summary": "Remove a suppressed address", "operationId": "removeSuppression",
                   "responses": {"200": ok("Removed", {"type": "object", "properties": {
                       "email": {"type": "string"}, "deleted": {"type": "boolean"}}}),
                       **errors(401, 404)}},
    },
    "/programs/{program_id}/mail-settings": {
        "parameters": [id_param("program_id")],
        "get": {"summary": "Which mails a program sends", "operationId": "getMailSettings",
                "responses": {"200": ok("Mail settings", ref("MailSettings")),
                              **errors(401, 404)}},
        "patch": {"summary": "Switch mails on or off", "operationId": "updateMailSettings",
                  "requestBody": {"required": True, "content": json_content(
                      ref("MailSettings"))},
                  "responses": {"200": ok("Mail settings", ref("MailSettings")),
                                **errors(400, 401, 404, 415, 422)}},
    },
    "/members/{member_id}/mails": {
        "parameters": [id_param("member_id")],
        "get": {"summary": "A member's mails", "operationId": "listMemberMails",
                "responses": {"200": ok("Mails", {"type": "object", "properties": {
                    "mails": {"type": "array", "items": ref("Mail")}}}), **errors(401, 404)}},
    },
}
