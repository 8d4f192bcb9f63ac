"""Poster routes: printable QR signup posters of a program."""

from __future__ import annotations

from flask import Response, g, request

from app import links
from app.api import bp
from app.api.contract import operation
from app.distribution import posters
from app.errors import DomainError, ValidationError
from app.locations.operations import get_location
from app.models import Program, StoreLocation
from app.programs import operations as ops
from app.validation import MAX_ID, whole_number


@bp.get("/programs/<int:program_id>/poster.<fmt>")
@operation("A printable QR signup poster (PDF or PNG)", media=("application/pdf", "image/png"),
           path={"fmt": {"type": "string", "enum": ["pdf", "png"]}},
           query=({"name": "size", "in": "query", "required": False,
                   "schema": {"type": "string", "enum": ["a4", "a5", "letter"],
                              "default": "a4"}},
                  {"name": "location", "in": "query", "required": False,
                   "description": "Id of a stored location of the program; tags the signup "
                                  "URL (?loc=) and shows the location's name",
                   "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}),
           errors=(404,))
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
    location_id = whole_number(request.args.get("location"), "location", None, 1, MAX_ID)
    location = None if location_id is None else get_location(program, location_id)
    body = posters.cached_poster(poster_spec(program, location), fmt, size)
    response = Response(body, mimetype=posters.MIMETYPES[fmt])
    name = f"poster-{program.id}-{size}{f'-{location_id}' if location else ''}.{fmt}"
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


def poster_spec(program: Program, location: StoreLocation | None) -> posters.PosterSpec:
    """What a program's poster shows, for one location (or none)."""
    logos = sorted((img for img in program.images if img.kind == "logo"),
                   key=lambda img: len(img.data))
    return posters.PosterSpec(
        program_name=program.name,
        organization_name=program.organization_name,
        background_color=program.background_color,
        foreground_color=program.foreground_color,
        label_color=program.label_color,
        signup_url=links.signup_link(program.id, location.id if location else None),
        language=program.language,
        logo_png=logos[-1].data if logos else None,
        location_name=location.name if location else "",
        google=links.google_enabled(),
    )
