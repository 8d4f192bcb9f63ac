"""Creating and editing programs: plain functions that raise domain errors."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import select

from app import validation as v
from app.errors import NotFound, ValidationError
from app.extensions import db
from app.models import Member, Merchant, Program, ProgramImage
from app.models.base import utcnow
from app.models.program import BARCODE_FORMATS
from app.updates.changes import bump_passes
from app.wallet import i18n, images, templates


def _locations(name: str, value: Any) -> list[dict[str, Any]]:
    """Up to 10 store locations: latitude, longitude, optional relevant_text."""
    if not isinstance(value, list) or len(value) > 10:
        raise ValidationError(f"'{name}' must be a list of at most 10 locations.")
    out = []
    for i, loc in enumerate(value):
        if not isinstance(loc, dict):
            raise ValidationError(f"'{name}[{i}]' must be an object.")
        rules = {"latitude": _number(-90, 90), "longitude": _number(-180, 180),
                 "relevant_text": v.text(200, required=False)}
        out.append(v.validate(loc, rules, required=("latitude", "longitude")))
    return out


def _number(low: float, high: float) -> v.Validator:
    """A number between low and high."""

    def check(name: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not (
                low <= value <= high):
            raise ValidationError(f"'{name}' must be a number from {low} to {high}.")
        return float(value)

    return check


def _translations(name: str, value: Any) -> dict[str, dict[str, str]]:
    """{language: {source text: translation}} for the supported card languages."""
    if not isinstance(value, dict):
        raise ValidationError(f"'{name}' must be an object of languages.")
    for lang, mapping in value.items():
        if lang not in i18n.LANGUAGES:
            raise ValidationError(f"'{name}' has unsupported language {lang!r}; "
                                  f"supported: {', '.join(i18n.LANGUAGES)}.")
        if not isinstance(mapping, dict) or not all(
                isinstance(k, str) and isinstance(t, str) and len(t) <= 2000
                for k, t in mapping.items()):
            raise ValidationError(f"'{name}.{lang}' must map texts to translated texts.")
        if not all(v.storable(k) and v.storable(t) for k, t in mapping.items()):
            raise ValidationError(f"'{name}.{lang}' contains characters that are not allowed.")
    try:
        i18n.validate_overrides(value)  # the same check the pass builder makes
    except ValueError as exc:
        raise ValidationError(f"'{name}': {exc}") from None
    return value


DESIGN_RULES: dict[str, v.Validator] = {
    "name": v.text(200),
    "organization_name": v.text(200),
    "description": v.text(500),
    "logo_text": v.text(100, required=False),
    "background_color": v.color,
    "foreground_color": v.color,
    "label_color": v.color,
    "points_label": v.text(50),
    "barcode_format": v.one_of(*BARCODE_FORMATS),
    "currency": v.currency,
    "language": v.one_of(*i18n.LANGUAGES),
    "back_text": v.text(4000, required=False),
    "terms": v.text(4000, required=False),
    "locations": _locations,
    "translations": _translations,
}
CREATE_RULES: dict[str, v.Validator] = {
    **DESIGN_RULES,
    "template": v.text(64),
}


def create_program(merchant: Merchant, body: dict[str, Any]) -> Program:
    """A new program from a starter template, with the body's fields overriding it."""
    data = v.validate(body, CREATE_RULES, required=("name", "template"))
    template_name = data.pop("template")
    try:
        design = templates.load_template(template_name)
    except templates.TemplateNotFound as exc:
        raise ValidationError(str(exc), code="unknown_template") from None
    fields = {k: design[k] for k in DESIGN_RULES if k in design}
    fields.update(data)
    program = Program(merchant=merchant, template=template_name, **fields)
    for filename, content in _template_images(template_name).items():
        kind = filename.split(".")[0].split("@")[0]
        program.images.append(ProgramImage(kind=kind, filename=filename, data=content))
    db.session.add(program)
    db.session.commit()
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


def update_program(program: Program, body: dict[str, Any]) -> Program:
    """Change a program's design; every member's pass is marked changed."""
    data = v.validate(body, DESIGN_RULES)
    for key, value in data.items():
        setattr(program, key, value)
    if data:
        design_changed(program)
    db.session.commit()
    return program


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
    db.session.commit()
    return rows


def design_changed(program: Program) -> None:
    """Bump the design version and every member's pass version, in the current transaction.

    Every member's Last-Modified moves strictly forward (see bump_passes).
    """
    # An SQL increment: two concurrent design changes make two versions, never one.
    program.design_version = Program.design_version + 1
    program.updated_at = utcnow()
    bump_passes(db.session(), Member.program_id == program.id)


def list_programs(merchant: Merchant) -> list[Program]:
    """The merchant's programs, oldest first."""
    return list(db.session.scalars(
        select(Program).where(Program.merchant_id == merchant.id).order_by(Program.id)))
