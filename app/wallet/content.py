"""What a member's card shows, decided once, wallet-neutral; each wallet only maps it.

The card model has three steps:

1. **Snapshot** (app/wallet/snapshot.py): `load_snapshot(member)` reads everything a card
   needs once into a frozen CardSnapshot. It is the only step that touches the database.
2. **Content** (this module): `card_content(snapshot)` is a pure function (no database,
   app, clock or network) deciding what the card shows. Its CardContent names every item
   by meaning (balance, member name, tier, available and next reward, expiring points,
   member since, perks, about, terms) and carries the card's style (colours after the
   tier's override, logo text, image references, the stamp strip), its barcode and its
   store locations.
3. **Mapping**: each wallet turns CardContent into its own format and adds only its own
   mechanics. Apple (app/wallet/apple/passjson.py) puts the items into storeCard field
   groups, adds change messages (`%@`) and builds pass.strings; Google Wallet maps the
   design part to a LoyaltyClass and the member part to a LoyaltyObject (balance ->
   loyaltyPoints, the other lines -> textModulesData, barcode, colours, images by URL);
   the dashboard's preview renders `content.lines()` as HTML.

Texts: each Line's `label` is a source-language text (in `content.language`), and so are
the values of `about` and `terms`, which the merchant wrote (`content.program_texts()`).
Translate them with `i18n.translate(text, lang, content.translations)` (Google's
translatedValues) or let Wallet do it from pass.strings (Apple). All other values are
member data and are never translated. Dates are ISO days (YYYY-MM-DD) in the program's
time zone. Colours are '#RRGGBB'. Images are references (program, design version, kind);
their bytes come from `snapshot.load_design_files`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from app.wallet.snapshot import CardReward, CardSnapshot, Location
from app.wallet.stamps import ART_KIND, StampRow

__all__ = ["Barcode", "CardContent", "ImageRef", "Line", "Location", "StampStrip", "Style",
           "card_content"]


@dataclass(frozen=True)
class Line:
    """One labelled item of the card: a translatable label and the value shown."""

    label: str
    value: str | int


@dataclass(frozen=True)
class ImageRef:
    """One image of a design version: kind is icon, logo, strip or stamp (the artwork)."""

    program_id: int
    design_version: int
    kind: str


@dataclass(frozen=True)
class StampStrip:
    """A stamp card's strip: the row of stamps, drawn in these colours with the design's
    stamp artwork (`art`) when one was uploaded, else with a drawn stamp."""

    row: StampRow
    background_color: str
    foreground_color: str
    art: ImageRef


@dataclass(frozen=True)
class Style:
    """How the card looks: colours after the tier's override, logo text and images (every
    design has an icon, a logo and a strip)."""

    background_color: str
    foreground_color: str
    label_color: str
    logo_text: str
    icon: ImageRef
    logo: ImageRef
    strip: ImageRef | None
    """The design's strip picture; None on a stamp card, whose strip is `stamps`."""
    stamps: StampStrip | None = None
    tier_background_color: str | None = None
    """The background colour the member's tier sets (None: the tier keeps the design's),
    for wallets that keep colours per program and show a tier's colour another way."""


@dataclass(frozen=True)
class Barcode:
    """The code a till scans: format is qr, pdf417, aztec or code128."""

    format: str
    value: str
    alt_text: str


@dataclass(frozen=True)
class CardContent:
    """Everything a member's card shows, named by meaning (None: the card omits it)."""

    program_id: int
    design_version: int
    serial_number: str
    program_name: str
    organization_name: str
    description: str
    language: str
    """The source language of labels and program texts."""
    member_language: str | None
    translations: Mapping[str, Mapping[str, str]]
    """The merchant's translations: {language: {source text: translation}}."""
    balance: Line
    """Points (an int), or on a stamp card stamps as 'collected/required'."""
    member_name: Line
    tier: Line | None
    available_reward: Line | None
    """The best reward the member can take now."""
    next_reward: Line | None
    """The cheapest reward the member cannot take yet."""
    expiring_points: Line | None
    member_since: Line
    perks: Line | None
    about: Line | None
    terms: Line | None
    style: Style
    barcode: Barcode
    locations: tuple[Location, ...] = field(default=())

    @property
    def is_stamp_card(self) -> bool:
        """True when the balance counts stamps rather than points."""
        return self.style.stamps is not None

    def lines(self) -> list[tuple[str, Line]]:
        """(meaning, line) of every item shown, in reading order (for previews)."""
        names = ("balance", "member_name", "tier", "available_reward", "next_reward",
                 "expiring_points", "member_since", "perks", "about", "terms")
        return [(n, line) for n in names if (line := getattr(self, n)) is not None]

    def program_texts(self) -> list[str]:
        """Texts the merchant wrote that the card shows as values (translatable)."""
        return [line.value for line in (self.about, self.terms)
                if line is not None and isinstance(line.value, str)]


def card_content(snapshot: CardSnapshot) -> CardContent:
    """Decide what a member's card shows, from its snapshot alone."""
    design, member = snapshot.design, snapshot.member
    zone = ZoneInfo(snapshot.timezone)
    stamps = _stamp_row(snapshot)
    return CardContent(
        program_id=design.program_id, design_version=design.design_version,
        serial_number=member.serial_number, program_name=design.name,
        organization_name=design.organization_name, description=design.description,
        language=design.language or "en", member_language=member.language,
        translations=design.translations,
        balance=_balance(snapshot, stamps),
        member_name=Line("Member", member.name or member.email or ""),
        tier=Line("Tier", snapshot.tier.name) if snapshot.tier else None,
        available_reward=_reward("Rewards", _available(snapshot)),
        next_reward=_reward("Next reward", _next(snapshot)),
        expiring_points=_expiring(snapshot, zone),
        member_since=Line("Member since", _day(member.created_at, zone)),
        perks=Line("Perks", snapshot.tier.perks) if snapshot.tier and snapshot.tier.perks
        else None,
        about=Line("About", design.back_text) if design.back_text else None,
        terms=Line("Terms and conditions", design.terms) if design.terms else None,
        style=_style(snapshot, stamps),
        barcode=Barcode(design.barcode_format, member.serial_number,
                        member.serial_number[:12].upper()),
        locations=design.locations,
    )


def _day(moment: datetime, zone: ZoneInfo) -> str:
    """The ISO day of a moment in the program's time zone."""
    return moment.astimezone(zone).date().isoformat()


def _balance(snapshot: CardSnapshot, stamps: StampRow | None) -> Line:
    """Points, or stamps collected out of a full card."""
    if stamps is not None:
        return Line("Stamps", f"{snapshot.member.points}/{stamps.required}")
    return Line(snapshot.design.points_label or "Points", snapshot.member.points)


def _available(snapshot: CardSnapshot) -> CardReward | None:
    """The dearest reward the member's points pay for now."""
    affordable = [r for r in snapshot.rewards if r.points_cost <= snapshot.member.points]
    return max(affordable, key=lambda r: (r.points_cost, r.id), default=None)


def _next(snapshot: CardSnapshot) -> CardReward | None:
    """The cheapest reward the member's points do not pay for yet."""
    ahead = [r for r in snapshot.rewards if r.points_cost > snapshot.member.points]
    return min(ahead, key=lambda r: (r.points_cost, r.id), default=None)


def _reward(label: str, reward: CardReward | None) -> Line | None:
    """A reward line, or None."""
    return Line(label, reward.name) if reward is not None else None


def _expiring(snapshot: CardSnapshot, zone: ZoneInfo) -> Line | None:
    """'points · day' of the member's next expiring points, or None."""
    soonest = snapshot.expiring
    if soonest is None:
        return None
    return Line("Points expiring", f"{soonest.points} · {_day(soonest.expires_at, zone)}")


def _stamp_row(snapshot: CardSnapshot) -> StampRow | None:
    """The row of stamps a stamp card shows (rings where rewards fall), or None."""
    required = snapshot.design.stamps_required
    if required is None:
        return None
    positions = tuple(sorted({r.points_cost for r in snapshot.rewards
                              if r.points_cost <= required}))
    return StampRow(min(snapshot.member.points, required), required, positions)


def _style(snapshot: CardSnapshot, stamps: StampRow | None) -> Style:
    """Colours (the tier's win over the design's), logo text and image references."""
    design, tier = snapshot.design, snapshot.tier

    def image(kind: str) -> ImageRef:
        return ImageRef(design.program_id, design.design_version, kind)

    strip = None
    if stamps is not None:  # the strip uses the design's colours, not the tier's
        strip = StampStrip(stamps, design.background_color, design.foreground_color,
                           image(ART_KIND))
    return Style(
        background_color=(tier and tier.background_color) or design.background_color,
        foreground_color=(tier and tier.foreground_color) or design.foreground_color,
        label_color=(tier and tier.label_color) or design.label_color,
        logo_text=design.logo_text or design.organization_name,
        icon=image("icon"), logo=image("logo"),
        strip=image("strip") if stamps is None else None, stamps=strip,
        tier_background_color=tier.background_color if tier else None)
