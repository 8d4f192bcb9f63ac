"""Enrolling members and finding them: plain functions that raise domain errors."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from app import validation as v
from app.errors import Conflict, NotFound, ValidationError
from app.extensions import db
from app.jobs import PASS_UPDATES, wake
from app.loyalty import bonuses
from app.loyalty.ledger import held_locked, locking, standing_loads
from app.models import Member, Merchant, Program
from app.outbox import record
from app.wallet import i18n


def _language(name: str, value: Any) -> str:
    """A card language tag, normalized to one the cards speak (e.g. 'zh-TW' -> 'zh-Hant')."""
    lang = i18n.normalize_language(value) if isinstance(value, str) else None
    if lang is None:
        raise ValidationError(f"'{name}' must be one of: {', '.join(i18n.LANGUAGES)}.")
    return lang


ENROLL_RULES: dict[str, v.Validator] = {
    "email": v.email,
    "name": v.text(200, required=False),
    "external_id": v.text(200),
    "language": _language,
    "referral_code": bonuses.referral_code,
    "birthday": bonuses.birthday,
}


def enroll_member(program: Program, body: dict[str, Any]) -> Member:
    """Enroll a customer in a program; an email already enrolled is a conflict."""
    data = v.validate(body, ENROLL_RULES, required=("email",),
                      nullable=("name", "external_id", "referral_code", "birthday"))
    if data.get("name") is None:
        data["name"] = ""
    referrer = bonuses.referrer_for(program, data.pop("referral_code", None))
    existing = db.session.scalar(
        select(Member.id).where(Member.program_id == program.id, Member.email == data["email"]))
    if existing is not None:
        raise Conflict(f"{data['email']} is already a member of this program (member "
                       f"{existing}).", code="already_enrolled", details={"member_id": existing})
    member = Member(program=program, **data)
    db.session.add(member)
    try:
        db.session.flush()
        bonuses.on_enrolled(member, referrer)
        record(program.merchant_id, "member.enrolled", {
            "member_id": member.id, "program_id": member.program_id, "email": member.email,
            "external_id": member.external_id, "referred_by_id": member.referred_by_id},
            member_id=member.id)
        wake(db.session(), PASS_UPDATES)  # the Google channel inserts the new member's object
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(f"{data['email']} is already a member of this program.",
                       code="already_enrolled") from None
    return member


def get_member(merchant: Merchant, member_id: int, lock: bool = False) -> Member:
    """The merchant's member, or NotFound (also for another merchant's member); with
    `lock`, locked for a point transaction (as ledger.lock_member, in the same query)."""
    stmt = (select(Member).join(Program)
            .options(*standing_loads(contains_eager(Member.program)))
            .where(Member.id == member_id, Program.merchant_id == merchant.id))
    member = db.session.execute(locking(stmt) if lock else stmt).unique().scalar_one_or_none()
    if member is None:
        raise NotFound(f"Member {member_id} not found.")
    return held_locked(member) if lock else member


def member_by_download_token(token: str) -> Member | None:
    """The member whose card link carries this token, with what the card shows."""
    if not token or len(token) > 64:
        return None
    return db.session.execute(
        select(Member).where(Member.download_token == token)
        .options(*standing_loads(tiers=False, rewards=True))).unique().scalar_one_or_none()
