"""Creating and editing programs: plain functions that raise domain errors."""

from __future__ import annotations

import functools
from typing import Any

from flask import current_app
from sqlalchemy import select

from app.errors import NotFound, ValidationError
from app.extensions import db
from app.models import Member, Merchant, Program, ProgramImage, StoreLocation
from app.models.base import utcnow
from app.programs.schemas import DESIGN_FIELDS, ProgramCreate, ProgramDesign
from app.updates.changes import bump_passes
from app.updates.google_design import keep_unchanged_objects
from app.wallet import images, templates


def create_program(merchant: Merchant, request: ProgramCreate) -> Program:
    """A new program from a starter template, with the request's fields overriding it."""
    data = request.given()
    template_name = data.pop("template")
    try:
        design = templates.load_template(template_name)
    except templates.TemplateNotFound as exc:
        raise ValidationError(str(exc), code="unknown_template") from None
    fields = {k: design[k] for k in DESIGN_FIELDS if k in design}
    fields["timezone"] = current_app.config["SETTINGS"].DEFAULT_TIMEZONE
    fields.update(data)
    places = fields.pop("locations", None) or []
    program = Program(merchant=merchant, template=template_name, **fields)
    replace_locations(program, places)
    for filename, content in _template_images(template_name).items():
        kind = filename.split(".")[0].split("@")[0]
        program.images.append(ProgramImage(kind=kind, filename=filename, data=content))
    db.session.add(program)
    db.session.flush()
    return program


@functools.lru_cache(maxsize=16)
def _template_images(name: str) -> dict[str, bytes]:
    """A template's artwork processed into the Apple image set, once per process."""
    design = templates.load_template(name)
    out: dict[str, bytes] = {}
    for kind, source in design["images"].items():
        out.update(images.process_image(kind, source))
    return out


def get_program(merchant: Merchant, program_id: int) -> Program:
    """The merchant's program, or NotFound (also for another merchant's program)."""
    program = db.session.scalar(
        select(Program).where(Program.id == program_id, Program.merchant_id == merchant.id))
    if program is None:
        raise NotFound(f"Program {program_id} not found.")
    return program


def update_program(program: Program, changes: ProgramDesign) -> Program:
    """Change a program's design; every member's pass is marked changed."""
    data = changes.given()
    on_card = bool(set(data) - PAGE_ONLY_FIELDS)  # the signup page's fields are not on it
    if "locations" in data:
        replace_locations(program, data.pop("locations"))
    for key, value in data.items():
        setattr(program, key, value)
    if on_card:
        design_changed(program)
    db.session.flush()
    return program


PAGE_ONLY_FIELDS = frozenset({"signup_fields"})


def replace_locations(program: Program, places: list[dict[str, Any]]) -> None:
    """The deprecated `locations` design field: its places replace the program's store
    locations (each named after its lock-screen text)."""
    program.store_locations[:] = [
        StoreLocation(name=str(place.get("relevant_text") or "") or f"Location {number}",
                      address="", latitude=place["latitude"], longitude=place["longitude"],
                      relevant_text=str(place.get("relevant_text") or ""))
        for number, place in enumerate(places, start=1)]


def set_image(program: Program, kind: str, data: bytes) -> list[ProgramImage]:
    """Replace one of the card's images (icon, logo, strip) with a processed upload."""
    try:
        files = images.process_image(kind, data)
    except images.ImageError as exc:
        raise ValidationError(exc.message, code=exc.code, status=exc.status) from None
    program.images = [img for img in program.images if img.kind != kind]
    db.session.flush()
    rows = [ProgramImage(kind=kind, filename=name, data=content) for name, content in
            files.items()]
    program.images.extend(rows)
    design_changed(program)
    db.session.flush()
    return rows


def design_changed(program: Program) -> None:
    """Bump the design version and every member's pass version, in the current transaction.

    Every member's Last-Modified moves strictly forward (see bump_passes). Google objects
    the change leaves as they were are marked delivered at once (google_design).
    """
    # An SQL increment: two concurrent design changes make two versions, never one.
    program.design_version = Program.design_version + 1
    program.updated_at = utcnow()
    bump_passes(db.session(), Member.program_id == program.id)
    keep_unchanged_objects(program)


def list_programs(merchant: Merchant) -> list[Program]:
    """The merchant's programs, oldest first."""
    return list(db.session.scalars(
        select(Program).where(Program.merchant_id == merchant.id).order_by(Program.id)))
