"""The PassKit web service: BASE_URL + /wallet/v1/..., called by Apple devices.

Endpoints and answers (Apple's documented protocol):

- POST   /v1/devices/<device>/registrations/<passType>/<serial>  body {"pushToken": hex}
         201 new, 200 already registered, 400 bad body, 401 not authorized
- DELETE /v1/devices/<device>/registrations/<passType>/<serial>  200, 401
- GET    /v1/devices/<device>/registrations/<passType>[?passesUpdatedSince=<tag>]
         200 {"serialNumbers": [...], "lastUpdated": "<tag>"}, 204 when none
- GET    /v1/passes/<passType>/<serial>  200 pkpass with Last-Modified, 304, 401
- POST   /v1/log  body {"logs": [...]}  200, 400 when the body is not JSON

Authenticated calls carry `Authorization: ApplePass <authenticationToken>`; a wrong pass
type, an unknown serial and a wrong token all answer 401 alike.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify, request

from app.safejson import InvalidJSON, request_json
from app.transactions import reads_only
from app.wallet.apple import registrations as regs
from app.wallet.apple.issuer import PKPASS_MIMETYPE, PassIssuer

bp = Blueprint("apple_ws", __name__, url_prefix="/wallet/v1")
log = logging.getLogger(__name__)
device_log = logging.getLogger("walletpass.device_log")

REGISTRATION = "/devices/<device>/registrations/<pass_type>/<serial>"
MAX_LOG_LINES = 50
MAX_LOG_CHARS = 1000


def issuer() -> PassIssuer:
    """The app's pass issuer."""
    return current_app.extensions["walletpass.apple"]


def status(code: int) -> Response:
    """An empty answer with a status code (what devices expect)."""
    return Response(status=code)


@bp.before_request
def _limit_body() -> Response | None:
    """Refuse bodies over WALLET_MAX_BODY before reading them."""
    limit = current_app.config["SETTINGS"].WALLET_MAX_BODY
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        return status(413)
    return None


def _member(pass_type: str, serial: str):  # type: ignore[no-untyped-def]
    """The member the request's ApplePass token proves access to, or None."""
    return regs.authorized_member(pass_type, issuer().identity.pass_type_id, serial,
                                  request.headers.get("Authorization"))


@bp.post(REGISTRATION)
def register(device: str, pass_type: str, serial: str) -> Response:
    """Register a device to receive push notifications for a pass."""
    member = _member(pass_type, serial)
    if member is None:
        return status(401)
    try:
        body = request_json(force=True)
    except InvalidJSON:
        return status(400)
    token = regs.valid_push_token(body.get("pushToken") if isinstance(body, dict) else None)
    if token is None or not regs.LIBRARY_ID.match(device):
        return status(400)
    return status(201 if regs.register_device(device, member, token) else 200)


@bp.delete(REGISTRATION)
def unregister(device: str, pass_type: str, serial: str) -> Response:
    """Unregister a device from a pass's push notifications."""
    member = _member(pass_type, serial)
    if member is None:
        return status(401)
    regs.unregister_device(device, member.id)
    return status(200)


@bp.get("/devices/<device>/registrations/<pass_type>")
@reads_only
def serials(device: str, pass_type: str) -> Response:
    """The serial numbers of the device's passes changed since the passesUpdatedSince tag."""
    if pass_type != issuer().identity.pass_type_id or not regs.LIBRARY_ID.match(device):
        return status(204)
    since = regs.parse_tag(request.args.get("passesUpdatedSince"))
    found = regs.updated_serials(device, since)
    if found is None:
        return status(204)
    serial_numbers, tag = found
    return jsonify({"serialNumbers": serial_numbers, "lastUpdated": tag})


@bp.get("/passes/<pass_type>/<serial>")
@reads_only
def latest_pass(pass_type: str, serial: str) -> Response:
    """The latest version of a pass (304 when If-Modified-Since shows the device has it)."""
    member = _member(pass_type, serial)
    if member is None:
        return status(401)
    member_id, version, modified = member.id, member.pass_version, member.pass_updated_at
    since = request.if_modified_since
    if since is not None and modified <= since:
        response = status(304)
    else:
        response = Response(issuer().pkpass(member), mimetype=PKPASS_MIMETYPE)
    regs.record_fetch(member_id, version)
    response.last_modified = modified
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.post("/log")
def device_logs() -> Response:
    """Log the error messages devices report about this web service."""
    try:
        body = request_json(force=True)
    except InvalidJSON:
        return status(400)
    lines = body.get("logs") if isinstance(body, dict) else None
    if isinstance(lines, list):
        for line in lines[:MAX_LOG_LINES]:
            # %r escapes newlines, so a device cannot forge log lines
            device_log.warning("device reports: %r", str(line)[:MAX_LOG_CHARS])
    return status(200)
