"""Public pages and downloads (no API key): the card links members get, the card page
(cards.py) and the signup page (signup.py). The dashboard (app/dashboard) owns `/`."""

from __future__ import annotations

import re

from flask import Blueprint, Response, current_app

from app.errors import NotFound
from app.extensions import db
from app.models import Program
from app.transactions import reads_only
from app.wallet.apple.issuer import PKPASS_MIMETYPE, PassIssuer
from app.wallet.google.savelink import program_image
from app.wallet.snapshot import snapshot_by_download_token

bp = Blueprint("web", __name__)
HOME_ICON = re.compile(r"^home-(192|512)\.png$")
IMAGE_CACHE = "public, max-age=86400"


def apple_issuer() -> PassIssuer:
    """The app's pass issuer (identity loaded once at start-up)."""
    return current_app.extensions["walletpass.apple"]


@bp.get("/cards/<token>/apple.pkpass")
@reads_only
def apple_pass(token: str) -> Response:
    """Download a member's signed Apple Wallet pass."""
    found = snapshot_by_download_token(token)
    if found is None:
        raise NotFound("This card link is not valid.")
    snapshot, changed_at = found
    body = apple_issuer().pkpass_of(snapshot)
    response = Response(body, mimetype=PKPASS_MIMETYPE)
    response.headers["Content-Disposition"] = 'attachment; filename="card.pkpass"'
    response.headers["Cache-Control"] = "no-store"
    response.last_modified = changed_at
    return response


@bp.get("/images/<int:program_id>/<int:version>/<filename>")
def image(program_id: int, version: int, filename: str) -> Response:
    """A program's card image (logo@2x.png...) or home-screen icon (home-192.png), public by
    design: the version in the path changes with every design change."""
    from app.web.pages import home_icon_of

    match = HOME_ICON.match(filename)
    if match:
        program = db.session.get(Program, program_id)
        data = home_icon_of(program, int(match.group(1))) if program else None
    else:
        data = program_image(program_id, filename)
    if data is None:
        raise NotFound("No such image.")
    return Response(data, mimetype="image/png", headers={"Cache-Control": IMAGE_CACHE})

