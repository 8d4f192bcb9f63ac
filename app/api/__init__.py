"""The /api/v1 JSON API for POS systems and integrations."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, g, request
from sqlalchemy import update

from app.api.ratelimit import check_api_rate
from app.errors import Unauthorized
from app.extensions import db
from app.models import ApiKey
from app.models.base import utcnow
from app.transactions import bookkeeping

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
    check_api_rate(row.id)
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_PRECISION:
        # at most once a minute (no hot row under load), and never in a read's transaction
        bookkeeping(update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=now)
                    .execution_options(synchronize_session=False))
    g.merchant = row.merchant


@bp.teardown_request
def _rollback_on_error(exc: BaseException | None) -> None:
    """Never leave a half-done transaction behind a failed request."""
    if exc is not None:
        db.session.rollback()

