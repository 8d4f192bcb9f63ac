"""Apple's mapping of CardContent: pass.json of a storeCard and its pass.strings files.

Pure functions of the card content (plus the member's authentication token and the
signing identity's ids): no database, app or certificate.

Field layout of the storeCard (keys are stable: devices diff passes by key):

- header: header_points (the balance again, visible when cards are stacked)
- primary: points (the balance; change message "You now have %@ points/stamps")
- secondary: member, tier ("Your tier is now %@")
- auxiliary: reward (the available reward, "New reward available: %@"), expiring
- back: member_since, perks, about, terms
"""

from __future__ import annotations

from typing import Any

from app.wallet import i18n
from app.wallet.content import CardContent, Line

BARCODE_FORMATS = {
    "qr": "PKBarcodeFormatQR",
    "pdf417": "PKBarcodeFormatPDF417",
    "aztec": "PKBarcodeFormatAztec",
    "code128": "PKBarcodeFormatCode128",
}
MAX_LOCATIONS = 10
"""Wallet uses at most 10 locations of a pass."""

LOYALTY_TEXTS = ["Tier", "Your tier is now %@", "Perks", "Rewards", "New reward available: %@",
                 "Points expiring"]
"""Labels and change messages some members' cards show: every bundle carries them, since
one static bundle (pass.strings) serves all the program's cards."""

Group = list[tuple[str, Line, str | None]]
"""(pass.json key, line, change message) of each field in one group."""


def rgb(hex_color: str) -> str:
    """'#4B2E1E' -> 'rgb(75, 46, 30)', the colour form pass.json requires."""
    h = hex_color.lstrip("#")
    return f"rgb({int(h[0:2], 16)}, {int(h[2:4], 16)}, {int(h[4:6], 16)})"


def field_groups(content: CardContent) -> dict[str, Group]:
    """The storeCard's field groups: which item goes where, with its change message."""
    unit = "stamps" if content.is_stamp_card else "points"
    groups: dict[str, list[tuple[str, Line | None, str | None]]] = {
        "headerFields": [("header_points", content.balance, None)],
        "primaryFields": [("points", content.balance, f"You now have %@ {unit}")],
        "secondaryFields": [("member", content.member_name, None),
                            ("tier", content.tier, "Your tier is now %@")],
        "auxiliaryFields": [("reward", content.available_reward, "New reward available: %@"),
                            ("expiring", content.expiring_points, None)],
        "backFields": [("member_since", content.member_since, None),
                       ("perks", content.perks, None), ("about", content.about, None),
                       ("terms", content.terms, None)],
    }
    return {name: [(key, line, message) for key, line, message in group if line is not None]
            for name, group in groups.items()}


def build_pass_json(content: CardContent, *, auth_token: str, pass_type_id: str, team_id: str,
                    web_service_url: str) -> dict[str, Any]:
    """The pass.json dict of one member's storeCard."""
    style = content.style
    data: dict[str, Any] = {
        "formatVersion": 1,
        "passTypeIdentifier": pass_type_id,
        "teamIdentifier": team_id,
        "serialNumber": content.serial_number,
        "organizationName": content.organization_name,
        "description": content.description,
        "logoText": style.logo_text,
        "backgroundColor": rgb(style.background_color),
        "foregroundColor": rgb(style.foreground_color),
        "labelColor": rgb(style.label_color),
        "webServiceURL": web_service_url,
        "authenticationToken": auth_token,
        "barcodes": [_barcode(content)],
        "storeCard": {name: [_field(*f) for f in group]
                      for name, group in field_groups(content).items()},
    }
    locations = _locations(content)
    if locations:
        data["locations"] = locations
    return data


def _field(key: str, line: Line, change_message: str | None) -> dict[str, Any]:
    """One pass.json field dict."""
    out: dict[str, Any] = {"key": key, "label": line.label, "value": line.value}
    if change_message:
        out["changeMessage"] = change_message
    return out


def _barcode(content: CardContent) -> dict[str, str]:
    """The barcodes entry carrying the member's serial."""
    return {
        "format": BARCODE_FORMATS.get(content.barcode.format, "PKBarcodeFormatQR"),
        "message": content.barcode.value,
        "messageEncoding": "iso-8859-1",
        "altText": content.barcode.alt_text,
    }


def _locations(content: CardContent) -> list[dict[str, Any]]:
    """Up to 10 store locations that make the card appear on the lock screen nearby."""
    out = []
    for loc in content.locations[:MAX_LOCATIONS]:
        item: dict[str, Any] = {"latitude": loc.latitude, "longitude": loc.longitude}
        if loc.relevant_text:
            item["relevantText"] = loc.relevant_text
        out.append(item)
    return out


def pass_texts(content: CardContent) -> list[str]:
    """The source texts pass.strings must cover: labels, change messages and program texts
    (never member data, so one bundle serves the whole program)."""
    texts: list[str] = []
    for group in field_groups(content).values():
        for _key, line, change_message in group:
            texts.append(line.label)
            if change_message:
                texts.append(change_message)
    texts += LOYALTY_TEXTS  # whether or not this member's card shows them yet
    texts += content.program_texts()
    return sorted(set(texts))


def pass_strings(content: CardContent) -> dict[str, bytes]:
    """`<lang>.lproj/pass.strings` of every card language, for the card's texts."""
    return i18n.pass_strings_files(pass_texts(content), content.translations or None,
                                   source_language=content.language)
