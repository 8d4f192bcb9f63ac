"""Enrolling members and finding them: plain functions that raise domain errors."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from app.errors import Conflict, NotFound
from app.extensions import db
from app.loyalty import bonuses
from app.members.schemas import MemberCreate
from app.models import Member, Merchant, Program


def enroll_member(program: Program, request: MemberCreate) -> Member:
    """Enroll a customer in a program; an email already enrolled is a conflict."""
    data = request.given()
    data["name"] = data.get("name") or ""
    referrer = bonuses.referrer_for(program, data.pop("referral_code", None))
    existing = db.session.scalar(
        select(Member.id).where(Member.program_id == program.id, Member.email == data["email"]))
    if existing is not None:
        raise Conflict(f"{data['email']} is already a member of this program (member "
                       f"{existing}).", code="already_enrolled", details={"member_id": existing})
    member = Member(program=program, **data)
    db.session.add(member)
    try:
        db.session.flush()  # a concurrent enrollment of this email loses here
    except IntegrityError:  # the request's transaction is rolled back by the write wrapper
        raise Conflict(f"{data['email']} is already a member of this program.",
                       code="already_enrolled") from None
    bonuses.on_enrolled(member, referrer)
    return member


def get_member(merchant: Merchant, member_id: int) -> Member:
    """The merchant's member, or NotFound (also for another merchant's member)."""
    member = db.session.scalar(
        select(Member).join(Program).options(contains_eager(Member.program))
        .where(Member.id == member_id, Program.merchant_id == merchant.id))
    if member is None:
        raise NotFound(f"Member {member_id} not found.")
    return member


def member_by_download_token(token: str) -> Member | None:
    """The member whose card link carries this token."""
    if not token or len(token) > 64:
        return None
    return db.session.scalar(select(Member).where(Member.download_token == token))
