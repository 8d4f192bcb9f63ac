"""The per-merchant suppression list (no mail to these addresses) and unsubscribe tokens."""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select

from app.errors import NotFound
from app.extensions import db
from app.mail.rows import insert_ignore
from app.mail.schemas import SuppressionCreate
from app.models import MailSuppression, Member, Merchant, Program
from app.models.base import utcnow

TOKEN_SALT = "walletpass.unsubscribe"


def suppress(merchant_id: int, email: str, reason: str, detail: str = "") -> None:
    """Put an address on the merchant's list (kept as it is when already there)."""
    insert_ignore(MailSuppression, [{"merchant_id": merchant_id, "email": email.lower(),
                                     "reason": reason, "detail": detail[:200],
                                     "created_at": utcnow()}])


def suppressed_among(addresses: Iterable[tuple[int, str]]) -> set[tuple[int, str]]:
    """Which of these (merchant id, address) pairs the merchant must not mail, in one query
    (addresses lower-cased)."""
    wanted = {(merchant_id, email.lower()) for merchant_id, email in addresses}
    if not wanted:
        return set()
    found = db.session.execute(select(MailSuppression.merchant_id, MailSuppression.email).where(
        MailSuppression.merchant_id.in_({m for m, _ in wanted}),
        MailSuppression.email.in_({e for _, e in wanted})))
    return {(m, e) for m, e in found if (m, e) in wanted}


def add_suppression(merchant: Merchant, request: SuppressionCreate) -> MailSuppression:
    """Add an address by hand (reason 'manual' unless given); adding one twice is fine."""
    suppress(merchant.id, request.email, request.reason, request.detail)
    db.session.flush()
    return get_suppression(merchant, request.email)


def get_suppression(merchant: Merchant, email: str) -> MailSuppression:
    """The merchant's suppression of this address, or NotFound."""
    row = db.session.scalar(select(MailSuppression).where(
        MailSuppression.merchant_id == merchant.id, MailSuppression.email == email.lower()))
    if row is None:
        raise NotFound(f"{email} is not on the suppression list.")
    return row


def remove_suppression(merchant: Merchant, email: str) -> None:
    """Take an address off the list: it gets mail again (new mails only)."""
    db.session.delete(get_suppression(merchant, email))
    db.session.flush()


def list_suppressions(merchant: Merchant, limit: int, offset: int,
                      email: str | None = None) -> tuple[list[MailSuppression], int]:
    """A page of the merchant's suppressed addresses (alphabetical) and how many in all."""
    where = [MailSuppression.merchant_id == merchant.id]
    if email:
        where.append(MailSuppression.email == email.lower())
    total = db.session.scalar(select(func.count()).select_from(MailSuppression).where(*where))
    rows = db.session.scalars(select(MailSuppression).where(*where)
                              .order_by(MailSuppression.email).limit(limit).offset(offset))
    return list(rows), int(total or 0)


def _serializer(secret: str | None = None) -> URLSafeSerializer:
    """Signs unsubscribe tokens with the app's secret key."""
    return URLSafeSerializer(secret or current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def unsubscribe_token(member_id: int, secret: str | None = None) -> str:
    """A signed token naming a member: whoever holds it may unsubscribe that address."""
    return str(_serializer(secret).dumps(member_id))


def member_for_token(token: str) -> Member | None:
    """The member an unsubscribe token names, or None for a bad or forged token."""
    if len(token) > 200:
        return None
    try:
        member_id = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(member_id, int) or isinstance(member_id, bool):
        return None
    return db.session.get(Member, member_id)


def unsubscribe(member: Member) -> bool:
    """Suppress the member's address for the program's merchant; False when it has none."""
    if not member.email:
        return False
    program = db.session.get(Program, member.program_id)
    assert program is not None
    suppress(program.merchant_id, member.email, "unsubscribe",
             f"unsubscribe link of member {member.id}")
    return True
