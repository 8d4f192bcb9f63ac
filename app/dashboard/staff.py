"""The staff page: people, their roles and invitations (owners only)."""

from __future__ import annotations

from typing import Any

from flask import g
from werkzeug.wrappers import Response as BaseResponse

from app.dashboard import accounts, bp, page, security


def staff_page(status: int = 200, **context: Any) -> BaseResponse:
    """The staff page with the given form state."""
    merchant = g.membership.merchant
    context.setdefault("errors", {})
    context.setdefault("values", {})
    return page("staff.html", status, staff=accounts.staff_of(merchant),
                invitations=accounts.pending_invitations(merchant), roles=("cashier",
                "manager", "owner"), **context)


@bp.get("/staff")
@security.role_required("owner")
def staff() -> BaseResponse:
    """Who works here, with which role; invite someone."""
    return staff_page()
