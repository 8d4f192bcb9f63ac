"""Merchant and API key operations (they flush; the caller commits once)."""

from __future__ import annotations

from sqlalchemy import func, select

from app.errors import NotFound, ValidationError
from app.extensions import db
from app.i18n import gettext_noop
from app.merchants.schemas import MerchantCreate
from app.models import ApiKey, Merchant
from app.models.base import utcnow
from app.validation import parse


def create_merchant(name: str, email: str) -> tuple[Merchant, str]:
    """A new merchant with a first API key; returns it and the plain key (shown once)."""
    data = parse(MerchantCreate, {"name": name, "email": email.strip()})
    merchant = Merchant(name=data.name, email=data.email)
    db.session.add(merchant)
    _row, plain = issue_key(merchant)
    return merchant, plain


def merchants_with_key_counts() -> list[tuple[Merchant, int]]:
    """Every merchant, oldest first, with its number of active API keys."""
    active = (select(ApiKey.merchant_id, func.count().label("n"))
              .where(ApiKey.revoked_at.is_(None)).group_by(ApiKey.merchant_id).subquery())
    rows = db.session.execute(
        select(Merchant, func.coalesce(active.c.n, 0))
        .outerjoin(active, active.c.merchant_id == Merchant.id).order_by(Merchant.id))
    return [(merchant, int(count)) for merchant, count in rows]


def get_merchant(merchant_id: int) -> Merchant:
    """A merchant by id, or NotFound."""
    merchant = db.session.get(Merchant, merchant_id)
    if merchant is None:
        raise NotFound(gettext_noop("There is no merchant {id}."), values={"id": merchant_id})
    return merchant


def merchant_keys(merchant: Merchant) -> list[ApiKey]:
    """A merchant's API keys, oldest first (revoked ones included)."""
    return list(db.session.scalars(
        select(ApiKey).where(ApiKey.merchant_id == merchant.id).order_by(ApiKey.id)))


def issue_key(merchant: Merchant) -> tuple[ApiKey, str]:
    """A new API key for a merchant; returns the row and the plain key (shown once)."""
    row, plain = ApiKey.issue(merchant)
    db.session.add(row)
    db.session.flush()
    return row, plain


def revoke_key(key_id: int) -> ApiKey:
    """Revoke an API key at once (revoking a revoked key changes nothing)."""
    row = db.session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(gettext_noop("There is no API key {key}."), values={"key": key_id})
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        db.session.flush()
    return row


def rotate_key(key_id: int) -> tuple[ApiKey, str]:
    """Replace an active API key: revoke it and issue a new one for the same merchant."""
    old = db.session.get(ApiKey, key_id)
    if old is None:
        raise NotFound(gettext_noop("There is no API key {key}."), values={"key": key_id})
    if old.revoked_at is not None:
        raise ValidationError(gettext_noop("API key {key} is already revoked; create a new one "
                                           "with `walletpass create-api-key`."),
                              code="key_revoked", values={"key": key_id})
    revoke_key(key_id)
    return issue_key(old.merchant)
