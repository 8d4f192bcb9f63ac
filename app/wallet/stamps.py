"""Stamp cards: drawing the strip image that shows a row of filled and empty stamps.

A stamp program counts stamps in the points ledger (one stamp = one point; see
app/loyalty/stamps.py for the artwork upload). Card content decides the StampRow a card
shows; its strip is drawn here with Pillow from the program's stamp artwork or a default
drawn stamp; positions where a reward becomes available get a double ring. A strip depends
only on the colours, the artwork and the stamp row (collected, per card, reward positions),
so each is drawn once and kept in a small in-process LRU keyed by exactly that; every pass
with that count reuses it, and the Apple issuer also keeps one static bundle per count.
"""

from __future__ import annotations

import hashlib
import io
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass

from PIL import Image, ImageDraw

from app.wallet import images

STRIP_SIZE = images.IMAGE_SPECS["strip"]
SCALES = ((1, ""), (2, "@2x"), (3, "@3x"))
ART_KIND = "stamp"
ART_FILENAME = "stamp-art.png"
CACHE_SIZE = 256


@dataclass(frozen=True)
class StampRow:
    """What a stamp strip shows: stamps collected, stamps on a full card, reward positions."""

    collected: int
    required: int
    rewards: tuple[int, ...] = ()


_cache: OrderedDict[tuple[object, ...], dict[str, bytes]] = OrderedDict()
_lock = threading.Lock()


def strip_files(background: str, foreground: str, art: bytes | None,
                row: StampRow) -> dict[str, bytes]:
    """strip.png, @2x and @3x for this stamp count, drawn once per design and count (the
    cache key is what the drawing depends on: colours, artwork digest, stamp row)."""
    digest = hashlib.sha256(art).hexdigest() if art else None
    key = (background, foreground, digest, row)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    files = {f"strip{suffix}.png": render(background, foreground, art, row, scale)
             for scale, suffix in SCALES}
    with _lock:
        _cache[key] = files
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return files


def cache_info() -> int:
    """How many strips are cached (for tests and metrics)."""
    return len(_cache)


def clear_cache() -> None:
    """Forget every cached strip."""
    with _lock:
        _cache.clear()


def layout(required: int, scale: int) -> tuple[int, int, int]:
    """(columns, rows, cell size in pixels) fitting `required` stamps in the strip."""
    width, height = STRIP_SIZE[0] * scale, STRIP_SIZE[1] * scale
    rows = 1 if required <= 6 else 2
    columns = math.ceil(required / rows)
    return columns, rows, int(min(width / columns, height / rows))


def render(background: str, foreground: str, art: bytes | None, row: StampRow,
           scale: int) -> bytes:
    """Draw one strip PNG at one scale."""
    width, height = STRIP_SIZE[0] * scale, STRIP_SIZE[1] * scale
    canvas = Image.new("RGB", (width, height), background)
    columns, rows, cell = layout(row.required, scale)
    stamp = _stamp(art, foreground, background, int(cell * 0.78))
    draw = ImageDraw.Draw(canvas)
    left = (width - columns * cell) // 2
    top = (height - rows * cell) // 2
    for i in range(row.required):
        x = left + (i % columns) * cell + (cell - stamp.width) // 2
        y = top + (i // columns) * cell + (cell - stamp.height) // 2
        box = (x, y, x + stamp.width - 1, y + stamp.height - 1)
        if i < row.collected:
            canvas.paste(stamp, (x, y), stamp)
        else:
            draw.ellipse(box, outline=foreground, width=max(1, scale * 2))
        if i + 1 in row.rewards:
            pad = max(2, scale * 3)
            draw.ellipse((box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad),
                         outline=foreground, width=max(1, scale))
    buf = io.BytesIO()
    canvas.save(buf, "PNG", optimize=True)
    return buf.getvalue()


def _stamp(art: bytes | None, foreground: str, background: str, size: int) -> Image.Image:
    """One filled stamp (RGBA): the artwork cut to a circle, or a drawn disc with a tick."""
    mask = Image.new("L", (size, size), 0)
    ImageDraw.Draw(mask).ellipse((0, 0, size - 1, size - 1), fill=255)
    if art is not None:
        picture = Image.open(io.BytesIO(art)).convert("RGBA").resize((size, size))
        picture.putalpha(mask)
        return picture
    stamp = Image.new("RGBA", (size, size), foreground)
    stamp.putalpha(mask)
    w = max(2, size // 10)
    ImageDraw.Draw(stamp).line([(size * 0.28, size * 0.52), (size * 0.44, size * 0.68),
                                (size * 0.74, size * 0.34)], fill=background, width=w)
    return stamp
