"""Turn a merchant's uploaded picture into the PNG files an Apple Wallet store card needs.

Pipeline for every upload, whatever the kind:

1. refuse early on cheap facts: unknown kind, empty body, more than MAX_UPLOAD_BYTES,
   a format other than PNG or JPEG (sniffed from the bytes, never the file name);
2. read only the header and refuse more than MAX_SOURCE_PIXELS or less than 10x10
   before a single pixel is decoded (Pillow's own decompression-bomb warning is
   raised as an error while we work);
3. decode, convert any embedded ICC profile to sRGB, apply the EXIF orientation,
   and normalise the mode to RGB or RGBA (CMYK, palette, grey, 16-bit...);
4. render name.png, name@2x.png and name@3x.png from the full source each time:
   icon and strip are cover-cropped around the centre to their exact sizes; the
   logo is scaled to fit inside 160x50 points keeping its aspect ratio. A logo
   smaller than the box is scaled up to fill it (Wallet would stretch it anyway,
   and a crisp resample beats the phone's); upload at least 480x150 for sharp
   retina output;
5. write optimized PNGs with no metadata at all (no EXIF, text, ICC, gamma, dpi).

Every failure, including Pillow's own exceptions, leaves as an ImageError.
"""

from __future__ import annotations

import functools
import io
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any, cast

from PIL import Image, ImageOps

_cms: ModuleType | None
try:  # LittleCMS is optional in Pillow builds; without it ICC profiles are dropped.
    from PIL import ImageCms as _cms
except ImportError:  # pragma: no cover - depends on how Pillow was built
    _cms = None

IMAGE_SPECS: dict[str, tuple[int, int]] = {"icon": (29, 29), "logo": (160, 50), "strip": (375, 123)}
SCALES: tuple[tuple[int, str], ...] = ((1, ""), (2, "@2x"), (3, "@3x"))
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_SOURCE_PIXELS = 40_000_000
MIN_SOURCE_SIDE = 10

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
_ACCEPTED_FORMATS = ("PNG", "JPEG")
_SIXTEEN_BIT_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N")
log = logging.getLogger(__name__)
_RESAMPLE = Image.Resampling.LANCZOS
_REDUCING_GAP = 3.0


class ImageError(ValueError):
    """An uploaded image was refused; .code, .message and .status say why and how to answer."""

    def __init__(self, code: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def process_image(kind: str, data: bytes) -> dict[str, bytes]:
    """Validate an uploaded PNG or JPEG and render `<kind>.png`, `@2x` and `@3x` for a pass."""
    if kind not in IMAGE_SPECS:
        raise ImageError(
            "unknown_image_kind",
            f"Unknown image kind {kind!r}; expected one of: {', '.join(IMAGE_SPECS)}.",
            400,
        )
    _check_bytes(data)
    source = _decode_safely(data, max(IMAGE_SPECS[kind]) * 3)
    try:
        return {
            f"{kind}{suffix}.png": _to_png(_render(kind, source, scale)) for scale, suffix in SCALES
        }
    except Exception as exc:  # a decoded image failing to resize is our bug, not the upload's
        log.exception("resizing a decoded %s image failed", kind)
        raise ImageError(
            "image_processing_failed",
            "The image could not be processed; try exporting it again as PNG.",
        ) from exc


def _decode_safely(data: bytes, working_side: int) -> Image.Image:
    """_decode with every Pillow failure translated to an ImageError."""
    with _bomb_warnings_as_errors():
        try:
            return _decode(data, working_side)
        except ImageError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _too_many_pixels() from exc
        except MemoryError as exc:
            raise _too_many_pixels() from exc
        except Exception as exc:  # any decoder failure: truncated, corrupt, malformed chunks
            raise ImageError(
                "corrupt_image",
                "The image file is damaged or incomplete and could not be read. "
                "Export it again as PNG or JPEG and retry.",
            ) from exc


def _check_bytes(data: bytes) -> None:
    """Refuse uploads that are empty, too big, or not PNG/JPEG, without parsing them."""
    if not data:
        raise ImageError("empty_image", "The uploaded file is empty.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageError(
            "image_too_large",
            f"The image is {len(data) / 1024 / 1024:.1f} MB; the limit is "
            f"{MAX_UPLOAD_BYTES // (1024 * 1024)} MB.",
            413,
        )
    if data.startswith(_PNG_MAGIC) or data.startswith(_JPEG_MAGIC):
        return
    other = _sniff_other_format(data)
    if other:
        raise ImageError(
            "unsupported_format",
            f"{other} images are not supported; upload a PNG or JPEG file.",
        )
    raise ImageError("not_an_image", "The file is not an image; upload a PNG or JPEG file.")


def _sniff_other_format(data: bytes) -> str | None:
    """Name a known but refused image format from its first bytes, or None."""
    head = data[:512]
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypmsf1", b"ftypheif"):
        return "HEIC"
    if head[4:12] in (b"ftypavif", b"ftypavis"):
        return "AVIF"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "TIFF"
    if head.startswith(b"BM"):
        return "BMP"
    if head.startswith(b"\x00\x00\x01\x00"):
        return "ICO"
    if head.startswith(b"%PDF"):
        return "PDF"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in text):
        return "SVG"
    return None


def _too_many_pixels() -> ImageError:
    """The error for images whose header claims too many pixels."""
    return ImageError(
        "image_too_many_pixels",
        f"The image has too many pixels (limit {MAX_SOURCE_PIXELS // 1_000_000} megapixels); "
        "resize it to at most a few thousand pixels per side.",
    )


@contextmanager
def _bomb_warnings_as_errors() -> Iterator[None]:
    """Raise Pillow's DecompressionBombWarning as an exception while the block runs.

    warnings.catch_warnings is process-global; concurrent threads may see the filter
    linger or vanish early, which is harmless because MAX_SOURCE_PIXELS (checked by
    us from the header) is stricter than Pillow's default warning threshold.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        yield


def _decode(data: bytes, working_side: int) -> Image.Image:
    """Check the header, then decode to an sRGB, upright RGB or RGBA image."""
    opened = Image.open(io.BytesIO(data), formats=_ACCEPTED_FORMATS)
    width, height = opened.size
    if width * height > MAX_SOURCE_PIXELS:
        raise _too_many_pixels()
    if width < MIN_SOURCE_SIDE or height < MIN_SOURCE_SIDE:
        raise ImageError(
            "image_dimensions",
            f"The image is {width}x{height} pixels; it must be at least "
            f"{MIN_SOURCE_SIDE}x{MIN_SOURCE_SIDE}.",
        )
    if opened.format != "PNG":
        # JPEG: let libjpeg decode at 1/2, 1/4 or 1/8 scale when the source is far
        # larger than the biggest output; both sides stay >= working_side.
        opened.draft(None, (working_side, working_side))
    opened.load()
    icc = opened.info.get("icc_profile")
    im = _normalize_mode(_upright(opened))
    if icc:
        im = _to_srgb(im, icc)
    return _final_mode(im)


def _upright(im: Image.Image) -> Image.Image:
    """Apply the EXIF orientation; a malformed EXIF block is ignored, not fatal."""
    try:
        rotated = ImageOps.exif_transpose(im)
    except Exception:  # broken EXIF must not cost the merchant their upload
        return im
    return rotated if rotated is not None else im


def _normalize_mode(im: Image.Image) -> Image.Image:
    """Reduce any decoded mode to RGB, RGBA, L, LA or CMYK (16-bit grey scaled, not clipped)."""
    mode = im.mode
    if mode in _SIXTEEN_BIT_MODES:
        return im.point(lambda v: v / 256, "L")
    if mode == "1":
        return im.convert("L")
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in im.info
        return im.convert("RGBA" if has_alpha else "RGB")
    if mode in ("L", "RGB") and "transparency" in im.info:
        return im.convert("LA" if mode == "L" else "RGBA")
    if mode in ("RGB", "RGBA", "L", "LA", "CMYK"):
        return im
    return im.convert("RGBA" if "A" in im.getbands() else "RGB")


def _to_srgb(im: Image.Image, icc: bytes) -> Image.Image:
    """Convert pixels described by an embedded ICC profile to sRGB; drop unusable profiles."""
    if _cms is None:
        return im
    alpha = im.getchannel("A") if im.mode in ("RGBA", "LA") else None
    colour = im.convert(im.mode[:-1]) if alpha is not None else im
    try:
        source = _cms.ImageCmsProfile(io.BytesIO(icc))
        converted = _cms.profileToProfile(colour, source, _srgb(), outputMode="RGB")
    except (_cms.PyCMSError, OSError, ValueError, TypeError):
        return im  # profile broken or not matching the pixels: keep the raw values
    if converted is None:  # pragma: no cover - only when inPlace=True
        return im
    if alpha is not None:
        converted.putalpha(alpha)
    return converted


@functools.cache
def _srgb() -> Any:
    """The sRGB profile, built once (only called when ImageCms is available)."""
    assert _cms is not None
    return _cms.createProfile("sRGB")


def _final_mode(im: Image.Image) -> Image.Image:
    """RGBA when some pixel is not fully opaque, RGB otherwise."""
    if im.mode in ("RGBA", "LA"):
        alpha_low, _ = cast(tuple[int, int], im.getchannel("A").getextrema())
        if alpha_low < 255:
            return im.convert("RGBA")
    return im if im.mode == "RGB" else im.convert("RGB")


def _render(kind: str, source: Image.Image, scale: int) -> Image.Image:
    """Resize the source for one kind at one scale (1, 2 or 3)."""
    box_w, box_h = IMAGE_SPECS[kind]
    if kind == "logo":
        return _fit_inside(source, scale)
    return _cover(source, (box_w * scale, box_h * scale))


def _cover(im: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Scale to cover `size` and crop the overflow equally on both sides."""
    width, height = im.size
    target_w, target_h = size
    factor = max(target_w / width, target_h / height)
    crop_w, crop_h = min(width, target_w / factor), min(height, target_h / factor)
    left, top = max(0.0, (width - crop_w) / 2), max(0.0, (height - crop_h) / 2)
    box = (left, top, min(width, left + crop_w), min(height, top + crop_h))
    return im.resize(size, _RESAMPLE, box=box, reducing_gap=_REDUCING_GAP)


def logo_size(width: int, height: int, scale: int = 1) -> tuple[int, int]:
    """The pixel size of a width x height logo fitted inside 160x50 points at `scale`."""
    box_w, box_h = IMAGE_SPECS["logo"]
    factor = min(box_w / width, box_h / height) * scale
    return max(1, round(width * factor)), max(1, round(height * factor))


def _fit_inside(im: Image.Image, scale: int) -> Image.Image:
    """Scale to fit inside the logo box at `scale`, keeping the aspect ratio."""
    size = logo_size(im.width, im.height, scale)
    if size == im.size:
        return im.copy()
    return im.resize(size, _RESAMPLE, reducing_gap=_REDUCING_GAP)


def _to_png(im: Image.Image) -> bytes:
    """Encode as an optimized PNG carrying pixels only: no text, EXIF, ICC, gamma or dpi."""
    im.info = {}
    buf = io.BytesIO()
    im.save(buf, "PNG", optimize=True)
    return buf.getvalue()
