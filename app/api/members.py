"""Member routes."""

from __future__ import annotations

from flask import g

from app.api import bp
from app.api.contract import operation
from app.api.idempotency import Answer, write
from app.api.serializers import member_json
from app.members import operations as ops
from app.members.schemas import Member, MemberCreate
from app.programs.operations import get_program


@bp.post("/programs/<int:program_id>/members")
@write
@operation("Enroll a customer", body=MemberCreate, response=Member, status=201,
           errors=(409,))
def enroll(program_id: int, body: MemberCreate) -> Answer:
    """Enroll a customer in a program."""
    program = get_program(g.merchant, program_id)
    return member_json(ops.enroll_member(program, body)), 201


@bp.get("/members/<int:member_id>")
@operation("Show a member", response=Member)
def show(member_id: int):  # type: ignore[no-untyped-def]
    """Show one member."""
    return member_json(ops.get_member(g.merchant, member_id))
