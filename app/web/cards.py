"""The member's card page (/cards/<token>): the card, its code for the till, the right
wallet button for the phone, a QR code for desktops, and home-screen install.

The page shows what the wallets show: it renders the same CardContent
(app/wallet/content.py) from the same snapshot, labels translated like the wallets'.
The download token in the URL is the only key; an unknown token is a 404 page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from flask import Response, request

from app import links
from app.i18n import gettext
from app.members.operations import member_by_download_token
from app.models import Member
from app.wallet import i18n
from app.wallet.content import CardContent, Line, card_content
from app.wallet.snapshot import load_snapshot
from app.web import bp
from app.web.barcodes import draw_barcode, qr_code
from app.web.pages import (
    HOME_ICON_SIZES,
    PAGE_HEADERS,
    brand_of,
    logo_url,
    message,
    page,
    page_language,
)

IOS = re.compile(r"iPhone|iPad|iPod", re.I)
ANDROID = re.compile(r"Android", re.I)
MOBILE = re.compile(r"Mobile|Android|iPhone|iPad|iPod|HarmonyOS|HuaweiBrowser", re.I)


@dataclass(frozen=True)
class WalletButton:
    """A button that adds the card to a wallet."""

    kind: str
    url: str
    text: str


def device() -> str:
    """ios, android, or other (a desktop, or a phone with neither wallet), from the user agent."""
    agent = request.headers.get("User-Agent", "")[:512]
    if IOS.search(agent):
        return "ios"
    if ANDROID.search(agent):
        return "android"
    return "mobile" if MOBILE.search(agent) else "desktop"


def wallet_buttons(member: Member, kind: str, lang: str) -> list[WalletButton]:
    """Apple on iOS, Google on Android (where configured), both elsewhere."""
    apple = WalletButton("apple", links.apple_pass_link(member),
                         gettext(lang, "Add to Apple Wallet"))
    google = (WalletButton("google", links.google_save_link(member),
                           gettext(lang, "Save to Google Wallet"))
              if links.google_enabled() else None)
    if kind == "ios":
        return [apple]
    if kind == "android":
        return [google] if google else []
    return [apple] + ([google] if google else [])


def share_links(member: Member, program_name: str, lang: str) -> dict[str, str] | None:
    """Invitations to the program's signup page with the member's referral code."""
    if not member.referral_code:
        return None
    url = links.signup_link(member.program_id) + "?" + urlencode({"ref": member.referral_code})
    text = gettext(lang, "Get a {program} card too:", program=program_name)
    message_text = f"{text} {url}"
    return {"url": url, "text": text,
            "line": "https://line.me/R/msg/text/?" + quote(message_text, safe=""),
            "zalo": url,
            "whatsapp": "https://wa.me/?" + urlencode({"text": message_text}),
            "sms": "sms:?&" + urlencode({"body": message_text}, quote_via=quote)}


def _label(content: CardContent, lang: str) -> Any:
    """A template helper translating a line's label like the wallets do."""
    def label(line: Line) -> str:
        return i18n.translate(line.label, lang, content.translations)
    return label


@bp.get("/cards/<token>")
def card_page(token: str) -> Response:
    """A member's card: balance, tier, next reward, the code to scan, the wallet buttons."""
    member = member_by_download_token(token)
    if member is None:
        lang = page_language(request.args.get("lang"))
        return message(lang, 404, gettext(lang, "Not found"), gettext(
            lang, "This card link is not valid. Check the link in your e-mail."))
    program = member.program
    lang = page_language(request.args.get("lang"), member.language, fallback=program.language)
    content = card_content(load_snapshot(member))
    kind = device()
    facts = [line for line in (content.tier, content.available_reward, content.next_reward,
                               content.expiring_points) if line is not None]
    style = content.style
    return page(
        "pages/card.html", lang=lang, card=content, tier=content.tier, facts=facts,
        label=_label(content, lang),
        brand=brand_of(program, style.background_color, style.foreground_color,
                       style.label_color),
        logo=logo_url(program), barcode=draw_barcode(content.barcode.format,
                                                     content.barcode.value),
        wallets=wallet_buttons(member, kind, lang), desktop=kind == "desktop",
        page_qr=qr_code(links.card_page_link(member)),
        share=share_links(member, content.program_name, lang),
        manifest_url=f"/cards/{token}/manifest.webmanifest",
        home_icon=links.image_link(program.id, program.design_version, "home-192.png"))


@bp.get("/cards/<token>/manifest.webmanifest")
def card_manifest(token: str) -> Response:
    """The web app manifest that installs the card page on the home screen."""
    member = member_by_download_token(token)
    if member is None:
        return message("en", 404, gettext("en", "Not found"), gettext(
            "en", "This card link is not valid. Check the link in your e-mail."))
    program = member.program
    body = {
        "name": program.name, "short_name": (program.logo_text or program.name)[:30],
        "start_url": f"/cards/{token}", "scope": f"/cards/{token}", "display": "standalone",
        "background_color": program.background_color, "theme_color": program.background_color,
        "lang": program.language,
        "icons": [{"src": links.image_link(program.id, program.design_version,
                                           f"home-{size}.png"),
                   "sizes": f"{size}x{size}", "type": "image/png", "purpose": "any"}
                  for size in HOME_ICON_SIZES],
    }
    response = Response(_json(body), mimetype="application/manifest+json")
    response.headers.update(PAGE_HEADERS)
    return response


def _json(body: dict[str, Any]) -> str:
    """Compact JSON text."""
    import json

    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))

