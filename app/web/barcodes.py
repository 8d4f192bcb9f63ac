"""Barcodes drawn on web pages: the card's code for the till, and QR codes of links.

Drawn on the server as small black-on-white PNGs (one pixel per module, with the quiet
zone), so the page needs no script, works offline from the home screen and scales them
up crisply (`image-rendering: pixelated`). QR, PDF417, Aztec and Code 128 come from
zxing-cpp's writer; a format it cannot draw falls back to a QR code (the page then prints
the card's short code under it, as every card does). Everything here is pure.
"""

from __future__ import annotations

import base64
import io
import logging
from dataclasses import dataclass
from functools import lru_cache

import qrcode
from PIL import Image

log = logging.getLogger(__name__)
QUIET_ZONE = 4


@dataclass(frozen=True)
class Drawn:
    """A barcode as a PNG (one pixel per module) and the format actually drawn."""

    png: bytes
    format: str
    width: int
    height: int

    def data_uri(self) -> str:
        """The PNG as a data: URI for an <img> (no second request, works offline)."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@lru_cache(maxsize=256)
def draw_barcode(fmt: str, value: str) -> Drawn:
    """The value as a barcode of the format (qr, pdf417, aztec, code128); QR if it cannot."""
    if fmt != "qr":
        try:
            return _zxing(fmt, value)
        except Exception:  # an old writer, or a value the format cannot hold
            log.warning("barcode: cannot draw %s; drawing a QR code instead", fmt)
    return qr_code(value)


def qr_code(value: str) -> Drawn:
    """A QR code of the value (error correction M), with its quiet zone."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=QUIET_ZONE,
                         box_size=1)
    code.add_data(value)
    code.make(fit=True)
    matrix = code.get_matrix()
    image = Image.new("L", (len(matrix[0]), len(matrix)), 255)
    image.putdata([0 if dark else 255 for row in matrix for dark in row])
    return Drawn(_png(image), "qr", image.width, image.height)


def _zxing(fmt: str, value: str) -> Drawn:
    """PDF417, Aztec or Code 128 drawn by zxing-cpp."""
    import zxingcpp

    formats = {"pdf417": zxingcpp.PDF417, "aztec": zxingcpp.Aztec,
               "code128": zxingcpp.Code128}
    barcode = zxingcpp.create_barcode(value, formats[fmt])
    pixels = memoryview(zxingcpp.write_barcode_to_image(barcode, scale=1))  # type: ignore[arg-type]
    height, width = pixels.shape[0], pixels.shape[1]  # type: ignore[index]
    image = Image.frombytes("L", (width, height), pixels.tobytes())
    if fmt == "code128":  # a linear code: taller bars read better from a phone screen
        image = image.resize((width, max(height, width // 4)), Image.Resampling.NEAREST)
    return Drawn(_png(image), fmt, image.width, image.height)


def _png(image: Image.Image) -> bytes:
    """A bilevel PNG of the image (a few hundred bytes)."""
    out = io.BytesIO()
    image.convert("1").save(out, "PNG", optimize=True)
    return out.getvalue()
