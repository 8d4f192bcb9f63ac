"""Program routes."""

from __future__ import annotations

from flask import g

from app.api import bp
from app.api.contract import UPLOAD, operation, uploaded_image
from app.api.idempotency import Answer, write
from app.api.serializers import program_json
from app.errors import DomainError
from app.programs import operations as ops
from app.programs.schemas import ImageResult, Program, ProgramCreate, ProgramDesign, ProgramList
from app.wallet.images import IMAGE_SPECS


@bp.post("/programs")
@write
@operation("Create a program from a template", body=ProgramCreate, response=Program,
           status=201)
def create_program(body: ProgramCreate) -> Answer:
    """Create a program from a template."""
    return program_json(ops.create_program(g.merchant, body)), 201


@bp.get("/programs")
@operation("List programs", response=ProgramList)
def list_programs():  # type: ignore[no-untyped-def]
    """List the merchant's programs."""
    return {"programs": [program_json(p) for p in ops.list_programs(g.merchant)]}


@bp.get("/programs/<int:program_id>")
@operation("Show a program", response=Program)
def get_program(program_id: int):  # type: ignore[no-untyped-def]
    """Show one program."""
    return program_json(ops.get_program(g.merchant, program_id))


@bp.patch("/programs/<int:program_id>")
@write
@operation("Change a program's design", body=ProgramDesign, response=Program)
def update_program(program_id: int, body: ProgramDesign) -> Answer:
    """Change a program's design."""
    program = ops.get_program(g.merchant, program_id)
    return program_json(ops.update_program(program, body)), 200


@bp.put("/programs/<int:program_id>/images/<kind>")
@write
@operation("Upload the icon, logo or strip image (PNG or JPEG)", body=UPLOAD,
           response=ImageResult, path={"kind": {"type": "string", "enum": list(IMAGE_SPECS)}})
def upload_image(program_id: int, kind: str) -> Answer:
    """Upload the card's icon, logo or strip (PNG or JPEG, raw body or multipart 'file')."""
    program = ops.get_program(g.merchant, program_id)
    if kind not in IMAGE_SPECS:
        raise DomainError(f"Unknown image kind {kind!r}; use one of: "
                          f"{', '.join(IMAGE_SPECS)}.", code="unknown_image_kind", status=404)
    rows = ops.set_image(program, kind, uploaded_image())
    return {"kind": kind, "files": {r.filename: len(r.data) for r in rows},
            "design_version": program.design_version}, 200
