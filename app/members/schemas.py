"""The shapes of a member: an enrollment as sent, and a member as answered."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel

from app.i18n import gettext_noop
from app.validation import EMAIL_ADDRESS, FLAG, Input, Rule, RuleError, normalize_phone, text
from app.wallet import i18n


def _language(value: Any) -> str:
    """A card language tag, normalized to one the cards speak (e.g. 'zh-TW' -> 'zh-Hant')."""
    lang = i18n.normalize_language(value) if isinstance(value, str) else None
    if lang is None:
        raise RuleError(gettext_noop(
            "must be one of: {choices} (regional tags such as zh-TW or th_TH are "
            "understood)."), choices=", ".join(i18n.LANGUAGES))
    return lang


def _referral_code(value: Any) -> str:
    """A referral code as members type it (case and spaces ignored)."""
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= 16:
        raise RuleError(gettext_noop('must be a referral code such as "K7QM2XHP".'))
    return value.strip().upper().replace(" ", "")


def _birthday(value: Any) -> date:
    """A date of birth written YYYY-MM-DD (a date object from forms is fine too)."""
    try:
        born = date.fromisoformat(value) if isinstance(value, str) else value
    except ValueError:
        born = None
    if not isinstance(born, date) or not date(1900, 1, 1) <= born <= date.today():
        raise RuleError(gettext_noop("must be a past date written YYYY-MM-DD."))
    return born


PHONE = Rule(normalize_phone, {"type": "string", "maxLength": 32,
                             "examples": ["+66812345678"],
                             "description": "International form (E.164); spaces and dashes "
                                            "are fine"})
LANGUAGE = Rule(_language, {"type": "string", "maxLength": 35, "examples": list(i18n.LANGUAGES),
                            "description": "A card language; regional tags are mapped "
                                           "(zh-TW -> zh-Hant)"})
REFERRAL_CODE = Rule(_referral_code, {"type": "string", "minLength": 1, "maxLength": 16})
BIRTHDAY = Rule(_birthday, {"type": "string", "format": "date"})


class MemberCreate(Input):
    """An enrollment: the customer's email and what else the merchant knows."""

    email: Annotated[str, EMAIL_ADDRESS]
    name: Annotated[str | None, text(200, required=False).or_null()] = None
    external_id: Annotated[str | None, text(200).or_null()] = None
    language: Annotated[str | None, LANGUAGE.or_null()] = None
    referral_code: Annotated[str | None, REFERRAL_CODE.or_null()] = None
    birthday: Annotated[date | None, BIRTHDAY.or_null()] = None
    phone: Annotated[str | None, PHONE.or_null()] = None
    marketing_consent: Annotated[bool | None, FLAG.or_null()] = None
    """Whether the customer agreed to marketing mail (recorded with the consent text the
    caller showed; see `enroll_member`)."""


class TierHeld(BaseModel):
    """The member's tier and until when it is held (null: lifetime)."""

    id: int
    name: str
    perks: str
    until: datetime | None


class NextTier(BaseModel):
    """The next tier and what it still takes (points, or amount on spend-based programs)."""

    name: str
    points_needed: int | None = None
    amount_needed: str | None = None


class ExpiringPoints(BaseModel):
    """Points that expire at the end of a day (in the program's time zone)."""

    points: int
    expires_at: date


class Stamps(BaseModel):
    """A stamp card's count and how many make a reward."""

    count: int
    required: int


class Member(BaseModel):
    """A member, their balance, their loyalty standing and the links to their card."""

    id: int
    program_id: int
    serial_number: str
    name: str
    email: str | None
    external_id: str | None
    language: str | None
    points: int
    pass_version: int
    pass_updated_at: datetime
    created_at: datetime
    tier: TierHeld | None
    next_tier: NextTier | None
    expiring_points: list[ExpiringPoints]
    referral_code: str | None
    birthday: date | None
    phone: str | None = None
    source: str = "api"
    location_id: int | None = None
    marketing_consent: bool = False
    stamps: Stamps | None = None
    links: dict[str, str]


class MemberList(BaseModel):
    """Members found."""

    members: list[Member]


class MemberPage(BaseModel):
    """A page of a program's members; next_after is the `after` of the next page (null:
    this was the last)."""

    members: list[Member]
    next_after: int | None
