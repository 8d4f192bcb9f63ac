"""The designer's live preview: a sample member's card built from the draft design by the
same card model as the real passes (snapshot -> card_content -> each wallet's mapping),
rendered as HTML: the Apple card front and back and the Google card, per card language."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import qrcode
import qrcode.image.svg
from markupsafe import Markup

from app.models import Program
from app.wallet import i18n
from app.wallet.apple.passjson import field_groups
from app.wallet.content import CardContent, card_content
from app.wallet.google.mapping import card_fields
from app.wallet.snapshot import CardDesign, CardMember, CardReward, CardSnapshot, CardTier

SAMPLE_POINTS = 120


@dataclass(frozen=True)
class Field:
    """One field as the preview shows it: translated label and value."""

    key: str
    label: str
    value: str


def sample_snapshot(program: Program, design: dict[str, Any]) -> CardSnapshot:
    """A sample member's card snapshot with the draft design (no database write)."""
    member = CardMember(id=0, serial_number="PREVIEW0SAMPLE00", auth_token="-",
                        name="Alex Tan", email=None, points=SAMPLE_POINTS,
                        created_at=datetime(2026, 1, 15, 9, tzinfo=UTC))
    card = CardDesign(
        program_id=program.id, design_version=program.design_version,
        name=design["name"], organization_name=design["organization_name"],
        description=design["description"], logo_text=design.get("logo_text") or "",
        background_color=design["background_color"],
        foreground_color=design["foreground_color"], label_color=design["label_color"],
        points_label=design.get("points_label") or "", barcode_format=design["barcode_format"],
        language=design.get("language") or "en", back_text=design.get("back_text") or "",
        terms=design.get("terms") or "", translations=design.get("translations") or {})
    tiers = [t for t in program.tiers if t.threshold <= SAMPLE_POINTS]
    tier = tiers[-1] if tiers else None
    return CardSnapshot(
        member=member, design=card,
        tier=CardTier(tier.name, tier.perks or "", tier.background_color,
                      tier.foreground_color, tier.label_color) if tier else None,
        rewards=tuple(CardReward(r.id, r.name, r.points_cost) for r in program.rewards),
        timezone=program.timezone or "UTC")


def views(program: Program, design: dict[str, Any], languages: list[str]) -> list[dict[str, Any]]:
    """The preview of each card language: Apple front and back, Google card."""
    content = card_content(sample_snapshot(program, design))
    barcode = barcode_svg(content)
    return [{"lang": lang, "apple": apple_view(content, lang), "google": google_view(content, lang),
             "barcode": barcode} for lang in languages]


def _tr(text: str, lang: str, content: CardContent) -> str:
    """A label or program text in `lang` (merchant translations, then built-in ones)."""
    return i18n.translate(text, lang, content.translations)


def apple_view(content: CardContent, lang: str) -> dict[str, Any]:
    """The Apple storeCard: its field groups with labels (and program texts) translated."""
    program_texts = set(content.program_texts())

    def fields(group: str) -> list[Field]:
        out = []
        for key, line, _message in field_groups(content)[group]:
            value = str(line.value)
            if value in program_texts:
                value = _tr(value, lang, content)
            out.append(Field(key, _tr(line.label, lang, content), value))
        return out

    return {"header": fields("headerFields"), "primary": fields("primaryFields"),
            "secondary": fields("secondaryFields"), "auxiliary": fields("auxiliaryFields"),
            "back": fields("backFields"), "style": content.style,
            "logo_text": content.style.logo_text, "alt_text": content.barcode.alt_text,
            "format": content.barcode.format}


def google_view(content: CardContent, lang: str) -> dict[str, Any]:
    """The Google loyalty card: program name, balance and the text modules."""
    card = card_fields(content)
    rows = [(label, value) for label, value in (
        ("Member", card.member_name), ("Tier", card.tier), ("Rewards", card.next_reward),
        ("Points expiring", card.expiring), ("Perks", card.perks)) if value]
    return {"program": content.program_name, "issuer": content.organization_name,
            "balance_label": _tr(card.balance_label, lang, content),
            "balance": card.balance,
            "rows": [Field("", _tr(label, lang, content), str(value)) for label, value in rows],
            "background": card.background_color or content.style.background_color,
            "alt_text": card.barcode_alt_text}


def barcode_svg(content: CardContent) -> Markup:
    """The sample member's code as an inline SVG (a real QR code; other formats a sketch)."""
    if content.barcode.format != "qr":
        return Markup("")
    image = qrcode.make(content.barcode.value, image_factory=qrcode.image.svg.SvgPathImage,
                        box_size=10, border=1)
    out = io.BytesIO()
    image.save(out)
    svg = out.getvalue().decode()
    return Markup(svg[svg.index("<svg"):])  # noqa: S704  (our own SVG, no user text)
