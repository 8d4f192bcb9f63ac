"""Everything a member's card needs, read from the database once into frozen data.

`load_snapshot(member)` is the only place card data is queried; `card_content` (content.py)
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

from sqlalchemy import select

from app.extensions import db
from app.loyalty.expiry import next_expiry
from app.loyalty.rules import rules_of
from app.models import Member, Program, ProgramImage, Tier


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
    """Read what a member's card needs, once."""
    program = member.program
    zone = program.zone
    soonest = next_expiry(member.id, zone)
    return CardSnapshot(
        member=_member(member),
        design=_design(program),
        tier=_tier(member.tier),
        rewards=tuple(CardReward(r.id, r.name, r.points_cost) for r in program.rewards),
        expiring=ExpiringPoints(*soonest) if soonest else None,
        timezone=zone.key,
    )


def _member(member: Member) -> CardMember:
    """The member part of a snapshot."""
    return CardMember(id=member.id, serial_number=member.serial_number,
                      auth_token=member.auth_token, name=member.name or "", email=member.email,
                      points=member.points, created_at=member.created_at,
                      language=member.language)


def _design(program: Program) -> CardDesign:
    """The design part of a snapshot (no images: see load_design_files)."""
    rules = rules_of(program)
    return CardDesign(
        program_id=program.id, design_version=program.design_version, name=program.name,
        organization_name=program.organization_name, description=program.description,
        logo_text=program.logo_text or "", background_color=program.background_color,
        foreground_color=program.foreground_color, label_color=program.label_color,
        points_label=program.points_label or "", barcode_format=program.barcode_format,
        language=program.language or "en", back_text=program.back_text or "",
        terms=program.terms or "", locations=tuple(
            Location(loc.latitude, loc.longitude, loc.relevant_text or "")
            for loc in program.store_locations),
        translations=program.translations or {},
        stamps_required=rules.stamps_required if rules.mode == "stamps" else None)


def _tier(tier: Tier | None) -> CardTier | None:
    """The tier part of a snapshot."""
    if tier is None:
        return None
    return CardTier(name=tier.name, perks=tier.perks or "",
                    background_color=tier.background_color,
                    foreground_color=tier.foreground_color, label_color=tier.label_color)


def load_design_files(program_id: int) -> dict[str, bytes]:
    """Every stored image file of a program's design (filename -> bytes), stamp art too."""
    rows = db.session.execute(select(ProgramImage.filename, ProgramImage.data)
                              .where(ProgramImage.program_id == program_id))
    return {filename: data for filename, data in rows}
