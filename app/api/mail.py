"""Mail routes: the suppression list, each program's mail switches, a member's mails."""

from __future__ import annotations

from typing import Any

from flask import g, request

from app import validation as v
from app.api import bp
from app.api.contract import operation
from app.api.idempotency import write
from app.extensions import db
from app.mail import schemas as s
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
@operation("List suppressed addresses", response=s.SuppressionList, query=(
    {"name": "email", "in": "query", "required": False,
     "schema": {"type": "string", "maxLength": 320}},
    {"name": "limit", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}},
    {"name": "offset", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 0, "maximum": 10**9, "default": 0}}))
def list_suppressions():  # type: ignore[no-untyped-def]
    """List the merchant's suppressed addresses (?email= to look one up; limit, offset)."""
    limit = v.whole_number(request.args.get("limit"), "limit", 100, 1, 1000)
    offset = v.whole_number(request.args.get("offset"), "offset", 0, 0, 10**9)
    rows, total = ops.list_suppressions(g.merchant, limit, offset, request.args.get("email"))
    return {"suppressions": [suppression_json(r) for r in rows], "total": total}


@bp.post("/suppressions")
@write
@operation("Suppress an address", body=s.SuppressionCreate, response=s.Suppression,
           status=201)
def add_suppression(body: s.SuppressionCreate) -> Answer:
    """Put an address on the suppression list (it gets no more mail)."""
    return suppression_json(ops.add_suppression(g.merchant, body)), 201


@bp.delete("/suppressions/<email>")
@write
@operation("Remove a suppressed address", response=s.SuppressionDeleted,
           path={"email": {"type": "string", "maxLength": 320}})
def remove_suppression(email: str) -> Answer:
    """Take an address off the suppression list."""
    ops.remove_suppression(g.merchant, email)
    return {"email": email.lower(), "deleted": True}, 200


@bp.get("/programs/<int:program_id>/mail-settings")
@operation("Which mails a program sends", response=s.MailSwitches)
def show_mail_settings(program_id: int):  # type: ignore[no-untyped-def]
    """Which mails the program sends."""
    return switches(get_program(g.merchant, program_id))


@bp.patch("/programs/<int:program_id>/mail-settings")
@write
@operation("Switch mails on or off", body=s.MailSettings, response=s.MailSwitches)
def update_mail_settings(program_id: int, body: s.MailSettings) -> Answer:
    """Switch mail kinds on or off for a program."""
    program = get_program(g.merchant, program_id)
    program.mail_switches = {**(program.mail_switches or {}), **body.given()}
    db.session.flush()
    return switches(program), 200


@bp.get("/members/<int:member_id>/mails")
@operation("A member's mails, newest first", response=s.MailList)
def list_member_mails(member_id: int):  # type: ignore[no-untyped-def]
    """The mails queued or sent to a member, newest first."""
    member = get_member(g.merchant, member_id)
    rows = db.session.scalars(db.select(MailDelivery).where(MailDelivery.member_id == member.id)
                              .order_by(MailDelivery.id.desc()).limit(100))
    return {"mails": [mail_json(r) for r in rows]}
