"""Everything a member's card needs, read from the database once into frozen data.

`load_snapshot(member)` (or `snapshot_by_download_token`) is the only place card data is
queried, in one statement; `card_content` (content.py)
and every wallet mapping work on the CardSnapshot it returns, so they need no app, database
or certificate, and tests can build snapshots by hand. Image bytes are not part of a
snapshot: every design has an icon, a logo and a strip (made from its template, replaced
by uploads) and maybe stamp artwork; a wallet fetches their bytes once per design version
with `load_design_files`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Row, Select, bindparam, func, select

from app.extensions import db
from app.loyalty.expiry import expiring_on_first_day
from app.loyalty.rules import defaults
from app.models import (
    LedgerEntry,
    LoyaltyRules,
    Member,
    Program,
    ProgramImage,
    Reward,
    StoreLocation,
    Tier,
)
from app.models.program import zone_of
from app.sqljson import exact_float, json_array_agg, json_row, json_rows


@dataclass(frozen=True)
class Location:
    """A store location that makes the card relevant nearby."""

    latitude: float
    longitude: float
    relevant_text: str = ""


@dataclass(frozen=True)
class CardMember:
    """The member's own data shown on (or identifying) the card."""

    id: int
    serial_number: str
    auth_token: str
    name: str
    email: str | None
    points: int
    created_at: datetime
    language: str | None = None


@dataclass(frozen=True)
class CardDesign:
    """The program's card design and the loyalty settings that change what the card shows."""

    program_id: int
    design_version: int
    name: str
    organization_name: str
    description: str
    logo_text: str
    background_color: str
    foreground_color: str
    label_color: str
    points_label: str = "Points"
    barcode_format: str = "qr"
    language: str = "en"
    back_text: str = ""
    terms: str = ""
    locations: tuple[Location, ...] = ()
    translations: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    stamps_required: int | None = None
    """Stamps on a full card, or None for a points card."""


@dataclass(frozen=True)
class CardTier:
    """The member's tier: its name, perks and the colours it gives the card (None: keep)."""

    name: str
    perks: str = ""
    background_color: str | None = None
    foreground_color: str | None = None
    label_color: str | None = None


@dataclass(frozen=True)
class CardReward:
    """One active reward of the program's catalog."""

    id: int
    name: str
    points_cost: int


@dataclass(frozen=True)
class ExpiringPoints:
    """The member's next expiring points: how many, and when the first of them expire."""

    points: int
    expires_at: datetime


@dataclass(frozen=True)
class CardSnapshot:
    """All a card needs, loaded once: member, design, tier, rewards, expiring points, zone."""

    member: CardMember
    design: CardDesign
    tier: CardTier | None = None
    rewards: tuple[CardReward, ...] = ()
    """The program's active rewards, cheapest first."""
    expiring: ExpiringPoints | None = None
    timezone: str = "UTC"
    """The program's IANA time zone: the card shows dates as days in this zone."""


def load_snapshot(member: Member) -> CardSnapshot:
    """Read what a member's card needs, once (one statement; two when points expire)."""
    found = _load(by_id(), {"member_id": member.id})
    if found is None:
        raise LookupError(f"member {member.id} has no row (deleted meanwhile?)")
    return found[0]


def snapshot_by_download_token(token: str) -> tuple[CardSnapshot, datetime] | None:
    """The card of the member whose card link carries this token (a voided card has none),
    and when its pass last changed; None when no card has this token."""
    if not token or len(token) > 64:
        return None
    return _load(by_token(), {"token": token})


MEMBER, PROGRAM, RULES = Member.__table__, Program.__table__, LoyaltyRules.__table__
TIER, REWARD, LOCATION = Tier.__table__, Reward.__table__, StoreLocation.__table__
LOT = LedgerEntry.__table__
MEMBER_COLUMNS = ("id", "serial_number", "auth_token", "name", "email", "points",
                  "created_at", "language", "pass_updated_at")
DESIGN_COLUMNS = ("design_version", "name", "organization_name", "description", "logo_text",
                  "background_color", "foreground_color", "label_color", "points_label",
                  "barcode_format", "language", "back_text", "terms", "translations",
                  "timezone")
TIER_COLUMNS = ("name", "perks", "background_color", "foreground_color", "label_color")
DEFAULT_RULES = defaults()


@cache
def by_id() -> Select[Any]:
    """The card statement of one member, by id (built once)."""
    return _card_statement().where(MEMBER.c.id == bindparam("member_id"))


@cache
def by_token() -> Select[Any]:
    """The card statement of one card link's member, voided cards left out (built once)."""
    return _card_statement().where(MEMBER.c.download_token == bindparam("token"),
                                   MEMBER.c.voided_at.is_(None))


def _card_statement() -> Select[Any]:
    """Member, program, rules, tier, the first expiry and the program's active rewards and
    store locations (as JSON arrays), in one row."""
    first_expiry = (select(func.min(LOT.c.expires_at))
                    .where(LOT.c.member_id == MEMBER.c.id, LOT.c.remaining > 0,
                           LOT.c.expires_at.is_not(None)).scalar_subquery())
    rewards = (select(json_array_agg(json_row(REWARD.c.id, REWARD.c.name,
                                              REWARD.c.points_cost)))
               .where(REWARD.c.program_id == PROGRAM.c.id, REWARD.c.active.is_(True))
               .scalar_subquery())
    locations = (select(json_array_agg(json_row(LOCATION.c.id,
                                                exact_float(LOCATION.c.latitude),
                                                exact_float(LOCATION.c.longitude),
                                                LOCATION.c.relevant_text)))
                 .where(LOCATION.c.program_id == PROGRAM.c.id).scalar_subquery())
    return (select(*(MEMBER.c[n].label(f"m_{n}") for n in MEMBER_COLUMNS), PROGRAM.c.id,
                   *(PROGRAM.c[n] for n in DESIGN_COLUMNS), RULES.c.mode,
                   RULES.c.stamps_required,
                   *(TIER.c[n].label(f"tier_{n}") for n in TIER_COLUMNS),
                   first_expiry.label("first_expiry"), rewards.label("rewards"),
                   locations.label("locations"))
            .select_from(MEMBER.join(PROGRAM, PROGRAM.c.id == MEMBER.c.program_id)
                         .outerjoin(RULES, RULES.c.program_id == PROGRAM.c.id)
                         .outerjoin(TIER, TIER.c.id == MEMBER.c.tier_id)))


def _load(statement: Select[Any], params: dict[str, Any]
          ) -> tuple[CardSnapshot, datetime] | None:
    """The snapshot of the one member the statement finds, and its pass's last change."""
    row = db.session.execute(statement, params).one_or_none()
    if row is None:
        return None
    zone = zone_of(row.timezone)
    soonest = expiring_on_first_day(row.m_id, zone, row.first_expiry)
    rewards = sorted(json_rows(row.rewards), key=lambda r: (r[2], r[0]))
    snapshot = CardSnapshot(
        member=CardMember(id=row.m_id, serial_number=row.m_serial_number,
                          auth_token=row.m_auth_token, name=row.m_name or "",
                          email=row.m_email, points=row.m_points,
                          created_at=row.m_created_at, language=row.m_language),
        design=_design(row),
        tier=None if row.tier_name is None else CardTier(
            name=row.tier_name, perks=row.tier_perks or "",
            background_color=row.tier_background_color,
            foreground_color=row.tier_foreground_color, label_color=row.tier_label_color),
        rewards=tuple(CardReward(r[0], r[1], r[2]) for r in rewards),
        expiring=ExpiringPoints(*soonest) if soonest else None,
        timezone=zone.key,
    )
    return snapshot, row.m_pass_updated_at


def _design(row: Row[Any]) -> CardDesign:
    """The design part of a snapshot (no images: see load_design_files)."""
    if row.mode is None:  # no rules saved: the defaults
        mode, stamps = DEFAULT_RULES["mode"], DEFAULT_RULES["stamps_required"]
    else:
        mode, stamps = row.mode, row.stamps_required
    return CardDesign(
        program_id=row.id, design_version=row.design_version, name=row.name,
        organization_name=row.organization_name, description=row.description,
        logo_text=row.logo_text or "", background_color=row.background_color,
        foreground_color=row.foreground_color, label_color=row.label_color,
        points_label=row.points_label or "", barcode_format=row.barcode_format,
        language=row.language or "en", back_text=row.back_text or "",
        terms=row.terms or "", locations=tuple(
            Location(float(lat), float(lon), text or "")
            for _id, lat, lon, text in sorted(json_rows(row.locations))),
        translations=row.translations or {},
        stamps_required=stamps if mode == "stamps" else None)


def load_design_files(program_id: int) -> dict[str, bytes]:
    """Every stored image file of a program's design (filename -> bytes), stamp art too."""
    rows = db.session.execute(select(ProgramImage.filename, ProgramImage.data)
                              .where(ProgramImage.program_id == program_id))
    return {filename: data for filename, data in rows}
