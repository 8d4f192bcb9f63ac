"""pass.json for a member's store card: a pure function of program and member."""

from __future__ import annotations

from typing import Any

from app.models import Member, Program
from app.wallet.content import CardContent, Field, card_content

BARCODE_FORMATS = {
    "qr": "PKBarcodeFormatQR",
    "pdf417": "PKBarcodeFormatPDF417",
    "aztec": "PKBarcodeFormatAztec",
    "code128": "PKBarcodeFormatCode128",
}


def rgb(hex_color: str) -> str:
    """'#4B2E1E' -> 'rgb(75, 46, 30)', the colour form pass.json requires."""
    h = hex_color.lstrip("#")
    return f"rgb({int(h[0:2], 16)}, {int(h[2:4], 16)}, {int(h[4:6], 16)})"


def build_pass_json(program: Program, member: Member, *, pass_type_id: str, team_id: str,
                    web_service_url: str, content: CardContent | None = None) -> dict[str, Any]:
    """The pass.json dict of one member's storeCard."""
    content = content or card_content(program, member)
    colors = {"background_color": program.background_color,
              "foreground_color": program.foreground_color,
              "label_color": program.label_color, **content.colors}  # a tier may recolour
    data: dict[str, Any] = {
        "formatVersion": 1,
        "passTypeIdentifier": pass_type_id,
        "teamIdentifier": team_id,
        "serialNumber": member.serial_number,
        "organizationName": program.organization_name,
        "description": program.description,
        "logoText": program.logo_text or program.organization_name,
        "backgroundColor": rgb(colors["background_color"]),
        "foregroundColor": rgb(colors["foreground_color"]),
        "labelColor": rgb(colors["label_color"]),
        "webServiceURL": web_service_url,
        "authenticationToken": member.auth_token,
        "barcodes": [_barcode(program, content)],
        "storeCard": {
            "headerFields": [_field(f) for f in content.header],
            "primaryFields": [_field(f) for f in content.primary],
            "secondaryFields": [_field(f) for f in content.secondary],
            "auxiliaryFields": [_field(f) for f in content.auxiliary],
            "backFields": [_field(f) for f in content.back],
        },
    }
    locations = _locations(program)
    if locations:
        data["locations"] = locations
    return data


def _field(f: Field) -> dict[str, Any]:
    """One pass.json field dict."""
    out: dict[str, Any] = {"key": f.key, "label": f.label, "value": f.value}
    if f.change_message:
        out["changeMessage"] = f.change_message
    return out


def _barcode(program: Program, content: CardContent) -> dict[str, str]:
    """The barcodes entry carrying the member's serial."""
    return {
        "format": BARCODE_FORMATS.get(program.barcode_format, "PKBarcodeFormatQR"),
        "message": content.barcode_value,
        "messageEncoding": "iso-8859-1",
        "altText": content.barcode_alt_text,
    }


def _locations(program: Program) -> list[dict[str, Any]]:
    """Up to 10 store locations that make the card appear on the lock screen nearby."""
    out = []
    for loc in (program.locations or [])[:10]:
        item: dict[str, Any] = {"latitude": loc["latitude"], "longitude": loc["longitude"]}
        if loc.get("relevant_text"):
            item["relevantText"] = loc["relevant_text"]
        out.append(item)
    return out
