"""Distribution: each card's signup link (with a copy button) and its QR posters per store
location, to download as PDF or PNG in the paper sizes the poster module draws."""

from __future__ import annotations

from flask import Response, g, request
from werkzeug.wrappers import Response as BaseResponse

from app import links
from app.api.posters import poster_spec
from app.dashboard import bp, page, security
from app.distribution import posters
from app.errors import NotFound, ValidationError
from app.locations.operations import get_location, list_locations
from app.programs.operations import get_program, list_programs
from app.validation import MAX_ID, whole_number


@bp.get("/distribution")
@security.role_required("manager")
def distribution() -> BaseResponse:
    """Signup links and posters of every card of the merchant."""
    programs = list_programs(g.membership.merchant)
    cards = [{"program": p, "link": links.signup_link(p.id),
              "locations": [(loc, links.signup_link(p.id, loc.id))
                            for loc in list_locations(p)]} for p in programs]
    return page("distribution.html", cards=cards, sizes=tuple(posters.SIZES_MM),
                formats=posters.FORMATS)


@bp.get("/distribution/programs/<int:program_id>/poster.<fmt>")
@security.role_required("manager")
def distribution_poster(program_id: int, fmt: str) -> Response:
    """The same printable poster as the API's, for a signed-in manager or owner."""
    program = get_program(g.membership.merchant, program_id)
    if fmt not in posters.FORMATS:
        raise NotFound(f"Posters come as poster.pdf or poster.png, not poster.{fmt[:20]}.")
    size = request.args.get("size", "a4")
    if size not in posters.SIZES_MM:
        raise ValidationError(f"size must be one of: {', '.join(posters.SIZES_MM)}.")
    location_id = whole_number(request.args.get("location"), "location", None, 1, MAX_ID)
    location = None if location_id is None else get_location(program, location_id)
    body = posters.cached_poster(poster_spec(program, location), fmt, size)
    response = Response(body, mimetype=posters.MIMETYPES[fmt])
    name = f"poster-{program.id}-{size}{f'-{location_id}' if location else ''}.{fmt}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
