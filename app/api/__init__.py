"""The /api/v1 JSON API for POS systems and integrations."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import Any, NamedTuple

from flask import Blueprint, g, request
from sqlalchemy import Select, bindparam, select, update

from app.api.ratelimit import check_api_rate
from app.errors import Unauthorized
from app.extensions import db
from app.models import ApiKey, Merchant
from app.models.base import utcnow
from app.rows import loaded
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
    row = active_key(key.strip())
    if row is None:
        raise Unauthorized("The API key is not valid or has been revoked.")
    check_api_rate(row.id)
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_PRECISION:
        # at most once a minute (no hot row under load), and never in a read's transaction
        bookkeeping(update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=now)
                    .execution_options(synchronize_session=False))
    g.merchant = row.merchant


class ActiveKey(NamedTuple):
    """An active API key as a request needs it: its id, its last use and its merchant."""

    id: int
    last_used_at: datetime | None
    merchant: Merchant


def active_key(plain: str) -> ActiveKey | None:
    """The active key for a presented key, with its merchant, or None: one Core query (every
    API request runs it; no ORM load), the merchant then the session's own object."""
    row = db.session.execute(_active_key(), {"key_hash": ApiKey.hash_key(plain)}).first()
    if row is None:
        return None
    key_id, last_used_at, *merchant = row
    merchant_row = dict(zip(_MERCHANT, merchant, strict=True))
    return ActiveKey(key_id, last_used_at, loaded(Merchant, merchant_row))


_MERCHANT = tuple(column.key for column in Merchant.__table__.columns)
"""The merchant's columns, in the order _active_key reads them."""


@cache
def _active_key() -> Select[Any]:
    """active_key's statement, built once."""
    keys, merchants = ApiKey.__table__, Merchant.__table__
    return (select(keys.c.id, keys.c.last_used_at, *merchants.columns)
            .join_from(keys, merchants, keys.c.merchant_id == merchants.c.id)
            .where(keys.c.key_hash == bindparam("key_hash"), keys.c.revoked_at.is_(None)))


@bp.teardown_request
def _rollback_on_error(exc: BaseException | None) -> None:
    """Never leave a half-done transaction behind a failed request."""
    if exc is not None:
        db.session.rollback()

