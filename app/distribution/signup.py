"""The public signup page's work: who may post, what a signup creates, and what it tells.

A signup goes through `enroll_member` like every other enrollment (consent records, the
member.enrolled event, bonuses). An e-mail address that already has a card gets no
second one: a member.card_link_requested event asks the mail channel to send the
existing card's link, and the page says a link was sent, in the same words whether the
address was known or not. Posts are counted per client address and program in
signup_attempts (kept RATE_WINDOW) to hold off floods; plain functions, they only flush.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select

from app import links
from app.extensions import db
from app.members.operations import Consent, enroll_member
from app.members.schemas import MemberCreate
from app.models import Member, Program, SignupAttempt, StoreLocation
from app.models.base import utcnow
from app.outbox import record

RATE_WINDOW = timedelta(minutes=10)
CARD_LINK_REQUESTED = "member.card_link_requested"

# The region a locally typed phone number is dialled in, from the program's currency.
PHONE_REGIONS = {"THB": "TH", "VND": "VN", "MYR": "MY", "TWD": "TW", "HKD": "HK",
                 "SGD": "SG", "IDR": "ID", "PHP": "PH"}


def phone_region(program: Program) -> str | None:
    """Where the program's customers dial local numbers (None: international form only)."""
    return PHONE_REGIONS.get(program.currency)


def allow_attempt(program_id: int, client: str, limit: int) -> bool:
    """Count a signup post from a client address; False when it is over the limit (posts
    per program and RATE_WINDOW)."""
    now = utcnow()
    db.session.execute(delete(SignupAttempt).where(SignupAttempt.created_at < now - RATE_WINDOW)
                       .execution_options(synchronize_session=False))
    recent = db.session.scalar(select(func.count()).select_from(SignupAttempt).where(
        SignupAttempt.program_id == program_id, SignupAttempt.client == client[:64])) or 0
    if recent >= limit:
        return False
    db.session.add(SignupAttempt(program_id=program_id, client=client[:64], created_at=now))
    db.session.flush()
    return True


def location_of(program: Program, tag: str | None) -> StoreLocation | None:
    """The program's store location a `?loc=` tag names (unknown or foreign: none)."""
    if not tag or not tag.isascii() or not tag.isdigit() or len(tag) > 9:
        return None
    return db.session.scalar(select(StoreLocation).where(
        StoreLocation.id == int(tag), StoreLocation.program_id == program.id))


def known_referral(program: Program, code: str | None) -> str | None:
    """The referral code from a `?ref=` link, if it is one of this program's members'."""
    code = (code or "").strip().upper().replace(" ", "")
    if not code or len(code) > 16:
        return None
    found = db.session.scalar(select(Member.id).where(
        Member.program_id == program.id, Member.referral_code == code))
    return code if found is not None else None


@dataclass(frozen=True)
class Signup:
    """What a signup did: a new card (member), or a link sent to a known address (None)."""

    member: Member | None


def sign_up(program: Program, request: MemberCreate, *, language: str,
            location: StoreLocation | None, consent_text: str | None) -> Signup:
    """Enroll a customer from the signup page, or send a known address its card link.

    consent_text is the marketing sentence the page showed (None when it showed none);
    the answer is recorded with its language, the time, the source and the location.
    """
    existing = db.session.scalar(select(Member).where(
        Member.program_id == program.id, Member.email == request.email))
    if existing is not None:
        record(program.merchant_id, CARD_LINK_REQUESTED, {
            "member_id": existing.id, "program_id": program.id, "email": existing.email,
            "card_link": links.card_page_link(existing), "language": language,
            "source": "poster" if location else "link"}, member_id=existing.id)
        return Signup(None)
    consents = [] if consent_text is None else [Consent(
        "marketing", bool(request.marketing_consent), consent_text, language)]
    member = enroll_member(program, request, source="poster" if location else "link",
                           location_id=location.id if location else None, consents=consents)
    return Signup(member)
