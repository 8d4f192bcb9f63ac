"""What a member's card shows, decided once and rendered by both wallets."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.loyalty.expiry import next_expiry
from app.loyalty.stamps import StampRow, stamp_row
from app.models import Member, Program

LOYALTY_TEXTS = ["Tier", "Your tier is now %@", "Perks", "Rewards", "New reward available: %@",
                 "Points expiring"]
"""Labels and change messages some members' cards show: every bundle carries them, since
one static bundle (pass.strings) serves all the program's cards."""


@dataclass(frozen=True)
class Field:
    """One labelled value on the card; change_message (with %@) makes updates visible."""

    key: str
    label: str
    value: str | int
    change_message: str | None = None


@dataclass(frozen=True)
class CardContent:
    """Everything shown on a card, wallet-neutral."""

    header: list[Field]
    primary: list[Field]
    secondary: list[Field]
    auxiliary: list[Field]
    back: list[Field]
    barcode_value: str
    barcode_alt_text: str
    translatable: list[str] = field(default_factory=list)
    colors: dict[str, str] = field(default_factory=dict)
    """Colour overrides of the member's tier: background_color, foreground_color, label_color."""
    stamps: StampRow | None = None
    """A stamp card's row of stamps, drawn in the strip (None for points cards)."""


def card_content(program: Program, member: Member) -> CardContent:
    """The fields of a member's card, in the program's source language."""
    stamps = stamp_row(program, member.points)
    label = "Stamps" if stamps else program.points_label or "Points"
    value: str | int = f"{member.points}/{stamps.required}" if stamps else member.points
    points = Field("points", label, value, change_message=(
        "You now have %@ stamps" if stamps else "You now have %@ points"))
    secondary = [Field("member", "Member", member.name or member.email or "")]
    tier = member.tier
    if tier is not None:
        secondary.append(Field("tier", "Tier", tier.name, change_message="Your tier is now %@"))
    back = [Field("member_since", "Member since", member.created_at.date().isoformat())]
    if tier is not None and tier.perks:
        back.append(Field("perks", "Perks", tier.perks))
    if program.back_text:
        back.append(Field("about", "About", program.back_text))
    if program.terms:
        back.append(Field("terms", "Terms and conditions", program.terms))
    content = CardContent(
        header=[Field("header_points", label, value)],
        primary=[points],
        secondary=secondary,
        auxiliary=_auxiliary(program, member),
        back=back,
        barcode_value=member.serial_number,
        barcode_alt_text=member.serial_number[:12].upper(),
        colors=_tier_colors(member),
        stamps=stamps,
    )
    return _with_translatable(content, [program.back_text, program.terms])


def _auxiliary(program: Program, member: Member) -> list[Field]:
    """The reward the member can take now, and their next points to expire."""
    out = []
    affordable = [r for r in program.rewards if r.points_cost <= member.points]
    if affordable:
        best = max(affordable, key=lambda r: (r.points_cost, r.id))
        out.append(Field("reward", "Rewards", best.name,
                         change_message="New reward available: %@"))
    soonest = next_expiry(member)
    if soonest is not None:
        out.append(Field("expiring", "Points expiring", f"{soonest[0]} · {soonest[1]}"))
    return out


def _tier_colors(member: Member) -> dict[str, str]:
    """The colours the member's tier gives the card (only those it sets)."""
    tier = member.tier
    if tier is None:
        return {}
    colors = {"background_color": tier.background_color,
              "foreground_color": tier.foreground_color, "label_color": tier.label_color}
    return {k: c for k, c in colors.items() if c}


def _with_translatable(content: CardContent, program_texts: list[str]) -> CardContent:
    """Attach the source texts the localization files must cover: labels, change messages
    and program-level texts (never member data, so one bundle serves the whole program)."""
    texts: list[str] = []
    for group in (content.header, content.primary, content.secondary, content.auxiliary,
                  content.back):
        for f in group:
            texts.append(f.label)
            if f.change_message:
                texts.append(f.change_message)
    texts += LOYALTY_TEXTS  # whether or not this member's card shows them yet
    texts += [t for t in program_texts if t]
    return CardContent(**{**content.__dict__, "translatable": sorted(set(texts))})
