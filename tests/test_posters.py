"""QR signup posters: every language and size, QR decoded by a real decoder, shaped text."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
import zxingcpp
from flask import Flask
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont

from app.config import Settings
from app.distribution import posters
from app.distribution.posters import PosterSpec, render_poster
from app.i18n import gettext
from app.links import signup_link
from tests.conftest import BASE_URL, Api

ARTIFACTS = Path(__file__).parent / "artifacts"
URL = signup_link(7, 12, Settings(BASE_URL="https://wallet.example.test"))
LOCATIONS = {"en": "Siam Paragon, 4th floor", "th": "สาขาสยามพารากอน", "zh-Hant": "台北信義店",
             "vi": "Quận 1, TP. Hồ Chí Minh", "ms": "Pavilion Kuala Lumpur"}


def _logo() -> bytes:
    """A small two-colour logo with transparency."""
    im = Image.new("RGBA", (480, 150), (0, 0, 0, 0))
    draw = ImageDraw.Draw(im)
    draw.ellipse((5, 5, 145, 145), fill=(200, 40, 40, 255))
    draw.rectangle((170, 40, 470, 110), fill=(30, 90, 160, 255))
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


def spec_for(language: str, **changes: Any) -> PosterSpec:
    """A cafe's poster in one language."""
    base = PosterSpec("Bean There Rewards", "Bean There Cafe", "#3B2314", "#FFFFFF", "#E8C9A0",
                      URL, language, _logo(), LOCATIONS[language])
    return PosterSpec(**{**base.__dict__, **changes})


def qr_texts(image: Image.Image) -> list[str]:
    """Texts of the QR codes a real decoder (ZXing) finds in an image."""
    return [r.text for r in zxingcpp.read_barcodes(image)
            if r.format == zxingcpp.BarcodeFormat.QRCode]


def pdf_page(data: bytes, dpi: int = 150) -> tuple[tuple[float, float], Image.Image]:
    """The size in points of a one-page PDF and its page rendered to an image (PDFium)."""
    doc = pdfium.PdfDocument(data)
    assert len(doc) == 1
    page = doc[0]
    return page.get_size(), page.render(scale=dpi / 72).to_pil()


def keep(name: str, data: bytes) -> None:
    """Keep a rendered poster as a test artifact."""
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / name).write_bytes(data)


@pytest.mark.parametrize("size", list(posters.SIZES_MM))
@pytest.mark.parametrize("language", posters.LANGUAGES)
def test_png_poster_scans_to_the_tagged_signup_url(language: str, size: str) -> None:
    data = render_poster(spec_for(language), "png", size)
    keep(f"poster-{language}-{size}.png", data)
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        assert image.size == posters.page_pixels(size)
        assert round(image.info["dpi"][0]) == posters.DPI
        assert qr_texts(image) == [URL]


@pytest.mark.parametrize("size", list(posters.SIZES_MM))
@pytest.mark.parametrize("language", posters.LANGUAGES)
def test_pdf_poster_is_one_page_of_the_size_and_scans(language: str, size: str) -> None:
    data = render_poster(spec_for(language), "pdf", size)
    assert data.startswith(b"%PDF-")
    (width_pt, height_pt), image = pdf_page(data)
    w_mm, h_mm = posters.SIZES_MM[size]
    assert abs(width_pt - w_mm / 25.4 * 72) < 1.5 and abs(height_pt - h_mm / 25.4 * 72) < 1.5
    assert qr_texts(image) == [URL]  # read at 150 dpi: a printed page scans too


def test_qr_modules_are_big_and_high_contrast_at_print_size() -> None:
    image = Image.open(io.BytesIO(render_poster(spec_for("en"), "png", "a5")))
    (found,) = zxingcpp.read_barcodes(image)
    corners = found.position
    width_mm = (corners.top_right.x - corners.top_left.x) / posters.DPI * 25.4
    assert width_mm > 55  # the code itself is over 5.5 cm wide on an A5 sheet
    assert width_mm / len(posters.qr_matrix(URL)) > 1.2  # modules over 1.2 mm
    assert image.convert("L").getextrema() == (0, 255)  # pure black on pure white


def test_thai_is_shaped_marks_stack_above_vowels() -> None:
    shaped = posters._font("thai", 100, False)
    assert shaped.layout_engine == ImageFont.Layout.RAQM
    basic = ImageFont.truetype(posters.faces()["thai"].path, 100,
                               layout_engine=ImageFont.Layout.BASIC)
    # "ที่": the tone mark (mai ek) sits above the vowel sara ii only when shaped
    top_shaped = shaped.getbbox("ที่", anchor="ls")[1]
    top_vowel_only = shaped.getbbox("ที", anchor="ls")[1]
    assert top_shaped < top_vowel_only - 12
    assert basic.getbbox("ที่", anchor="ls")[1] > top_shaped + 8
    drawn = []
    for font in (shaped, basic):
        im = Image.new("L", (1200, 200), 0)
        ImageDraw.Draw(im).text((10, 150), "ร้านกาแฟที่นี่", font=font, fill=255, anchor="ls")
        drawn.append(im.tobytes())
    assert drawn[0] != drawn[1]


def test_every_poster_text_is_covered_by_its_font() -> None:
    texts = [gettext(lang, t) for t in posters.TEXTS.values() for lang in posters.LANGUAGES]
    texts += list(LOCATIONS.values()) + ["ร้านกาแฟบ้านสวน", "珍珠奶茶會員", "Phở Hà Nội", URL]
    for language in posters.LANGUAGES:
        for text in texts:
            key = posters.font_key(text, language)
            face = posters.faces()[key]
            with TTFont(face.path, fontNumber=face.index, lazy=True) as font:
                cmap = font.getBestCmap()
            missing = {c for c in text if ord(c) not in cmap and c != posters.BREAK}
            assert not missing, (language, text, key, missing)
    assert posters.font_key("掃描領取會員卡", "zh-Hant") == "cjk"
    assert posters.font_key("สแกน", "th") == "thai"
    assert posters.font_key("Quét mã", "vi") == "latin"


@pytest.mark.parametrize("name", ["Bean " * 2000, "ร้านกาแฟ" * 1250, "W" * 10_000])
def test_a_huge_name_is_ellipsized_within_the_page(name: str) -> None:
    width = 1000
    block = posters.layout(name, "th", width, 2, 80, 40, (0, 0, 0), bold=True)
    assert len(block.lines) == 2 and block.lines[-1].endswith(posters.ELLIPSIS)
    assert all(block.font.getlength(line, language="th") <= width for line in block.lines)
    data = render_poster(spec_for("th", program_name=name, organization_name=name,
                                  location_name=name), "png", "a5")
    keep(f"poster-hostile-{ord(name[0])}.png", data)
    assert qr_texts(Image.open(io.BytesIO(data))) == [URL]


def test_odd_colours_and_logos_still_give_a_readable_scannable_poster() -> None:
    spec = spec_for("en", background_color="#FFFFFF", foreground_color="#FEFEFE",
                    label_color="not a colour", logo_png=b"\x89PNG broken")
    data = render_poster(spec, "png", "letter")
    keep("poster-odd-colours.png", data)
    palette = posters._Palette.of(spec)
    assert posters.contrast(palette.fg, palette.bg) >= posters.MIN_CONTRAST
    assert qr_texts(Image.open(io.BytesIO(data))) == [URL]


def test_bad_format_or_size_are_refused() -> None:
    with pytest.raises(ValueError, match="format"):
        render_poster(spec_for("en"), "gif", "a4")
    with pytest.raises(ValueError, match="size"):
        render_poster(spec_for("en"), "png", "a3")


def test_signup_url_tags_the_location() -> None:
    settings = Settings(BASE_URL="https://w.example")
    assert signup_link(3, 12, settings) == "https://w.example/join/3?loc=12"
    assert signup_link(3, None, settings) == "https://w.example/join/3"


# ---------------------------------------------------------------- the route


def test_poster_route_png_and_pdf(api: Api, program: dict[str, Any]) -> None:
    pid = program["id"]
    shop = api.post(f"/programs/{pid}/locations", {"name": "Siam Paragon", "latitude": 13.746,
                                                   "longitude": 100.535}).get_json()
    tagged = f"{BASE_URL}/join/{pid}?loc={shop['id']}"
    resp = api.get(f"/programs/{pid}/poster.png?size=a5&location={shop['id']}")
    assert resp.status_code == 200 and resp.mimetype == "image/png"
    keep(f"poster-route-{pid}-a5.png", resp.data)
    assert qr_texts(Image.open(io.BytesIO(resp.data))) == [tagged]
    resp = api.get(f"/programs/{pid}/poster.pdf?location={shop['id']}")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert f"-{shop['id']}.pdf" in resp.headers["Content-Disposition"]
    (width_pt, _), image = pdf_page(resp.data)
    assert abs(width_pt - 595.3) < 1.5  # A4 by default
    assert qr_texts(image) == [tagged]
    hits = posters.cached_poster.cache_info().hits
    assert api.get(f"/programs/{pid}/poster.pdf?location={shop['id']}").data == resp.data
    assert posters.cached_poster.cache_info().hits == hits + 1
    untagged = api.get(f"/programs/{pid}/poster.png?size=letter")
    assert qr_texts(Image.open(io.BytesIO(untagged.data))) == [f"{BASE_URL}/join/{pid}"]


def test_poster_shows_the_stored_location_name(api: Api, program: dict[str, Any]) -> None:
    pid = program["id"]
    shop = api.post(f"/programs/{pid}/locations", {"name": "Siam Paragon 4F",
                                                   "latitude": 13.746, "longitude": 100.535})
    spec = poster_spec_of(pid, shop.get_json()["id"], api)
    assert spec.location_name == "Siam Paragon 4F"
    assert spec.signup_url.endswith(f"?loc={shop.get_json()['id']}")


def poster_spec_of(program_id: int, location_id: int, api: Api) -> PosterSpec:
    """The spec the poster route draws for a stored location."""
    from app.api.posters import poster_spec
    from app.locations.operations import get_location
    from app.models import Program

    with api.client.application.app_context():
        from app.extensions import db

        program = db.session.get(Program, program_id)
        assert program is not None
        return poster_spec(program, get_location(program, location_id))


def test_poster_for_an_unknown_or_foreign_location_is_404(api: Api, other_api: Api,
                                                          program: dict[str, Any]) -> None:
    theirs = other_api.post("/programs", {"name": "Other", "template": "cafe"}).get_json()
    foreign = other_api.post(f"/programs/{theirs['id']}/locations",
                             {"name": "Elsewhere", "latitude": 1, "longitude": 2}).get_json()
    for location in (foreign["id"], 999999):
        resp = api.get(f"/programs/{program['id']}/poster.png?location={location}")
        assert resp.status_code == 404, location
        assert resp.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("query, status, code", [
    ("poster.gif", 404, "unknown_format"),
    ("poster.png?size=a3", 422, "validation_error"),
    ("poster.pdf?size=", 422, "validation_error"),
    ("poster.png?location=%3Cscript%3E", 422, "validation_error"),
    ("poster.png?location=siam01", 422, "validation_error"),
    ("poster.png?location=" + "9" * 33, 422, "validation_error"),
])
def test_poster_route_bad_options(api: Api, program: dict[str, Any], query: str, status: int,
                                  code: str) -> None:
    resp = api.get(f"/programs/{program['id']}/{query}")
    assert resp.status_code == status
    assert resp.get_json()["error"]["code"] == code


def test_poster_route_needs_the_owner(app: Flask, client: Any, api: Api, other_api: Api,
                                      program: dict[str, Any]) -> None:
    assert client.get(f"/api/v1/programs/{program['id']}/poster.png").status_code == 401
    assert other_api.get(f"/programs/{program['id']}/poster.png").status_code == 404


def test_the_wallets_line_names_google_only_where_it_is_configured() -> None:
    from app.distribution.posters import TEXTS, _text

    with_google, without = spec_for("en"), replace(spec_for("en"), google=False)
    assert "Google" in _text(with_google, "wallets")
    assert "Google" not in _text(without, "wallets_apple") == TEXTS["wallets_apple"]
    assert render_poster(with_google, "png", "a5") != render_poster(without, "png", "a5")
