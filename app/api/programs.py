"""Program routes."""

from __future__ import annotations

from flask import g, request

from app.api import bp, json_body
from app.api.openapi import errors, id_param, json_content, ok, ref
from app.api.serializers import program_json
from app.errors import DomainError
from app.programs import operations as ops
from app.wallet.images import IMAGE_SPECS


@bp.post("/programs")
def create_program():  # type: ignore[no-untyped-def]
    """Create a program from a template."""
    program = ops.create_program(g.merchant, json_body())
    return program_json(program), 201


@bp.get("/programs")
def list_programs():  # type: ignore[no-untyped-def]
    """List the merchant's programs."""
    return {"programs": [program_json(p) for p in ops.list_programs(g.merchant)]}


@bp.get("/programs/<int:program_id>")
def get_program(program_id: int):  # type: ignore[no-untyped-def]
    """Show one program."""
    return program_json(ops.get_program(g.merchant, program_id))


@bp.patch("/programs/<int:program_id>")
def update_program(program_id: int):  # type: ignore[no-untyped-def]
    """Change a program's design."""
    program = ops.get_program(g.merchant, program_id)
    return program_json(ops.update_program(program, json_body()))


@bp.put("/programs/<int:program_id>/images/<kind>")
def upload_image(program_id: int, kind: str):  # type: ignore[no-untyped-def]
    """Upload the card's icon, logo or strip (PNG or JPEG, raw body or multipart 'file')."""
    program = ops.get_program(g.merchant, program_id)
    if kind not in IMAGE_SPECS:
        raise DomainError(f"Unknown image kind {kind!r}; use one of: "
                          f"{', '.join(IMAGE_SPECS)}.", code="unknown_image_kind", status=404)
    upload = request.files.get("file")
    data = upload.read() if upload is not None else request.get_data()
    if not data:
        raise DomainError("Send the image as the request body or as a multipart field 'file'.",
                          code="missing_image")
    rows = ops.set_image(program, kind, data)
    return {"kind": kind, "files": {r.filename: len(r.data) for r in rows},
            "design_version": program.design_version}


_DESIGN_PROPS = {
    "name": {"type": "string", "maxLength": 200},
    "organization_name": {"type": "string", "maxLength": 200},
    "description": {"type": "string", "maxLength": 500},
    "logo_text": {"type": "string", "maxLength": 100},
    "background_color": {"type": "string", "pattern": "^#[0-9A-Fa-f]{6}$"},
    "foreground_color": {"type": "string", "pattern": "^#[0-9A-Fa-f]{6}$"},
    "label_color": {"type": "string", "pattern": "^#[0-9A-Fa-f]{6}$"},
    "points_label": {"type": "string", "maxLength": 50},
    "barcode_format": {"type": "string", "enum": ["qr", "pdf417", "aztec", "code128"]},
    "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
    "language": {"type": "string", "enum": ["en", "th", "zh-Hant", "vi", "ms"]},
    "back_text": {"type": "string"},
    "terms": {"type": "string"},
    "locations": {"type": "array", "maxItems": 10, "items": {"type": "object", "properties": {
        "latitude": {"type": "number"}, "longitude": {"type": "number"},
        "relevant_text": {"type": "string"}}, "required": ["latitude", "longitude"]}},
    "translations": {"type": "object", "additionalProperties": {
        "type": "object", "additionalProperties": {"type": "string"}}},
}
OPENAPI_SCHEMAS = {
    "ProgramDesign": {"type": "object", "additionalProperties": False,
                      "properties": _DESIGN_PROPS},
    "ProgramCreate": {"type": "object", "additionalProperties": False,
                      "required": ["name", "template"],
                      "properties": {**_DESIGN_PROPS, "template": {
                          "type": "string", "description": "A pass_templates name"}}},
    "Program": {"type": "object", "properties": {
        **_DESIGN_PROPS, "id": {"type": "integer"}, "template": {"type": "string"},
        "design_version": {"type": "integer"},
        "images": {"type": "array", "items": {"type": "string"}},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "links": {"type": "object", "additionalProperties": {"type": "string"}}}},
}
_PID = [id_param("program_id")]
OPENAPI_PATHS = {
    "/programs": {
        "post": {"summary": "Create a program from a template", "operationId": "createProgram",
                 "requestBody": {"required": True, "content": json_content(
                     ref("ProgramCreate"))},
                 "responses": {"201": ok("Created", ref("Program")),
                               **errors(400, 401, 413, 415, 422)}},
        "get": {"summary": "List programs", "operationId": "listPrograms",
                "responses": {"200": ok("Programs", {"type": "object", "properties": {
                    "programs": {"type": "array", "items": ref("Program")}}}),
                    **errors(401)}},
    },
    "/programs/{program_id}": {
        "parameters": _PID,
        "get": {"summary": "Show a program", "operationId": "getProgram",
                "responses": {"200": ok("Program", ref("Program")), **errors(401, 404)}},
        "patch": {"summary": "Change a program's design", "operationId": "updateProgram",
                  "requestBody": {"required": True, "content": json_content(
                      ref("ProgramDesign"))},
                  "responses": {"200": ok("Program", ref("Program")),
                                **errors(400, 401, 404, 413, 415, 422)}},
    },
    "/programs/{program_id}/images/{kind}": {
        "parameters": [*_PID, {"name": "kind", "in": "path", "required": True,
                               "schema": {"type": "string", "enum": list(IMAGE_SPECS)}}],
        "put": {"summary": "Upload the icon, logo or strip image (PNG or JPEG)",
                "operationId": "uploadImage",
                "requestBody": {"required": True, "content": {
                    "image/png": {"schema": {"type": "string", "format": "binary"}},
                    "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                    "multipart/form-data": {"schema": {"type": "object", "properties": {
                        "file": {"type": "string", "format": "binary"}}}}}},
                "responses": {"200": ok("Processed image files", {"type": "object"}),
                              **errors(400, 401, 404, 413, 422)}},
    },
}
