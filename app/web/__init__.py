"""Public pages and downloads (no API key): the card links members get."""

from __future__ import annotations

from flask import Blueprint, Response, current_app

from app.errors import NotFound
from app.members.operations import member_by_download_token
from app.wallet.apple.issuer import PKPASS_MIMETYPE, PassIssuer

bp = Blueprint("web", __name__)


def apple_issuer() -> PassIssuer:
    """The app's pass issuer (identity loaded once at start-up)."""
    return current_app.extensions["walletpass.apple"]


@bp.get("/cards/<token>/apple.pkpass")
def apple_pass(token: str) -> Response:
    """Download a member's signed Apple Wallet pass."""
    member = member_by_download_token(token)
    if member is None:
        raise NotFound("This card link is not valid.")
    body = apple_issuer().pkpass(member)
    response = Response(body, mimetype=PKPASS_MIMETYPE)
    response.headers["Content-Disposition"] = 'attachment; filename="card.pkpass"'
    response.headers["Cache-Control"] = "no-store"
    response.last_modified = member.pass_updated_at
    return response
