"""The dashboard's home: the merchant's cards, the designer link and the status panel."""

from __future__ import annotations

from flask import g, redirect, request, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from app.dashboard import bp, page, security, status
from app.programs.operations import list_programs


@bp.get("/")
@security.login_required
def home() -> BaseResponse:
    """The home page: cards (the designer is linked even before the first one) and status."""
    merchant = g.membership.merchant
    managing = security.RANKS[g.membership.role] >= security.RANKS["manager"]
    return page("home.html", programs=list_programs(merchant), show_status=managing,
                problems=status.problems() if managing else [], memberships=g.user.memberships)


@bp.post("/switch")
@security.login_required
def switch_merchant() -> BaseResponse:
    """Show another merchant the user belongs to."""
    wanted = request.form.get("merchant_id", type=int)
    if any(m.merchant_id == wanted for m in g.user.memberships):
        session["mid"] = wanted
    return redirect(url_for("dashboard.home"))
