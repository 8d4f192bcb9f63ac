"""The /api/v1 JSON API for POS systems and integrations."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, current_app, g, request

from app.errors import DomainError, Unauthorized
from app.extensions import db
from app.models import ApiKey
from app.models.base import utcnow

bp = Blueprint("api", __name__, url_prefix="/api/v1")

PUBLIC_ENDPOINTS = {"api.openapi"}
LAST_USED_PRECISION = timedelta(minutes=1)


@bp.before_request
def authenticate() -> None:
    """Require `Authorization: Bearer <api key>` on every route but the OpenAPI document."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized("Send your API key as 'Authorization: Bearer <key>'.")
    row = ApiKey.find_active(key.strip())
    if row is None:
        raise Unauthorized("The API key is not valid or has been revoked.")
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_PRECISION:
        row.last_used_at = now  # written at most once a minute: no hot row under load
    g.merchant = row.merchant


def json_body() -> dict[str, Any]:
    """The request's JSON object, with clear errors for wrong type, size or syntax."""
    limit = current_app.config["SETTINGS"].MAX_JSON_BYTES
    if request.content_length is not None and request.content_length > limit:
        raise DomainError(f"JSON bodies are limited to {limit} bytes.", code="too_large",
                          status=413)
    if not request.is_json:
        raise DomainError("Send a JSON body with 'Content-Type: application/json'.",
                          code="unsupported_media_type", status=415)
    raw = request.get_data(cache=True)
    if len(raw) > limit:
        raise DomainError(f"JSON bodies are limited to {limit} bytes.", code="too_large",
                          status=413)
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # absurdly deep nesting: not a body we accept
        body = None
    if body is None:
        raise DomainError("The body is not valid JSON.", code="invalid_json")
    if not isinstance(body, dict):
        raise DomainError("The body must be a JSON object.", code="invalid_json")
    return body


@bp.teardown_request
def _rollback_on_error(exc: BaseException | None) -> None:
    """Never leave a half-done transaction behind a failed request."""
    if exc is not None:
        db.session.rollback()


from app.api import (  # noqa: E402,F401  (routes register on bp)
    devices,
    loyalty,
    mail,
    members,
    openapi,
    posters,
    programs,
    webhooks,
)
