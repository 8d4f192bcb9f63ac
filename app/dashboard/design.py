"""The card designer (filled in by the next slice)."""

from __future__ import annotations

from werkzeug.wrappers import Response as BaseResponse

from app.dashboard import bp, page, security


@bp.get("/design")
@security.role_required("manager")
def design_list() -> BaseResponse:
    """The merchant's cards and the starter templates."""
    return page("status.html", problems=[])


@bp.get("/design/<int:program_id>")
@security.role_required("manager")
def designer(program_id: int) -> BaseResponse:
    """The designer of one card."""
    return page("status.html", problems=[])
