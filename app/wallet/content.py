"""What a member's card shows, decided once and rendered by both wallets."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.models import Member, Program


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


def card_content(program: Program, member: Member) -> CardContent:
    """The fields of a member's card, in the program's source language."""
    points = Field("points", program.points_label or "Points", member.points,
                   change_message="You now have %@ points")
    secondary = [Field("member", "Member", member.name or member.email or "")]
    back = [Field("member_since", "Member since", member.created_at.date().isoformat())]
    if program.back_text:
        back.append(Field("about", "About", program.back_text))
    if program.terms:
        back.append(Field("terms", "Terms and conditions", program.terms))
    content = CardContent(
        header=[Field("header_points", program.points_label or "Points", member.points)],
        primary=[points],
        secondary=secondary,
        auxiliary=[],
        back=back,
        barcode_value=member.serial_number,
        barcode_alt_text=member.serial_number[:12].upper(),
    )
    return _with_translatable(content, [program.back_text, program.terms])


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
    texts += [t for t in program_texts if t]
    return CardContent(**{**content.__dict__, "translatable": list(dict.fromkeys(texts))})
