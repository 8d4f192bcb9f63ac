"""Poster routes: printable QR signup posters of a program."""

from __future__ import annotations

import re

from flask import Response, g, request

from app import links
from app.api import bp
from app.api.contract import operation
from app.distribution import posters
from app.errors import DomainError, ValidationError
from app.models import Program
from app.programs import operations as ops

LOCATION_TAG = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


@bp.get("/programs/<int:program_id>/poster.<fmt>")
@operation("A printable QR signup poster (PDF or PNG)", media=("application/pdf", "image/png"),
           path={"fmt": {"type": "string", "enum": ["pdf", "png"]}},
           query=({"name": "size", "in": "query", "required": False,
                   "schema": {"type": "string", "enum": ["a4", "a5", "letter"],
                              "default": "a4"}},
                  {"name": "location", "in": "query", "required": False,
                   "description": "Id of a stored location; tags the signup URL (?loc=)",
                   "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,32}$"}}))
def program_poster(program_id: int, fmt: str) -> Response:
    """A printable signup poster (PDF or PNG) of a program, optionally for one store location.

    `location` names a stored location by its id; it tags the signup URL in the QR code
    (`?loc=<id>`) so signups are counted per location.
    """
    program = ops.get_program(g.merchant, program_id)
    if fmt not in posters.FORMATS:
        raise DomainError(f"Posters come as poster.pdf or poster.png, not poster.{fmt[:20]}.",
                          code="unknown_format", status=404)
    size = request.args.get("size", "a4")
    if size not in posters.SIZES_MM:
        raise ValidationError(f"size must be one of: {', '.join(posters.SIZES_MM)}.",
                              details={"field": "size"})
    location = request.args.get("location") or None
    if location is not None and not LOCATION_TAG.match(location):
        raise ValidationError("location must be a location id (letters, digits, - or _, "
                              "at most 32).", details={"field": "location"})
    body = posters.cached_poster(poster_spec(program, location), fmt, size)
    response = Response(body, mimetype=posters.MIMETYPES[fmt])
    name = f"poster-{program.id}-{size}{'-' + location if location else ''}.{fmt}"
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


def poster_spec(program: Program, location: str | None) -> posters.PosterSpec:
    """What a program's poster shows, for one location (or none)."""
    logos = sorted((img for img in program.images if img.kind == "logo"),
                   key=lambda img: len(img.data))
    return posters.PosterSpec(
        program_name=program.name,
        organization_name=program.organization_name,
        background_color=program.background_color,
        foreground_color=program.foreground_color,
        label_color=program.label_color,
        signup_url=links.signup_link(program.id, location),
        language=program.language,
        logo_png=logos[-1].data if logos else None,
        location_name="",
    )
