"""Enrolling members and finding them: plain functions that raise domain errors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from app.errors import Conflict, NotFound
from app.extensions import db
from app.jobs import PASS_UPDATES, wake
from app.loyalty import bonuses
from app.loyalty.ledger import held_locked, locking, standing_loads
from app.members.schemas import MemberCreate
from app.models import ConsentRecord, Member, Merchant, Program
from app.outbox import record


@dataclass(frozen=True)
class Consent:
    """A consent as the customer saw it: its purpose, the answer, the exact text and its
    language (an import states the list's basis as the text)."""

    purpose: str
    granted: bool
    text: str
    language: str


SOURCES = ("api", "link", "poster", "import", "dashboard")


def enroll_member(program: Program, request: MemberCreate, *, source: str = "api",
                  location_id: int | None = None, consents: Sequence[Consent] = ()) -> Member:
    """Enroll a customer in a program; an email already enrolled is a conflict.

    The one place that decides what an enrollment creates (the member, their consent
    records, the welcome and referral bonuses, the member.enrolled event, the wallet
    objects), whether it comes from the API, a signup page, a poster or an import.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown enrollment source {source!r}")
    data = request.given()
    data["name"] = data.get("name") or ""
    data["marketing_consent"] = any(c.granted for c in consents if c.purpose == "marketing") \
        or bool(data.get("marketing_consent"))
    referrer = bonuses.referrer_for(program, data.pop("referral_code", None))
    existing = db.session.scalar(
        select(Member.id).where(Member.program_id == program.id, Member.email == data["email"]))
    if existing is not None:
        raise Conflict(f"{data['email']} is already a member of this program (member "
                       f"{existing}).", code="already_enrolled", details={"member_id": existing})
    member = Member(program=program, source=source, location_id=location_id, **data)
    db.session.add(member)
    try:
        db.session.flush()  # a concurrent enrollment of this email loses here
    except IntegrityError:  # the request's transaction is rolled back by the write wrapper
        raise Conflict(f"{data['email']} is already a member of this program.",
                       code="already_enrolled") from None
    db.session.add_all(ConsentRecord(member_id=member.id, purpose=c.purpose,
                                     granted=c.granted, text=c.text, language=c.language,
                                     source=source, location_id=location_id)
                       for c in consents)
    bonuses.on_enrolled(member, referrer)
    record(program.merchant_id, "member.enrolled", {
        "member_id": member.id, "program_id": member.program_id, "email": member.email,
        "external_id": member.external_id, "referred_by_id": member.referred_by_id,
        "source": source, "location_id": location_id},
        member_id=member.id)
    wake(db.session(), PASS_UPDATES)  # the Google channel inserts the new member's object
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


SEARCHED = (Member.email, Member.name, Member.phone, Member.serial_number, Member.external_id)


def list_members(program: Program, query: str | None, after: int | None,
                 limit: int) -> list[Member]:
    """A page of a program's members in id order (after the id `after`), optionally only
    those whose email, name, phone, serial or external id contains `query` (any case)."""
    stmt = (select(Member).where(Member.program_id == program.id)
            .options(*standing_loads()).order_by(Member.id).limit(limit))
    if after is not None:
        stmt = stmt.where(Member.id > after)
    if query:
        needle = query.strip().lower()
        stmt = stmt.where(or_(*(func.lower(c).contains(needle, autoescape=True)
                                for c in SEARCHED)))
    return list(db.session.execute(stmt).unique().scalars())
