"""Printable QR signup posters (PNG and PDF) in the program's colours and language.

A poster is drawn once as a 300 dpi bitmap of the exact page size (A4, A5 or US
Letter): the PNG is that bitmap, the PDF is one page of the same size holding it.
From top to bottom: the program's logo, name and organization, a call to action in
the program's language, a large QR code to the signup URL (black on white with a
quiet zone of four modules, whatever the program's colours), the store location's
name, a line saying the card works with Apple Wallet and Google Wallet, and the URL
in small print.

Text is shaped by raqm (HarfBuzz), so Thai marks and Vietnamese stacked accents sit
where they belong. Fonts come from PyPI packages (Noto Sans, Noto Sans Thai, Noto
Sans CJK TC) and are located at run time; each string is set in the first font of
the language's chain that covers every character of it. Texts too long for their
box shrink, wrap and finally end with an ellipsis; nothing overflows the page.

Everything here is pure: no app context, no database.
"""

from __future__ import annotations

import io
import logging
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import qrcode
from PIL import Image, ImageColor, ImageDraw, ImageFont

from app.i18n import gettext, gettext_noop

log = logging.getLogger(__name__)

DPI = 300
SIZES_MM: dict[str, tuple[float, float]] = {
    "a4": (210.0, 297.0), "a5": (148.0, 210.0), "letter": (215.9, 279.4)}
FORMATS = ("png", "pdf")
MIMETYPES = {"png": "image/png", "pdf": "application/pdf"}
LANGUAGES = ("en", "th", "zh-Hant", "vi", "ms")
CACHE_SIZE = 32  # rendered posters kept per process (an A4 PNG is a few hundred kB)
MAX_TEXT_CHARS = 300  # longer input is cut before layout (then ellipsized to fit)
ELLIPSIS = "…"
BREAK = "\u200b"
QUIET_ZONE = 4  # modules of white around the QR code, as the QR standard asks

# What the poster says, written in English and translated in the gettext catalogs. Thai
# writes no spaces between words: in the Thai texts a zero-width space (BREAK) marks where
# a line may break.
TEXTS = {
    "cta": gettext_noop("Scan to get your loyalty card"),
    "how": gettext_noop("Point your phone's camera at the code"),
    "wallets": gettext_noop("Works with Apple Wallet and Google Wallet"),
    "wallets_apple": gettext_noop("Works with Apple Wallet, or right in your browser"),
}

WHITE = (255, 255, 255)
INK = (17, 17, 17)  # text on the white QR panel
MIN_CONTRAST = 3.0  # below this (WCAG, large text) the program's colour gives way


@dataclass(frozen=True)
class PosterSpec:
    """Everything a poster shows; hashable, so it is also the key of the render cache."""

    program_name: str
    organization_name: str
    background_color: str
    foreground_color: str
    label_color: str
    signup_url: str
    language: str = "en"
    logo_png: bytes | None = None
    location_name: str = ""
    google: bool = True
    """Whether Google Wallet is configured (else the poster promises Apple Wallet and the
    web card only)."""


def render_poster(spec: PosterSpec, fmt: str = "pdf", size: str = "a4") -> bytes:
    """The poster as PNG or PDF bytes of the given page size."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown poster format {fmt!r}; use one of: {', '.join(FORMATS)}.")
    if size not in SIZES_MM:
        raise ValueError(f"Unknown poster size {size!r}; use one of: {', '.join(SIZES_MM)}.")
    with _LOCK:  # FreeType faces are shared between threads: one drawing at a time
        image = compose(spec, size)
    return _encode(image, fmt, spec)


cached_poster = lru_cache(maxsize=CACHE_SIZE)(render_poster)
"""render_poster with a bounded per-process cache keyed by (spec, fmt, size)."""

_LOCK = threading.Lock()


def page_pixels(size: str) -> tuple[int, int]:
    """Width and height in pixels of a page size at DPI."""
    w_mm, h_mm = SIZES_MM[size]
    return round(w_mm / 25.4 * DPI), round(h_mm / 25.4 * DPI)


def _encode(image: Image.Image, fmt: str, spec: PosterSpec) -> bytes:
    """PNG bytes, or a one-page PDF of the page size holding the bitmap."""
    out = io.BytesIO()
    if fmt == "png":
        image.save(out, "PNG", dpi=(DPI, DPI), compress_level=6)
    else:  # near-lossless JPEG inside: 4:4:4 keeps QR and text edges crisp
        image.save(out, "PDF", resolution=float(DPI), quality=95, subsampling=0,
                   title=_clean(spec.program_name)[:200], creator="walletpass")
    return out.getvalue()


# ---------------------------------------------------------------- colours


def _rgb(value: str, fallback: tuple[int, int, int]) -> tuple[int, int, int]:
    """A colour string (#rrggbb, rgb(...)) as an RGB triple, or the fallback."""
    try:
        r, g, b = ImageColor.getrgb(value)[:3]
    except (ValueError, AttributeError):
        return fallback
    return r, g, b


def _luminance(rgb: tuple[int, int, int]) -> float:
    """WCAG relative luminance."""
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _readable(color: tuple[int, int, int], bg: tuple[int, int, int]) -> tuple[int, int, int]:
    """The colour itself if it reads on bg, else black or white, whichever reads better."""
    if contrast(color, bg) >= MIN_CONTRAST:
        return color
    return max(((0, 0, 0), WHITE), key=lambda c: contrast(c, bg))


# ---------------------------------------------------------------- fonts


@dataclass(frozen=True)
class _Face:
    """A font file (and face index inside a collection)."""

    path: str
    index: int = 0
    variable: bool = False


@lru_cache(maxsize=1)
def faces() -> dict[str, _Face]:
    """The poster fonts, found once in their installed PyPI packages."""
    import fontpkg
    import noto_cjk_sans_otc

    cjk = str(noto_cjk_sans_otc.FONT_PATH)
    return {
        "latin": _Face(str(fontpkg.path("Noto Sans")), variable=True),
        "thai": _Face(str(fontpkg.path("Noto Sans Thai")), variable=True),
        "cjk": _Face(cjk, _collection_index(cjk, "Noto Sans CJK TC")),
    }


def _collection_index(path: str, family: str) -> int:
    """Index of the face named family inside a font collection."""
    for index in range(32):
        try:
            name = ImageFont.truetype(path, 12, index=index).getname()[0]
        except OSError:
            break
        if name == family:
            return index
    raise LookupError(f"{family} is not in {path}")


@lru_cache(maxsize=8)
def coverage(key: str) -> frozenset[int]:
    """The code points a poster font has glyphs for."""
    from fontTools.ttLib import TTFont

    face = faces()[key]
    with TTFont(face.path, fontNumber=face.index, lazy=True) as font:
        return frozenset(font.getBestCmap())


def font_key(text: str, language: str) -> str:
    """The first font of the language's chain that covers every character of text."""
    chain = ("latin", "cjk", "thai") if language == "zh-Hant" else ("latin", "thai", "cjk")
    needed = {ord(c) for c in text if not c.isspace() and c != BREAK}
    for key in chain:
        if needed <= coverage(key):
            return key
    return max(chain, key=lambda k: len(needed & coverage(k)))


@lru_cache(maxsize=128)
def _font(key: str, size: int, bold: bool) -> ImageFont.FreeTypeFont:
    """A shaped (raqm) font at a pixel size, bold through the weight axis where it has one."""
    face = faces()[key]
    font = ImageFont.truetype(face.path, size, index=face.index,
                              layout_engine=ImageFont.Layout.RAQM)
    if face.variable:
        font.set_variation_by_axes([
            (700.0 if bold else 400.0) if _axis_name(axis["name"]) in ("weight", "wght")
            else float(axis["default"] or 0) for axis in font.get_variation_axes()])
    return font


def _axis_name(name: object) -> str:
    """A variation axis name as lower-case text."""
    return (name.decode("ascii", "replace") if isinstance(name, bytes) else str(name)).lower()


# ---------------------------------------------------------------- text layout


@dataclass
class _Text:
    """Lines of text laid out in one font, ready to draw centred."""

    lines: list[str]
    font: ImageFont.FreeTypeFont
    fill: tuple[int, int, int]
    language: str
    stroke: int = 0

    @property
    def line_height(self) -> int:
        """Distance between baselines."""
        ascent, descent = self.font.getmetrics()
        return ascent + descent

    @property
    def height(self) -> int:
        """Height of the whole block."""
        return self.line_height * len(self.lines)


def _clean(text: str) -> str:
    """One line of printable text: whitespace collapsed, control characters dropped."""
    text = "".join(c for c in text[:MAX_TEXT_CHARS * 2]
                   if unicodedata.category(c)[0] != "C" or c.isspace() or c == BREAK)
    return " ".join(text.split())[:MAX_TEXT_CHARS]


def _clusters(text: str) -> list[str]:
    """Characters with their combining marks attached (never split a Thai tone mark off)."""
    out: list[str] = []
    for c in text:
        if out and unicodedata.category(c).startswith("M"):
            out[-1] += c
        else:
            out.append(c)
    return out


def layout(text: str, language: str, width: int, max_lines: int, size: int, min_size: int,
           fill: tuple[int, int, int], bold: bool = False) -> _Text:
    """Fit text into max_lines of width: the largest size that fits, else an ellipsis."""
    text = _clean(text)
    key = font_key(text, language)
    size = max(size, min_size)
    step = max(1, size // 24)
    while True:
        font = _font(key, size, bold)
        lines, rest = _wrap(text, font, language, width, max_lines)
        if not rest or size <= min_size:
            break
        size = max(min_size, size - step)
    if rest:
        lines[-1] = _ellipsize(lines[-1], font, language, width)
    stroke = round(size * 0.03) if bold and key == "cjk" else 0  # the CJK font has no bold
    return _Text(lines, font, fill, language, stroke)


def _wrap(text: str, font: ImageFont.FreeTypeFont, language: str, width: int,
          max_lines: int) -> tuple[list[str], str]:
    """Greedy line breaking (at a space or BREAK where the line has one, else anywhere between
    characters); returns the lines and the text left over."""
    lines: list[str] = []
    clusters = _clusters(text)
    while clusters and len(lines) < max_lines:
        n = _fitting(clusters, font, language, width)
        if n < len(clusters) and clusters[n] not in (" ", BREAK):
            breaks = [i for i in range(1, n) if clusters[i] in (" ", BREAK)]
            n = breaks[-1] if breaks else n
        lines.append("".join(clusters[:n]).replace(BREAK, "").strip())
        clusters = clusters[n:]
        while clusters and clusters[0] in (" ", BREAK):
            clusters = clusters[1:]
    return (lines or [""]), "".join(clusters)


def _fitting(clusters: list[str], font: ImageFont.FreeTypeFont, language: str,
             width: int) -> int:
    """How many leading clusters fit in width (at least one, so layout always advances)."""
    lo, hi = 1, len(clusters)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _length("".join(clusters[:mid]), font, language) <= width:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _length(text: str, font: ImageFont.FreeTypeFont, language: str) -> float:
    """Shaped width of text as drawn (break marks take no room)."""
    return font.getlength(text.replace(BREAK, "").rstrip(), language=language)


def _ellipsize(line: str, font: ImageFont.FreeTypeFont, language: str, width: int) -> str:
    """The line cut so that it and an ellipsis fit in width."""
    clusters = _clusters(line)
    while clusters and _length("".join(clusters) + ELLIPSIS, font, language) > width:
        clusters.pop()
    return "".join(clusters).rstrip() + ELLIPSIS


def _draw_text(draw: ImageDraw.ImageDraw, block: _Text, center_x: int, top: int) -> int:
    """Draw a block centred on center_x from top; returns the y below it."""
    ascent = block.font.getmetrics()[0]
    for i, line in enumerate(block.lines):
        draw.text((center_x, top + ascent + i * block.line_height), line, font=block.font,
                  fill=block.fill, anchor="ms", language=block.language,
                  stroke_width=block.stroke, stroke_fill=block.fill)
    return top + block.height


# ---------------------------------------------------------------- the page


@dataclass
class _Palette:
    """The poster's colours, each made readable on the background."""

    bg: tuple[int, int, int]
    fg: tuple[int, int, int]
    label: tuple[int, int, int]

    @classmethod
    def of(cls, spec: PosterSpec) -> _Palette:
        """The program's colours, corrected where they would not read."""
        bg = _rgb(spec.background_color, WHITE)
        fg = _readable(_rgb(spec.foreground_color, INK), bg)
        return cls(bg, fg, _readable(_rgb(spec.label_color, fg), bg))


def _text(spec: PosterSpec, key: str) -> str:
    """A poster text in the spec's language (English when the language is unknown)."""
    return gettext(spec.language, TEXTS[key])


def compose(spec: PosterSpec, size: str) -> Image.Image:
    """Draw the poster as an RGB image of the page size at DPI."""
    width, height = page_pixels(size)
    colors = _Palette.of(spec)
    image = Image.new("RGB", (width, height), colors.bg)
    draw = ImageDraw.Draw(image)
    margin, inner, gap = round(width * 0.07), round(width * 0.86), round(width * 0.03)
    top = _draw_header(image, draw, spec, colors, margin)
    bottom = _draw_footer(draw, spec, colors, height - margin, inner)
    _draw_qr_panel(image, draw, spec, colors, top + gap, bottom - gap, inner)
    return image


def _draw_header(image: Image.Image, draw: ImageDraw.ImageDraw, spec: PosterSpec,
                 colors: _Palette, top: int) -> int:
    """Logo, program name, organization, call to action; returns the y below them."""
    width, height = image.size
    inner, cx, lang = round(width * 0.86), width // 2, spec.language
    y = _paste_logo(image, spec.logo_png, cx, top, (round(width * 0.55), round(height * 0.07)))
    y = _draw_text(draw, layout(spec.program_name, lang, inner, 2, round(width * 0.068),
                                round(width * 0.04), colors.fg, bold=True), cx, y)
    org = _clean(spec.organization_name)
    if org and org.casefold() != _clean(spec.program_name).casefold():
        y = _draw_text(draw, layout(org, lang, inner, 1, round(width * 0.032),
                                    round(width * 0.024), colors.label), cx, y)
    y += round(width * 0.035)
    y = _draw_text(draw, layout(_text(spec, "cta"), lang, inner, 2, round(width * 0.074),
                                round(width * 0.05), colors.fg, bold=True), cx, y)
    return _draw_text(draw, layout(_text(spec, "how"), lang, inner, 2, round(width * 0.034),
                                   round(width * 0.026), colors.label), cx, y + width // 100)


def _paste_logo(image: Image.Image, png: bytes | None, cx: int, top: int,
                box: tuple[int, int]) -> int:
    """Paste the logo centred in a box below top; returns the y below it (top if none)."""
    if not png:
        return top
    try:
        with Image.open(io.BytesIO(png)) as source:
            logo = source.convert("RGBA")
    except (OSError, ValueError, Image.DecompressionBombError):
        log.warning("poster: the logo could not be read; drawing the poster without it")
        return top
    scale = min(box[0] / logo.width, box[1] / logo.height)
    logo = logo.resize((max(1, round(logo.width * scale)), max(1, round(logo.height * scale))),
                       Image.Resampling.LANCZOS)
    image.paste(logo, (cx - logo.width // 2, top), logo)
    return top + logo.height + round(image.width * 0.025)


def _draw_footer(draw: ImageDraw.ImageDraw, spec: PosterSpec, colors: _Palette, bottom: int,
                 inner: int) -> int:
    """The wallets line and the URL in small print, ending at bottom; returns their top."""
    width = round(inner / 0.86)
    line = _text(spec, "wallets" if spec.google else "wallets_apple")
    wallets = layout(line, spec.language, inner, 2, round(width * 0.034),
                     round(width * 0.024), colors.fg, bold=True)
    url = layout(spec.signup_url, "en", inner, 2, round(width * 0.022), round(width * 0.016),
                 colors.label)
    top = bottom - wallets.height - url.height - width // 100
    _draw_text(draw, url, width // 2, _draw_text(draw, wallets, width // 2, top) + width // 100)
    return top


def qr_matrix(url: str) -> list[list[bool]]:
    """The QR code's modules (True is dark), without a quiet zone."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(url)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def _qr_mask(url: str, module: int) -> Image.Image:
    """The QR code's dark modules as a mask (with room for the quiet zone around them)."""
    matrix = qr_matrix(url)
    n, q = len(matrix) + 2 * QUIET_ZONE, QUIET_ZONE
    small = Image.new("L", (n, n), 0)
    small.putdata([255 if (q <= r < n - q and q <= c < n - q and matrix[r - q][c - q]) else 0
                   for r in range(n) for c in range(n)])
    return small.resize((n * module, n * module), Image.Resampling.NEAREST)


def _label_height(place: _Text | None, module: int) -> int:
    """Height the location's name adds below the QR code: its line starts three modules
    into the quiet zone (its ascender room keeps the glyphs clear of the code) and ends
    two modules above the card's edge."""
    return place.height + 2 * module - (QUIET_ZONE - 1) * module if place else 0


def _draw_qr_panel(image: Image.Image, draw: ImageDraw.ImageDraw, spec: PosterSpec,
                   colors: _Palette, top: int, bottom: int, inner: int) -> None:
    """A white card holding the QR code and the location's name, centred between top and bottom."""
    width = image.width
    place = None
    if _clean(spec.location_name):
        place = layout(spec.location_name, spec.language, round(inner * 0.9), 1,
                       round(width * 0.04), round(width * 0.028), INK, bold=True)
    modules = len(qr_matrix(spec.signup_url)) + 2 * QUIET_ZONE
    module = max(1, min(round(inner * 0.8), bottom - top) // modules)
    while module > 1 and module * modules + _label_height(place, module) > bottom - top:
        module -= 1
    mask = _qr_mask(spec.signup_url, module)
    label_w = round(_length(place.lines[0], place.font, place.language)) if place else 0
    panel_w = min(max(mask.width, label_w + 4 * module), inner)
    panel_h = mask.height + _label_height(place, module)
    y = top + max(0, (bottom - top - panel_h) // 2)
    x = (width - panel_w) // 2
    outline = INK if contrast(colors.bg, WHITE) < 1.3 else None  # white page: show the card
    draw.rounded_rectangle((x, y, x + panel_w, y + panel_h), radius=module * 2, fill=WHITE,
                           outline=outline, width=max(2, module // 4))
    image.paste((0, 0, 0), ((width - mask.width) // 2, y), mask)
    if place:
        _draw_text(draw, place, width // 2, y + mask.height - module * (QUIET_ZONE - 1))
