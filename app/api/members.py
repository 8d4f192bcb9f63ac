"""Member routes."""

from __future__ import annotations

from flask import g, request

from app.api import bp
from app.api.contract import operation
from app.api.idempotency import Answer, write
from app.api.serializers import member_json
from app.errors import ValidationError
from app.members import operations as ops
from app.members.schemas import Member, MemberCreate, MemberPage
from app.programs.operations import get_program
from app.transactions import reads_only
from app.validation import MAX_ID, storable, whole_number


@bp.post("/programs/<int:program_id>/members")
@write
@operation("Enroll a customer", body=MemberCreate, response=Member, status=201,
           errors=(409,))
def enroll(program_id: int, body: MemberCreate) -> Answer:
    """Enroll a customer in a program."""
    program = get_program(g.merchant, program_id)
    return member_json(ops.enroll_member(program, body)), 201


@bp.get("/members/<int:member_id>")
@reads_only
@operation("Show a member", response=Member)
def show(member_id: int):  # type: ignore[no-untyped-def]
    """Show one member."""
    return member_json(ops.get_member(g.merchant, member_id))


@bp.get("/programs/<int:program_id>/members")
@reads_only
@operation("List and search a program's members", response=MemberPage, query=(
    {"name": "q", "in": "query", "required": False,
     "schema": {"type": "string", "maxLength": 320},
     "description": "Only members whose email, name, phone, serial or external id contains "
                    "this (any case)"},
    {"name": "after", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
     "description": "The previous page's next_after"},
    {"name": "limit", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": 200}}))
def list_members(program_id: int):  # type: ignore[no-untyped-def]
    """A page of the program's members in enrollment order, optionally searched."""
    program = get_program(g.merchant, program_id)
    limit = whole_number(request.args.get("limit"), "limit", 50, 1, 200)
    after = whole_number(request.args.get("after"), "after", None, 1, MAX_ID)
    query = request.args.get("q", "")[:320]
    if not storable(query):
        raise ValidationError("Query parameter 'q' contains characters that are not allowed.")
    found = ops.list_members(program, query, after, limit)
    more = len(found) == limit
    return {"members": [member_json(m) for m in found],
            "next_after": found[-1].id if more else None}
