"""Public Google Wallet routes: the save link members receive, and the card images."""

from __future__ import annotations

import logging
import re

from flask import Blueprint, Response, current_app, redirect, render_template_string, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import IntegrityError

from app.errors import NotFound
from app.extensions import db
from app.members.operations import member_by_download_token
from app.models import Program
from app.wallet.google.callbacks import CallbackError, verify_callback
from app.wallet.google.issuer import GoogleWallet
from app.wallet.google.savelink import art_tag, program_image, save_url, strip_art, tinted_hero
from app.wallet.google.saves import record_event

bp = Blueprint("google_wallet", __name__)
log = logging.getLogger(__name__)
_HERO_NAME = re.compile(r"^([0-9a-f]{6})-([0-9a-z]{1,16})\.png$")
IMAGE_CACHE = "public, max-age=86400"
NOT_READY = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="10"><title>Google Wallet</title></head><body>
<h1>Your Google Wallet card will be ready in a moment</h1>
<p>This page tries again by itself. Meanwhile, here is your card:</p>
<p><strong>{{ member.program.name }}</strong><br>{{ member.name }}<br>
{{ member.points }} {{ member.program.points_label }}<br>
<code>{{ member.serial_number[:12].upper() }}</code></p>
<p><a href="{{ apple }}">Add to Apple Wallet</a></p></body></html>"""


def google_wallet() -> GoogleWallet:
    """The app's Google issuer; 404 when Google Wallet is off."""
    wallet = current_app.extensions.get("walletpass.google")
    if wallet is None:
        raise NotFound("Google Wallet is not enabled on this service.")
    return wallet


@bp.get("/g/<token>")
def save(token: str) -> ResponseReturnValue:
    """Send a member to a freshly signed Google Wallet save link (or a please-wait page)."""
    wallet = google_wallet()
    member = member_by_download_token(token)
    if member is None:
        raise NotFound("This card link is not valid.")
    url = save_url(wallet, member)
    if url is None:
        apple = f"/cards/{member.download_token}/apple.pkpass"
        page = render_template_string(NOT_READY, member=member, apple=apple)
        return page, 503, {"Retry-After": "10", "Cache-Control": "no-store"}
    response = redirect(url, code=303)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/google/images/<int:program_id>/<int:version>/<filename>")
def image(program_id: int, version: int, filename: str) -> Response:
    """A program's card image for Google (logo, wide logo, hero)."""
    google_wallet()
    data = program_image(program_id, filename)
    if data is None:
        raise NotFound("No such image.")
    return Response(data, mimetype="image/png", headers={"Cache-Control": IMAGE_CACHE})


@bp.get("/google/hero/<int:program_id>/<name>")
def hero(program_id: int, name: str) -> Response:
    """A program's strip tinted with a tier colour: the hero image of that tier's objects."""
    google_wallet()
    match = _HERO_NAME.match(name)
    program = db.session.get(Program, program_id)
    if match is None or program is None:
        raise NotFound("No such image.")
    strip = strip_art(program)
    if art_tag(strip) != match.group(2):
        raise NotFound("No such image.")
    return Response(tinted_hero(strip, match.group(1)), mimetype="image/png",
                    headers={"Cache-Control": IMAGE_CACHE})


@bp.post("/google/callback")
def callback() -> ResponseReturnValue:
    """Google's save/delete callback: verify the ECv2SigningOnly chain, record once per nonce."""
    wallet = google_wallet()
    try:
        message = verify_callback(request.get_json(silent=True), wallet.issuer_id,
                                  wallet.root_keys.get())
    except CallbackError as exc:
        log.warning("Refused a Google Wallet callback: %s", exc)
        return {"error": str(exc)}, 400
    try:
        fresh = record_event(message, wallet.issuer_id)
        db.session.commit()
    except IntegrityError:  # the same nonce delivered twice at once
        db.session.rollback()
        fresh = False
    return {"recorded": fresh}, 200
