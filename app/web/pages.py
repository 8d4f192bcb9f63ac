"""What the customers' pages share: the program's branding, its public images, the
headers every page carries, and the localized message page."""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from flask import Response, render_template, request
from PIL import Image

from app.i18n import gettext
from app.links import image_link
from app.models import Program
from app.wallet import i18n
from app.wallet.google.savelink import program_image

PAGE_HEADERS = {
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",  # a card link never leaks to the sites it links to
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; img-src 'self' data:; "
                               "style-src 'self' 'unsafe-inline'; script-src 'self'; "
                               "manifest-src 'self'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
}
HOME_ICON_SIZES = (192, 512)


@dataclass(frozen=True)
class Brand:
    """A page's colours: the card's background, text and label colours."""

    bg: str
    fg: str
    label: str


def brand_of(program: Program, bg: str | None = None, fg: str | None = None,
             label: str | None = None) -> Brand:
    """The program's colours (a tier's may override them)."""
    return Brand(bg or program.background_color, fg or program.foreground_color,
                 label or program.label_color)


def logo_url(program: Program) -> str:
    """The program's logo at twice the size (sharp on phones) for this design version."""
    return image_link(program.id, program.design_version, "logo@2x.png")


class Texts:
    """The page texts of one language, for templates (`t("Send")`)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def __call__(self, message: str, **values: Any) -> str:
        return gettext(self.lang, message, **values)


def page_language(*preferred: str | None, fallback: str = i18n.DEFAULT_LANGUAGE) -> str:
    """The first of: the explicit choices given (e.g. ?lang=, the member's language),
    the browser's Accept-Language, the fallback (the program's language)."""
    for choice in preferred:
        lang = i18n.normalize_language(choice) if choice else None
        if lang is not None:
            return lang
    header = request.headers.get("Accept-Language")
    if header:
        best = i18n.best_language(header, default="")
        if best:
            return best
    return i18n.normalize_language(fallback) or i18n.DEFAULT_LANGUAGE


def page(template: str, code: int = 200, **context: Any) -> Response:
    """A customer page rendered with the shared headers."""
    context.setdefault("t", Texts(context["lang"]))
    response = Response(render_template(template, **context), status=code,
                        mimetype="text/html")
    response.headers.update(PAGE_HEADERS)
    return response


def message(lang: str, status: int, title: str, *paragraphs: str, program: Program | None = None,
            back: str | None = None) -> Response:
    """A short localized page saying one thing (link sent, not found, slow down)."""
    brand = brand_of(program) if program else Brand("#1F1F24", "#FFFFFF", "#C8C8D0")
    return page("pages/message.html", status, status=status, lang=lang, brand=brand, title=title,
                paragraphs=paragraphs, program=program,
                logo=logo_url(program) if program else None, back=back,
                back_text=gettext(lang, "Back"))


@lru_cache(maxsize=64)
def home_icon(logo: bytes | None, background: str, size: int) -> bytes:
    """A square home-screen icon: the logo centred on the card's background colour."""
    bg = tuple(int(background.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4))
    icon = Image.new("RGB", (size, size), bg)  # type: ignore[arg-type]
    if logo:
        with Image.open(io.BytesIO(logo)) as source:
            art = source.convert("RGBA")
        box = round(size * 0.72)
        scale = min(box / art.width, box / art.height)
        art = art.resize((max(1, round(art.width * scale)), max(1, round(art.height * scale))),
                         Image.Resampling.LANCZOS)
        icon.paste(art, ((size - art.width) // 2, (size - art.height) // 2), art)
    out = io.BytesIO()
    icon.save(out, "PNG", optimize=True)
    return out.getvalue()


def home_icon_of(program: Program, size: int) -> bytes:
    """The program's home-screen icon of a size."""
    return home_icon(program_image(program.id, "logo@2x.png"), program.background_color, size)
