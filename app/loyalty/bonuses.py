"""Bonuses: welcome on enrollment, referral on the referred member's first purchase,
birthday once a year."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import extract, or_, select

from app.errors import ValidationError
from app.extensions import db
from app.loyalty.ledger import Posting, lock_member, post
from app.loyalty.rules import defaults, rules_of
from app.models import LoyaltyRules, Member, Program
from app.models.base import utcnow

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
CODE_LENGTH = 8
assert len(CODE_ALPHABET) == 32


def new_referral_code() -> str:
    """A random referral code such as 'K7QM2XHP' (40 bits)."""
    bits = secrets.randbits(5 * CODE_LENGTH)  # 32 letters: 5 bits each, one random draw
    return "".join(CODE_ALPHABET[(bits >> 5 * i) & 31] for i in range(CODE_LENGTH))


def referrer_for(program: Program, code: str | None) -> Member | None:
    """The member of this program whose referral code this is (422 when none is)."""
    if code is None:
        return None
    referrer = db.session.scalar(select(Member).where(Member.referral_code == code,
                                                      Member.program_id == program.id))
    if referrer is None:
        raise ValidationError(f"Referral code {code!r} is not valid for this program.",
                              code="unknown_referral_code")
    return referrer


def welcome_bonus(program: Program) -> int:
    """The points a new member of this program gets (0: none)."""
    rules = program.rules  # not rules_of: no default rules object per enrollment
    return int(rules.welcome_bonus if rules is not None else defaults()["welcome_bonus"])


def on_enrolled(member: Member) -> None:
    """Give a new (flushed) member the program's welcome bonus, if it has one."""
    bonus = welcome_bonus(member.program)
    if bonus:
        post(member, Posting("bonus_welcome", bonus, source="system", reason="Welcome bonus"))


def credit_referrer(member: Member) -> bool:
    """On a referred member's first purchase, credit their referrer once."""
    if member.referred_by_id is None or member.referral_credited_at is not None:
        return False
    member.referral_credited_at = utcnow()
    bonus = rules_of(member.program).referral_bonus
    if not bonus:
        return False
    referrer = lock_member(member.referred_by_id)
    post(referrer, Posting("bonus_referral", bonus, source="system",
                           reason=f"Referral of member {member.id}"))
    return True


def birthdays_due(today: date, limit: int = 500, timezone: str | None = None) -> list[int]:
    """Members whose birthday is today (in programs of this time zone, if given) and who have
    not had this year's bonus."""
    days = [today.day] + ([29] if (today.month, today.day) == (2, 28) and not _leap(today.year)
                          else [])
    stmt = (select(Member.id).join(LoyaltyRules, LoyaltyRules.program_id == Member.program_id)
            .where(LoyaltyRules.birthday_bonus > 0, Member.birthday.is_not(None),
                   extract("month", Member.birthday) == today.month,
                   extract("day", Member.birthday).in_(days),
                   or_(Member.birthday_bonus_year.is_(None),
                       Member.birthday_bonus_year < today.year)))
    if timezone is not None:
        stmt = stmt.join(Program, Program.id == Member.program_id).where(
            Program.timezone == timezone)
    return list(db.session.scalars(stmt.order_by(Member.id).limit(limit)))


def birthday_zones() -> list[str]:
    """The time zones of the programs that give a birthday bonus."""
    return list(db.session.scalars(
        select(Program.timezone).join(LoyaltyRules, LoyaltyRules.program_id == Program.id)
        .where(LoyaltyRules.birthday_bonus > 0).distinct().order_by(Program.timezone)))


def _leap(year: int) -> bool:
    """Whether a year has 29 February."""
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def give_birthday_bonus(member_id: int, now: datetime | None = None) -> bool:
    """This year's birthday bonus for one member, at most once (re-checked under the lock);
    the year is the program's (its time zone's) year."""
    now = now or utcnow()
    member = lock_member(member_id)
    year = now.astimezone(member.program.zone).year
    if member.birthday_bonus_year is not None and member.birthday_bonus_year >= year:
        return False
    member.birthday_bonus_year = year
    bonus = rules_of(member.program).birthday_bonus
    if bonus:
        post(member, Posting("bonus_birthday", bonus, source="system",
                             reason=f"Birthday bonus {year}"), now)
    return True
