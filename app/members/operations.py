"""Enrolling members and finding them: plain functions that raise domain errors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload

from app.errors import Conflict, NotFound
from app.extensions import db
from app.jobs import PASS_UPDATES, wake
from app.loyalty import bonuses
from app.loyalty.ledger import held_locked, locking, standing_loads
from app.members.schemas import MemberCreate
from app.models import ConsentRecord, Member, Merchant, Program
from app.models.base import utcnow
from app.outbox import record_many


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
    """Enroll a customer in a program; an email already enrolled is a conflict."""
    member_id = enroll_members(program, [request], source=source, location_id=location_id,
                               consents=consents)[0]
    member = db.session.get(Member, member_id)
    assert member is not None
    return member


def enroll_members(program: Program, requests: Sequence[MemberCreate], *, source: str = "api",
                   location_id: int | None = None, consents: Sequence[Consent] = (),
                   import_id: int | None = None) -> list[int]:
    """Enroll customers in a program, one or a chunk of an import at once, and return the
    new members' ids in the order given; an email already enrolled, or given twice, is a
    conflict.

    The one place that decides what an enrollment creates (the member with its referral
    code and referrer, their consent records, the welcome bonus, the member.enrolled
    event, the wallet objects), whether it comes from the API, a signup page, a poster or
    an import. A chunk is a few statements whatever its size: one INSERT of members, one
    of consent records, one of events; only members who get a welcome bonus are loaded
    as objects (the ledger posts it).
    """
    if source not in SOURCES:
        raise ValueError(f"unknown enrollment source {source!r}")
    marketing = any(c.granted for c in consents if c.purpose == "marketing")
    given = [_member_data(r, marketing) for r in requests]
    referrers = [bonuses.referrer_for(program, d.pop("referral_code", None)) for d in given]
    _refuse_enrolled(program, [d["email"] for d in given])
    now = utcnow()
    ids = _insert_members(program, [
        {**d, "program_id": program.id, "source": source, "location_id": location_id,
         "import_id": import_id, "referral_code": bonuses.new_referral_code(),
         "created_at": now, "referred_by_id": referrer.id if referrer else None}
        for d, referrer in zip(given, referrers, strict=True)])
    if consents:
        db.session.execute(insert(ConsentRecord.__table__), [
            {"member_id": i, "purpose": c.purpose, "granted": c.granted, "text": c.text,
             "language": c.language, "source": source, "location_id": location_id,
             "recorded_at": now} for i in ids for c in consents])
    if bonuses.welcome_bonus(program):
        for member in _load_members(ids):
            bonuses.on_enrolled(member)
    record_many(program.merchant_id, "member.enrolled", [(i, {
        "member_id": i, "program_id": program.id, "email": d["email"],
        "external_id": d.get("external_id"), "referred_by_id": r.id if r else None,
        "source": source, "location_id": location_id})
        for i, d, r in zip(ids, given, referrers, strict=True)])
    wake(db.session(), PASS_UPDATES)  # the Google channel inserts the new members' objects
    return ids


def _insert_members(program: Program, rows: list[dict[str, Any]]) -> list[int]:
    """Insert members in one statement (a chunk of an import is one round trip) and return
    their ids in the order given; a taken email is a conflict."""
    stmt = insert(Member.__table__)  # not the ORM entity: on SQLite it inserts row by row
    if db.session.get_bind().dialect.name == "sqlite":
        stmt = stmt.returning(Member.id)  # multi-row INSERTs: faster than executemany here
    try:  # PostgreSQL: psycopg's pipelined executemany (a multi-row statement is slower)
        db.session.execute(stmt, rows)
    except IntegrityError:  # a concurrent enrollment of one of these emails won
        email = rows[0]["email"] if len(rows) == 1 else "An email"
        raise Conflict(f"{email} is already a member of this program.",
                       code="already_enrolled") from None
    ids: dict[str | None, int] = {email: i for email, i in db.session.execute(
        select(Member.email, Member.id).where(
            Member.program_id == program.id,
            Member.email.in_([row["email"] for row in rows])))}
    return [ids[row["email"]] for row in rows]


def _load_members(ids: list[int]) -> list[Member]:
    """New members as objects, in the order given (their program is in the session)."""
    loaded = {m.id: m for m in db.session.scalars(select(Member).where(Member.id.in_(ids)))}
    return [loaded[i] for i in ids]


def _member_data(request: MemberCreate, marketing: bool) -> dict[str, Any]:
    """A member's columns from an enrollment (marketing consent from a granted consent);
    every row has every key, so that a chunk is inserted in few statements."""
    data = {name: None for name in MemberCreate.model_fields} | request.given()
    data["name"] = data.get("name") or ""
    data["marketing_consent"] = marketing or bool(data.get("marketing_consent"))
    return data


def _refuse_enrolled(program: Program, emails: list[str]) -> None:
    """A conflict when one of these emails is a member already (or given twice)."""
    if len(set(emails)) != len(emails):
        raise Conflict("The same email is given twice.", code="already_enrolled")
    existing = db.session.execute(select(Member.id, Member.email).where(
        Member.program_id == program.id, Member.email.in_(emails))).first()
    if existing is not None:
        raise Conflict(f"{existing.email} is already a member of this program (member "
                       f"{existing.id}).", code="already_enrolled",
                       details={"member_id": existing.id})


def get_member(merchant: Merchant, member_id: int, lock: bool = False) -> Member:
    """The merchant's member, or NotFound (also for another merchant's member); with
    `lock`, locked for a point transaction (as ledger.lock_member, in the same query)."""
    row = db.session.execute(_merchant_member(lock),
                             {"member_id": member_id, "merchant_id": merchant.id}
                             ).unique().one_or_none()
    if row is None:
        raise NotFound(f"Member {member_id} not found.")
    return held_locked(*row) if lock else row[0]


@cache
def _merchant_member(lock: bool) -> Select[Any]:
    """get_member's statement (locking, or not), built once (every API call on a member
    runs it)."""
    stmt = (select(Member).join(Program)
            .options(*standing_loads(contains_eager(Member.program)))
            .where(Member.id == bindparam("member_id"),
                   Program.merchant_id == bindparam("merchant_id")))
    return locking(stmt) if lock else stmt


def void_card(member: Member) -> Member:
    """Void a member's card for good (lost, abused): earning and redeeming are refused and
    its card page answers 404; the ledger stays as it was."""
    if member.voided_at is None:
        member.voided_at = utcnow()
        db.session.flush()
    return member


def member_by_download_token(token: str) -> Member | None:
    """The member whose card link carries this token, with what the card shows."""
    if not token or len(token) > 64:
        return None
    return db.session.execute(
        select(Member).where(Member.download_token == token, Member.voided_at.is_(None))
        .options(*standing_loads(tiers=False, rewards=True),
                 joinedload(Member.program).joinedload(Program.store_locations))
    ).unique().scalar_one_or_none()


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
