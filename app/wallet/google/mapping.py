"""Map a program and a member's card content to Google Wallet LoyaltyClass and LoyaltyObject.

Pure functions: no database, no network, no app. Google keeps colour, logo, program name
and program-wide texts (about, terms) on the class only, so a design change is one class
PATCH; the object carries what differs per member (balance, barcode, tier, perks, next
reward, points expiring) and, where the member's tier has its own colour, a tier-coloured
hero image (the object's hero image wins over the class's).

All card content is read through `_fields(content)`, the one place that knows the shape
of `CardContent`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.models import Program
from app.wallet import i18n
from app.wallet.content import CardContent, Line

BARCODE_TYPES = {"qr": "QR_CODE", "pdf417": "PDF_417", "aztec": "AZTEC",
                 "code128": "CODE_128"}
MAX_MERCHANT_LOCATIONS = 10
MAX_TEXT_MODULES = 10
_SUFFIX_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")

Json = dict[str, Any]


@dataclass(frozen=True)
class CardFields:
    """What the Google card needs from the wallet-neutral card content."""

    balance: str | int
    balance_label: str
    member_name: str
    barcode_value: str
    barcode_alt_text: str
    tier: str | None = None
    perks: str | None = None
    next_reward: str | None = None
    expiring: str | None = None
    background_color: str | None = None
    """The member's tier colour, when the tier sets one."""


def _fields(content: CardContent) -> CardFields:
    """Extract the Google card's fields from CardContent (the one place tied to its shape)."""

    def value(line: Line | None) -> str | None:
        return str(line.value) if line is not None and line.value != "" else None

    return CardFields(
        balance=content.balance.value, balance_label=content.balance.label,
        member_name=value(content.member_name) or "", barcode_value=content.barcode.value,
        barcode_alt_text=content.barcode.alt_text, tier=value(content.tier),
        perks=value(content.perks), next_reward=value(content.available_reward),
        expiring=value(content.expiring_points),
        background_color=content.style.tier_background_color)


card_fields = _fields


def class_id(issuer_id: str, program_id: int) -> str:
    """The Google id of a program's LoyaltyClass."""
    return f"{issuer_id}.walletpass-program-{program_id}"


def object_id(issuer_id: str, serial_number: str) -> str:
    """The Google id of a member's LoyaltyObject (the pass serial, like the Apple pass)."""
    return f"{issuer_id}.{_SUFFIX_UNSAFE.sub('_', serial_number)}"


def image_url(base_url: str, program: Program, filename: str) -> str:
    """Public URL of one of the program's card images (the design version busts caches)."""
    return f"{base_url}/google/images/{program.id}/{program.design_version}/{filename}"


def hero_url(base_url: str, program_id: int, color: str, art_tag: str) -> str:
    """Public URL of the program's strip tinted with a tier colour (#rrggbb).

    `art_tag` names the strip artwork (a digest of its bytes), not the design version: a
    change of colours or texts must not change every object's URL (which would cost one
    object PATCH per member); only new artwork does.
    """
    return f"{base_url}/google/hero/{program_id}/{color.lstrip('#').lower()}-{art_tag}.png"


def localized(text: str, source_language: str,
              overrides: Mapping[str, Mapping[str, str]] | None) -> Json:
    """A LocalizedString: the source text plus every translation that differs from it."""
    out: Json = {"defaultValue": {"language": source_language, "value": text}}
    translated = []
    for lang in i18n.LANGUAGES:
        if lang == source_language:
            continue
        value = i18n.translate(text, lang, overrides)
        if value != text:
            translated.append({"language": lang, "value": value})
    if translated:
        out["translatedValues"] = translated
    return out


def _text_module(module_id: str, header: str, body: str, lang: str,
                 overrides: Mapping[str, Mapping[str, str]] | None) -> Json:
    """A text module with a localized header (and body, through the merchant's overrides)."""
    return {"id": module_id, "header": header, "body": body,
            "localizedHeader": localized(header, lang, overrides),
            "localizedBody": localized(body, lang, overrides)}


def loyalty_class(program: Program, *, issuer_id: str, base_url: str,
                  image_names: set[str], callback_url: str) -> Json:
    """The LoyaltyClass of a program: issuer, name, logo, colour, hero, locations, texts."""
    lang = program.language or i18n.DEFAULT_LANGUAGE
    overrides = program.translations or None
    body: Json = {
        "id": class_id(issuer_id, program.id),
        "issuerName": program.organization_name,
        "localizedIssuerName": localized(program.organization_name, lang, overrides),
        "programName": program.name,
        "localizedProgramName": localized(program.name, lang, overrides),
        "hexBackgroundColor": program.background_color.lower(),
        "reviewStatus": "UNDER_REVIEW",
        "callbackOptions": {"url": callback_url},
        "localizedAccountNameLabel": localized("Member", lang, overrides),
        "accountNameLabel": "Member",
    }
    body.update(_class_images(program, base_url, image_names))
    locations = [{"latitude": loc.latitude, "longitude": loc.longitude}
                 for loc in program.store_locations[:MAX_MERCHANT_LOCATIONS]]
    if locations:
        body["merchantLocations"] = locations
    modules = [_text_module(key, header, text, lang, overrides)
               for key, header, text in (("about", "About", program.back_text),
                                         ("terms", "Terms and conditions", program.terms))
               if text]
    if modules:
        body["textModulesData"] = modules
    return body


def _class_images(program: Program, base_url: str, image_names: set[str]) -> Json:
    """Logo (the square icon: Google crops the program logo to a circle), wide logo and hero.

    Apple's logo is a wide wordmark (up to 160x50 points) that a circle would cut, so it
    becomes the class's wideProgramLogo; the icon, square, becomes programLogo.
    """
    out: Json = {}
    pick = {"programLogo": ("icon@3x.png", "icon.png"),
            "wideProgramLogo": ("logo@3x.png", "logo.png"),
            "heroImage": ("strip@3x.png", "strip.png")}
    for key, names in pick.items():
        name = next((n for n in names if n in image_names), None)
        if name is not None:
            out[key] = {"sourceUri": {"uri": image_url(base_url, program, name)}}
    return out


def loyalty_object(program: Program, content: CardContent, *, issuer_id: str,
                   serial_number: str, base_url: str, art_tag: str = "none") -> Json:
    """The LoyaltyObject of a member: account, balance, barcode, member-specific texts."""
    card = _fields(content)
    lang = program.language or i18n.DEFAULT_LANGUAGE
    overrides = program.translations or None
    balance: Json = ({"int": card.balance} if isinstance(card.balance, int)
                     else {"string": str(card.balance)})
    body: Json = {
        "id": object_id(issuer_id, serial_number),
        "classId": class_id(issuer_id, program.id),
        "state": "ACTIVE",
        "accountId": card.barcode_alt_text,
        "accountName": card.member_name or card.barcode_alt_text,
        "loyaltyPoints": {"label": card.balance_label,
                          "localizedLabel": localized(card.balance_label, lang, overrides),
                          "balance": balance},
        "barcode": {"type": BARCODE_TYPES.get(program.barcode_format, "QR_CODE"),
                    "value": card.barcode_value, "alternateText": card.barcode_alt_text},
        "textModulesData": _object_modules(card, lang, overrides),
    }
    if card.background_color:
        body["heroImage"] = {"sourceUri": {"uri": hero_url(
            base_url, program.id, card.background_color, art_tag)}}
    return body


def _object_modules(card: CardFields, lang: str,
                    overrides: Mapping[str, Mapping[str, str]] | None) -> list[Json]:
    """Text modules for tier, perks, next reward and points expiring (those the card has).

    Always sent, even empty: PATCH replaces the whole array, so a perk that went away must
    be sent as a shorter list.
    """
    rows = (("tier", "Tier", card.tier), ("perks", "Perks", card.perks),
            ("reward", "Rewards", card.next_reward), ("expiring", "Points expiring",
                                                      card.expiring))
    return [_text_module(key, header, text, lang, overrides)
            for key, header, text in rows if text][:MAX_TEXT_MODULES]


def minimal_object(program: Program, content: CardContent, *, issuer_id: str,
                   serial_number: str) -> Json:
    """The smallest object a save JWT may carry, for Google to create it on save.

    Used only while the object is not yet inserted over REST; the pipeline PATCHes the
    rest in once the API answers. Kept well under Google's 1,800-character JWT limit.
    """
    card = _fields(content)
    return {"id": object_id(issuer_id, serial_number),
            "classId": class_id(issuer_id, program.id), "state": "ACTIVE",
            "barcode": {"type": BARCODE_TYPES.get(program.barcode_format, "QR_CODE"),
                        "value": card.barcode_value}}
