"""Member routes."""

from __future__ import annotations

from flask import g

from app.api import bp, json_body
from app.api.openapi import errors, id_param, json_content, ok, ref
from app.api.serializers import member_json
from app.members import operations as ops
from app.programs.operations import get_program


@bp.post("/programs/<int:program_id>/members")
def enroll(program_id: int):  # type: ignore[no-untyped-def]
    """Enroll a customer in a program."""
    program = get_program(g.merchant, program_id)
    return member_json(ops.enroll_member(program, json_body())), 201


@bp.get("/members/<int:member_id>")
def show(member_id: int):  # type: ignore[no-untyped-def]
    """Show one member."""
    return member_json(ops.get_member(g.merchant, member_id))


OPENAPI_SCHEMAS = {
    "MemberCreate": {"type": "object", "additionalProperties": False, "required": ["email"],
                     "properties": {"email": {"type": "string", "format": "email"},
                                    "name": {"type": "string", "nullable": True},
                                    "external_id": {"type": "string", "nullable": True},
                                    "language": {"type": "string"}}},
    "Member": {"allOf": [ref("MemberBase"), ref("MemberLoyalty")]},
    "MemberBase": {"type": "object", "properties": {
        "id": {"type": "integer"}, "program_id": {"type": "integer"},
        "serial_number": {"type": "string"}, "name": {"type": "string"},
        "email": {"type": "string", "nullable": True},
        "external_id": {"type": "string", "nullable": True},
        "language": {"type": "string", "nullable": True},
        "points": {"type": "integer"}, "pass_version": {"type": "integer"},
        "pass_updated_at": {"type": "string", "format": "date-time"},
        "created_at": {"type": "string", "format": "date-time"},
        "links": {"type": "object", "properties": {"apple": {"type": "string"}}}}},
}
OPENAPI_PATHS = {
    "/programs/{program_id}/members": {
        "parameters": [id_param("program_id")],
        "post": {"summary": "Enroll a customer", "operationId": "enrollMember",
                 "requestBody": {"required": True, "content": json_content(ref("MemberCreate"))},
                 "responses": {"201": ok("Enrolled", ref("Member")),
                               **errors(400, 401, 404, 409, 413, 415, 422)}},
    },
    "/members/{member_id}": {
        "parameters": [id_param("member_id")],
        "get": {"summary": "Show a member", "operationId": "getMember",
                "responses": {"200": ok("Member", ref("Member")), **errors(401, 404)}},
    },
}
