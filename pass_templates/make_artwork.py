"""Draw the starter artwork (icon.png, logo.png, strip.png) for every template, with Pillow only.

Run from the repository root:  python pass_templates/make_artwork.py [--out DIR]

Shapes are drawn at 4x and scaled down with Lanczos for smooth edges. No fonts, no
randomness: the same Pillow and zlib give the same bytes on every run. The logo is a
mark only, on a transparent square: Wallet prints the program's logo_text right next
to it, so a wordmark would show the shop's name twice.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
SUPERSAMPLE = 4
ICON_SIZE = (180, 180)
LOGO_SIZE = (150, 150)
STRIP_SIZE = (1125, 369)
CLEAR = (0, 0, 0, 0)

RGBA = tuple[int, int, int, int]
Box = tuple[float, float, float]  # x, y, side of the square a mark is drawn into


def rgba(hex_color: str, alpha: int = 255) -> RGBA:
    """'#RRGGBB' to an RGBA tuple."""
    return (int(hex_color[1:3], 16), int(hex_color[3:5], 16), int(hex_color[5:7], 16), alpha)


class Pen:
    """ImageDraw in final-pixel coordinates on a canvas SUPERSAMPLE times larger."""

    def __init__(self, size: tuple[int, int], fill: RGBA = CLEAR) -> None:
        self.size = size
        self.image = Image.new("RGBA", (size[0] * SUPERSAMPLE, size[1] * SUPERSAMPLE), fill)
        self.draw = ImageDraw.Draw(self.image)

    @staticmethod
    def _s(values: tuple[float, ...] | list[float]) -> list[float]:
        return [v * SUPERSAMPLE for v in values]

    def ellipse(
        self,
        box: tuple[float, float, float, float],
        fill: RGBA | None = None,
        outline: RGBA | None = None,
        width: float = 0,
    ) -> None:
        """An ellipse inside (x0, y0, x1, y1)."""
        self.draw.ellipse(
            self._s(box), fill=fill, outline=outline, width=round(width * SUPERSAMPLE)
        )

    def circle(
        self,
        cx: float,
        cy: float,
        r: float,
        fill: RGBA | None = None,
        outline: RGBA | None = None,
        width: float = 0,
    ) -> None:
        """A circle of radius r around (cx, cy)."""
        self.ellipse((cx - r, cy - r, cx + r, cy + r), fill, outline, width)

    def rounded(
        self,
        box: tuple[float, float, float, float],
        radius: float,
        fill: RGBA,
        corners: tuple[bool, bool, bool, bool] | None = None,
    ) -> None:
        """A rounded rectangle."""
        self.draw.rounded_rectangle(
            self._s(box), radius=round(radius * SUPERSAMPLE), fill=fill, corners=corners
        )

    def polygon(self, points: list[tuple[float, float]], fill: RGBA) -> None:
        """A filled polygon."""
        self.draw.polygon([(x * SUPERSAMPLE, y * SUPERSAMPLE) for x, y in points], fill=fill)

    def line(self, points: list[tuple[float, float]], fill: RGBA, width: float) -> None:
        """A polyline with round joints and round caps."""
        scaled = [(x * SUPERSAMPLE, y * SUPERSAMPLE) for x, y in points]
        w = round(width * SUPERSAMPLE)
        self.draw.line(scaled, fill=fill, width=w, joint="curve")
        for x, y in (scaled[0], scaled[-1]):
            self.draw.ellipse((x - w / 2, y - w / 2, x + w / 2, y + w / 2), fill=fill)

    def arc(
        self,
        box: tuple[float, float, float, float],
        start: float,
        end: float,
        fill: RGBA,
        width: float,
    ) -> None:
        """An arc of the ellipse inside box, angles in degrees clockwise from 3 o'clock."""
        self.draw.arc(self._s(box), start, end, fill=fill, width=round(width * SUPERSAMPLE))

    def layer(self) -> Pen:
        """A transparent pen of the same size, to composite translucent shapes."""
        return Pen(self.size)

    def composite(self, other: Pen) -> None:
        """Blend another pen's drawing over this one."""
        self.image = Image.alpha_composite(self.image, other.image)
        self.draw = ImageDraw.Draw(self.image)

    def finish(self) -> Image.Image:
        """Scale down to the final size."""
        return self.image.resize(self.size, Image.Resampling.LANCZOS)


def horizontal_gradient(pen: Pen, left: str, right: str) -> None:
    """Fill the pen with a left-to-right blend of two colours."""
    width, height = pen.image.size
    mask = Image.linear_gradient("L").rotate(90).resize((width, height))
    start = Image.new("RGBA", (width, height), rgba(left))
    end = Image.new("RGBA", (width, height), rgba(right))
    pen.image = Image.composite(end, start, mask)
    pen.draw = ImageDraw.Draw(pen.image)


def wave(x: float, y_top: float, y_bottom: float, amplitude: float) -> list[tuple[float, float]]:
    """Points of one rising wisp of steam."""
    steps = 24
    rise = y_bottom - y_top
    return [
        (x + amplitude * math.sin(i / steps * 2 * math.pi), y_bottom - rise * i / steps)
        for i in range(steps + 1)
    ]


# ---- marks ---------------------------------------------------------------------------------


def cup_mark(pen: Pen, box: Box, ink: RGBA, hole: RGBA) -> None:
    """A steaming coffee cup on a saucer."""
    x, y, s = box
    pen.rounded((x + 0.08 * s, y + 0.84 * s, x + 0.86 * s, y + 0.92 * s), 0.04 * s, ink)
    pen.rounded(
        (x + 0.16 * s, y + 0.42 * s, x + 0.70 * s, y + 0.82 * s),
        0.16 * s,
        ink,
        corners=(False, False, True, True),
    )
    pen.ellipse(
        (x + 0.60 * s, y + 0.47 * s, x + 0.88 * s, y + 0.71 * s), outline=ink, width=0.07 * s
    )
    pen.rounded((x + 0.16 * s, y + 0.42 * s, x + 0.70 * s, y + 0.50 * s), 0.02 * s, ink)
    pen.line([(x + 0.26 * s, y + 0.52 * s), (x + 0.60 * s, y + 0.52 * s)], hole, 0.025 * s)
    for cx in (0.30, 0.43, 0.56):
        pen.line(wave(x + cx * s, y + 0.08 * s, y + 0.34 * s, 0.035 * s), ink, 0.045 * s)


def bag_mark(pen: Pen, box: Box, ink: RGBA, hole: RGBA) -> None:
    """A shopping bag with a diamond cut out of its front."""
    x, y, s = box
    pen.arc((x + 0.32 * s, y + 0.10 * s, x + 0.68 * s, y + 0.50 * s), 180, 360, ink, 0.07 * s)
    pen.line([(x + 0.32 * s, y + 0.30 * s), (x + 0.32 * s, y + 0.40 * s)], ink, 0.07 * s)
    pen.line([(x + 0.68 * s, y + 0.30 * s), (x + 0.68 * s, y + 0.40 * s)], ink, 0.07 * s)
    pen.rounded((x + 0.16 * s, y + 0.34 * s, x + 0.84 * s, y + 0.92 * s), 0.07 * s, ink)
    cx, cy, r = x + 0.50 * s, y + 0.63 * s, 0.14 * s
    pen.polygon([(cx, cy - r), (cx + r * 0.8, cy), (cx, cy + r), (cx - r * 0.8, cy)], hole)


def washer_mark(pen: Pen, box: Box, ink: RGBA, hole: RGBA, glass: RGBA) -> None:
    """A front-loading washing machine with water behind the door."""
    x, y, s = box
    pen.rounded((x + 0.14 * s, y + 0.06 * s, x + 0.86 * s, y + 0.94 * s), 0.10 * s, ink)
    pen.line([(x + 0.14 * s, y + 0.27 * s), (x + 0.86 * s, y + 0.27 * s)], hole, 0.03 * s)
    pen.circle(x + 0.27 * s, y + 0.165 * s, 0.045 * s, fill=hole)
    pen.circle(x + 0.40 * s, y + 0.165 * s, 0.045 * s, fill=hole)
    pen.rounded((x + 0.56 * s, y + 0.14 * s, x + 0.76 * s, y + 0.19 * s), 0.02 * s, hole)
    cx, cy = x + 0.50 * s, y + 0.60 * s
    pen.circle(cx, cy, 0.25 * s, fill=hole)
    pen.circle(cx, cy, 0.19 * s, fill=glass)
    pen.circle(cx - 0.07 * s, cy - 0.06 * s, 0.045 * s, fill=ink)
    pen.circle(cx + 0.06 * s, cy + 0.06 * s, 0.03 * s, fill=ink)


# ---- strips --------------------------------------------------------------------------------


def coffee_bean(
    pen: Pen, cx: float, cy: float, size: float, angle: float, color: RGBA, crease: RGBA
) -> None:
    """A coffee bean: an oval with an S-shaped crease, rotated by angle degrees."""
    tile = Pen((round(size * 1.6), round(size * 1.6)))
    c = size * 0.8
    tile.ellipse((c - size * 0.42, c - size * 0.6, c + size * 0.42, c + size * 0.6), fill=color)
    tile.line(
        [
            (c + size * 0.05 * math.sin(i / 8 * math.pi), c - size * 0.5 + size * i / 8)
            for i in range(9)
        ],
        crease,
        size * 0.08,
    )
    rotated = tile.image.rotate(angle, resample=Image.Resampling.BICUBIC)
    layer = pen.layer()
    layer.image.paste(rotated, (round((cx - c) * SUPERSAMPLE), round((cy - c) * SUPERSAMPLE)))
    pen.composite(layer)


def latte_heart(pen: Pen, cx: float, cy: float, offset: float, r: float, color: RGBA) -> None:
    """A heart: two circles and the 45-degree tangents that meet under them."""
    d = r * math.sqrt(0.5)
    left, right = (cx - offset - d, cy + d), (cx + offset + d, cy + d)
    pen.circle(cx - offset, cy, r, fill=color)
    pen.circle(cx + offset, cy, r, fill=color)
    pen.polygon([left, (cx, cy), right, (cx, cy + d + offset + d)], color)


def cafe_strip() -> Image.Image:
    """Dark roast gradient, a latte seen from above on the right, scattered beans."""
    pen = Pen(STRIP_SIZE)
    horizontal_gradient(pen, "#34200F", "#6A4329")
    beans = [
        (560, 300, 46, 20),
        (650, 70, 40, -35),
        (720, 250, 34, 60),
        (610, 175, 28, 110),
        (1080, 60, 42, 140),
        (1090, 320, 38, 30),
        (520, 60, 30, 75),
        (780, 345, 36, -60),
    ]
    for cx, cy, size, angle in beans:
        coffee_bean(pen, cx, cy, size, angle, rgba("#24140A", 235), rgba("#7A5134"))
    cx, cy = 905, 190
    shadow = pen.layer()
    shadow.circle(cx + 8, cy + 12, 150, fill=rgba("#1B0F07", 110))
    pen.composite(shadow)
    pen.circle(cx, cy, 150, fill=rgba("#F7EBDD"))
    pen.circle(cx, cy, 118, fill=rgba("#3B2212"))
    pen.circle(cx, cy, 104, fill=rgba("#9C6B43"))
    latte_heart(pen, cx, cy - 16, 30, 38, rgba("#F6E3C8"))
    pen.rounded((cx + 140, cy - 22, cx + 215, cy + 22), 22, rgba("#F7EBDD"))
    return pen.finish()


def retail_strip() -> Image.Image:
    """Deep teal with translucent diagonal bands fanning out on the right."""
    pen = Pen(STRIP_SIZE)
    horizontal_gradient(pen, "#0B1F26", "#124652")
    bands = [
        (560, 120, "#2EC4B6", 60),
        (700, 90, "#7FE0D0", 70),
        (820, 150, "#2EC4B6", 95),
        (990, 70, "#FFFFFF", 45),
        (1060, 110, "#7FE0D0", 80),
    ]
    for x, width, color, alpha in bands:
        layer = pen.layer()
        layer.polygon(
            [(x, 369), (x + width, 369), (x + width + 260, 0), (x + 260, 0)], rgba(color, alpha)
        )
        pen.composite(layer)
    lines = pen.layer()
    for x in range(480, 1125, 38):
        lines.line([(x, 369), (x + 260, 0)], rgba("#7FE0D0", 28), 2)
    pen.composite(lines)
    mark = pen.layer()
    bag_mark(mark, (905, 95, 190), rgba("#FFFFFF", 235), CLEAR)
    pen.composite(mark)
    return pen.finish()


def laundromat_strip() -> Image.Image:
    """Fresh blue with soap bubbles drifting up on the right and a wave along the bottom."""
    pen = Pen(STRIP_SIZE)
    horizontal_gradient(pen, "#0B4F9C", "#176AC0")
    water = pen.layer()
    points = [(x, 318 + 14 * math.sin(x / 1125 * 5 * math.pi)) for x in range(0, 1126, 15)]
    water.polygon([*points, (1125, 369), (0, 369)], rgba("#FFFFFF", 38))
    pen.composite(water)
    bubbles = [
        (640, 250, 34),
        (720, 120, 58),
        (840, 260, 46),
        (900, 95, 28),
        (980, 200, 72),
        (1085, 70, 40),
        (1070, 300, 30),
        (560, 90, 22),
        (790, 330, 18),
        (610, 180, 14),
    ]
    for cx, cy, r in bubbles:
        layer = pen.layer()
        layer.circle(
            cx, cy, r, fill=rgba("#FFFFFF", 40), outline=rgba("#FFFFFF", 190), width=max(2, r / 12)
        )
        layer.arc(
            (cx - r * 0.68, cy - r * 0.68, cx + r * 0.68, cy + r * 0.68),
            200,
            250,
            rgba("#FFFFFF", 220),
            max(2, r / 9),
        )
        pen.composite(layer)
    return pen.finish()


# ---- templates -----------------------------------------------------------------------------


def _icon(background: str, mark: Callable[[Pen, Box], None]) -> Image.Image:
    """A square icon: the mark centred on the card's background colour."""
    pen = Pen(ICON_SIZE, rgba(background))
    side = ICON_SIZE[0] * 0.74
    mark(pen, ((ICON_SIZE[0] - side) / 2, (ICON_SIZE[1] - side) / 2, side))
    return pen.finish()


def _logo(mark: Callable[[Pen, Box], None]) -> Image.Image:
    """The mark alone on a transparent background."""
    pen = Pen(LOGO_SIZE)
    mark(pen, (0, 0, LOGO_SIZE[0]))
    return pen.finish()


def cafe() -> dict[str, Image.Image]:
    """Artwork for the cafe template."""
    return {
        "icon": _icon("#4B2E1E", lambda p, b: cup_mark(p, b, rgba("#F3D9B1"), rgba("#4B2E1E"))),
        "logo": _logo(lambda p, b: cup_mark(p, b, rgba("#F3D9B1"), CLEAR)),
        "strip": cafe_strip(),
    }


def retail() -> dict[str, Image.Image]:
    """Artwork for the retail template."""
    return {
        "icon": _icon("#0F2A33", lambda p, b: bag_mark(p, b, rgba("#7FE0D0"), rgba("#0F2A33"))),
        "logo": _logo(lambda p, b: bag_mark(p, b, rgba("#7FE0D0"), CLEAR)),
        "strip": retail_strip(),
    }


def laundromat() -> dict[str, Image.Image]:
    """Artwork for the laundromat template."""
    glass = rgba("#9FD3FF")
    return {
        "icon": _icon(
            "#0B57A4", lambda p, b: washer_mark(p, b, rgba("#FFFFFF"), rgba("#0B57A4"), glass)
        ),
        "logo": _logo(lambda p, b: washer_mark(p, b, rgba("#FFFFFF"), CLEAR, glass)),
        "strip": laundromat_strip(),
    }


ARTWORK: dict[str, Callable[[], dict[str, Image.Image]]] = {
    "cafe": cafe,
    "retail": retail,
    "laundromat": laundromat,
}


def write_png(image: Image.Image, path: Path) -> None:
    """Save an optimized PNG with no metadata; opaque images are stored as RGB."""
    if image.mode == "RGBA" and image.getchannel("A").getextrema()[0] == 255:
        image = image.convert("RGB")
    image.info = {}
    image.save(path, "PNG", optimize=True)


def generate(out_dir: Path = HERE) -> list[Path]:
    """Draw every template's artwork into out_dir/<name>/ and return the files written."""
    written = []
    for name, draw in ARTWORK.items():
        folder = out_dir / name
        folder.mkdir(parents=True, exist_ok=True)
        for kind, image in draw().items():
            path = folder / f"{kind}.png"
            write_png(image, path)
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder holding the templates")
    args = parser.parse_args(argv)
    for path in generate(args.out):
        print(path)


if __name__ == "__main__":
    main()
