"""Upload processing for pass images: sizes, cropping, metadata stripping and every refusal."""

from __future__ import annotations

import io
import random
import struct
import time
import zlib

import pytest
from PIL import Image, ImageCms, ImageFile, PngImagePlugin

from app.wallet.images import (
    IMAGE_SPECS,
    MAX_UPLOAD_BYTES,
    ImageError,
    logo_size,
    process_image,
)

RED, GREEN, BLUE = (220, 20, 20), (20, 200, 40), (30, 40, 220)
ALLOWED_CHUNKS = {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"}


# ---- helpers --------------------------------------------------------------------------------


def encode(im: Image.Image, fmt: str = "PNG", **params: object) -> bytes:
    """Save an image to bytes."""
    buf = io.BytesIO()
    im.save(buf, fmt, **params)
    return buf.getvalue()


def thirds(size: tuple[int, int], colours=(RED, GREEN, BLUE)) -> Image.Image:
    """An RGB image split into three vertical bands."""
    im = Image.new("RGB", size, colours[0])
    w, h = size
    im.paste(colours[1], (w // 3, 0, 2 * w // 3, h))
    im.paste(colours[2], (2 * w // 3, 0, w, h))
    return im


def decode(data: bytes) -> Image.Image:
    """Open output bytes as an image and insist it is a PNG."""
    im = Image.open(io.BytesIO(data))
    assert im.format == "PNG"
    im.load()
    return im


def png_chunks(data: bytes) -> list[bytes]:
    """The chunk types of a PNG file, in order."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, names = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        names.append(data[pos + 4 : pos + 8])
        pos += 12 + length
    return names


def png_with_header(width: int, height: int) -> bytes:
    """A tiny, otherwise valid PNG whose IHDR claims width x height RGB pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def swapped_primaries_profile() -> bytes:
    """A linear RGB ICC v2 profile whose red and green primaries are sRGB's green and red."""

    def s15(v: float) -> bytes:
        return struct.pack(">i", round(v * 65536))

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ \0\0\0\0" + s15(x) + s15(y) + s15(z)

    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, 0x0100) + b"\0\0"
    text = b"swapped\0"
    desc = (
        b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + b"\0" * 8 + b"\0\0\0" + b"\0" * 67
    )
    desc += b"\0" * (-len(desc) % 4)
    tags = [
        (b"desc", desc),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.3851, 0.7169, 0.0971)),
        (b"gXYZ", xyz(0.4361, 0.2225, 0.0139)),
        (b"bXYZ", xyz(0.1431, 0.0606, 0.7141)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = struct.pack(">I", len(tags)), b""
    for sig, data in tags:
        table += sig + struct.pack(">II", offset + len(body), len(data))
        body += data
    size = offset + len(body)
    header = (
        struct.pack(">I", size)
        + b"\0" * 4
        + struct.pack(">I", 0x02100000)
        + b"mntr"
        + b"RGB XYZ "
        + b"\0" * 12
        + b"acsp"
        + b"\0" * 24
        + b"\0" * 4
        + s15(0.9642)
        + s15(1.0)
        + s15(0.8249)
        + b"\0" * 48
    )
    assert len(header) == 128
    return header + table + body


def assert_code(kind: str, data: bytes, code: str, status: int = 422) -> ImageError:
    """process_image refuses data with this code and status."""
    with pytest.raises(ImageError) as info:
        process_image(kind, data)
    assert info.value.code == code, info.value.message
    assert info.value.status == status
    assert info.value.message and str(info.value) == info.value.message
    return info.value


# ---- sizes and geometry ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(IMAGE_SPECS))
@pytest.mark.parametrize("source", [(800, 300), (300, 800), (480, 480), (12, 10)])
def test_every_output_has_the_exact_size(kind: str, source: tuple[int, int]) -> None:
    out = process_image(kind, encode(thirds(source)))
    assert sorted(out) == sorted(f"{kind}{s}.png" for s in ("", "@2x", "@3x"))
    box_w, box_h = IMAGE_SPECS[kind]
    for scale, suffix in ((1, ""), (2, "@2x"), (3, "@3x")):
        size = decode(out[f"{kind}{suffix}.png"]).size
        if kind == "logo":
            assert size[0] <= box_w * scale and size[1] <= box_h * scale
            assert size[0] == box_w * scale or size[1] == box_h * scale
        else:
            assert size == (box_w * scale, box_h * scale)


def test_exact_sizes_for_all_nine_files() -> None:
    sizes = {}
    for kind in IMAGE_SPECS:
        for name, data in process_image(kind, encode(thirds((1600, 500)))).items():
            sizes[name] = decode(data).size
    assert sizes == {
        "icon.png": (29, 29),
        "icon@2x.png": (58, 58),
        "icon@3x.png": (87, 87),
        "logo.png": (160, 50),
        "logo@2x.png": (320, 100),
        "logo@3x.png": (480, 150),
        "strip.png": (375, 123),
        "strip@2x.png": (750, 246),
        "strip@3x.png": (1125, 369),
    }


@pytest.mark.parametrize("source", [(400, 100), (100, 400), (1000, 50), (40, 20), (333, 77)])
def test_logo_keeps_its_aspect_ratio(source: tuple[int, int]) -> None:
    out = process_image("logo", encode(Image.new("RGB", source, BLUE)))
    ratio = source[0] / source[1]
    for scale, suffix in ((1, ""), (2, "@2x"), (3, "@3x")):
        w, h = decode(out[f"logo{suffix}.png"]).size
        factor = min(160 / source[0], 50 / source[1]) * scale
        assert (w, h) == (round(source[0] * factor), round(source[1] * factor))
        assert (w, h) == logo_size(*source, scale)
        assert abs(w / h - ratio) <= ratio * (1 / h + 1 / w)


def test_small_logo_is_scaled_up_to_fill_the_box() -> None:
    out = process_image("logo", encode(Image.new("RGB", (40, 20), RED)))
    assert decode(out["logo@3x.png"]).size == (300, 150)


@pytest.mark.parametrize("kind", ["icon", "strip"])
def test_cover_crop_keeps_the_centre(kind: str) -> None:
    # Three bands; the crop to the output's aspect ratio must keep only the middle one.
    wide = thirds((3000, 300))
    source = wide if kind == "icon" else wide.rotate(90, expand=True)
    out = decode(process_image(kind, encode(source))[f"{kind}@3x.png"]).convert("RGB")
    w, h = out.size
    for point in ((0, 0), (w - 1, 0), (w // 2, h // 2), (0, h - 1), (w - 1, h - 1)):
        assert_close(out.getpixel(point), GREEN)


def assert_close(pixel: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 12) -> None:
    """Channel values within tolerance (resampling and colour conversion are not exact)."""
    assert all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=False)), (
        pixel,
        expected,
    )


def test_output_is_deterministic() -> None:
    data = encode(thirds((700, 300)), "JPEG", quality=90)
    assert process_image("strip", data) == process_image("strip", data)


# ---- metadata, orientation, colour --------------------------------------------------------


def test_png_metadata_is_stripped() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "someone@example.com")
    info.add_itxt("Comment", "secret ตำแหน่ง", zip=True)
    info.add_text("Software", "x" * 2000, zip=True)
    exif = Image.Exif()
    exif[0x010F] = "Phone maker"
    exif[0x8825] = {2: (13, 45, 0)}  # GPS
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(
        Image.new("RGBA", (300, 200), (10, 120, 200, 128)),
        pnginfo=info,
        exif=exif.tobytes(),
        icc_profile=srgb,
        dpi=(300, 300),
    )
    assert {b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"iCCP", b"pHYs"} <= set(png_chunks(data))
    for kind in IMAGE_SPECS:
        for name, out in process_image(kind, data).items():
            assert set(png_chunks(out)) <= ALLOWED_CHUNKS, name
            im = decode(out)
            assert im.info == {}, name
            assert not im.getexif()


def test_jpeg_metadata_is_stripped() -> None:
    exif = Image.Exif()
    exif[0x010F] = "Phone maker"
    exif[0x0112] = 1
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(
        thirds((600, 300)),
        "JPEG",
        exif=exif.tobytes(),
        icc_profile=srgb,
        comment=b"private note",
        dpi=(72, 72),
    )
    for name, out in process_image("strip", data).items():
        assert set(png_chunks(out)) <= ALLOWED_CHUNKS, name
        assert decode(out).info == {}


def test_exif_rotated_jpeg_comes_out_upright() -> None:
    # Stored 200x100, red left and blue right; orientation 6 means "rotate 90 degrees
    # clockwise to display", so the upright picture is 100x200, red on top.
    im = Image.new("RGB", (200, 100), RED)
    im.paste(BLUE, (100, 0, 200, 100))
    exif = Image.Exif()
    exif[0x0112] = 6
    out = process_image("logo", encode(im, "JPEG", quality=95, exif=exif.tobytes()))
    logo = decode(out["logo@3x.png"]).convert("RGB")
    assert logo.size == (75, 150)
    assert_close(logo.getpixel((37, 20)), RED, 30)
    assert_close(logo.getpixel((37, 130)), BLUE, 30)


def test_icc_profile_is_converted_to_srgb_then_dropped() -> None:
    # In this profile the first channel is sRGB's green primary.
    data = encode(Image.new("RGB", (60, 60), (255, 0, 0)), icc_profile=swapped_primaries_profile())
    out = decode(process_image("icon", data)["icon.png"])
    assert "icc_profile" not in out.info
    r, g, b = out.convert("RGB").getpixel((14, 14))
    assert g > 200 and r < 40 and b < 40


def test_icc_conversion_keeps_transparency() -> None:
    im = Image.new("RGBA", (100, 50), (255, 0, 0, 255))
    im.paste((0, 0, 0, 0), (0, 0, 50, 50))
    data = encode(im, icc_profile=swapped_primaries_profile())
    logo = decode(process_image("logo", data)["logo@3x.png"])
    assert logo.mode == "RGBA"
    assert logo.getpixel((10, 75))[3] == 0
    r, g, b, a = logo.getpixel((290, 75))
    assert a == 255 and g > 200 and r < 40


def test_broken_icc_profile_is_dropped_not_fatal() -> None:
    data = encode(Image.new("RGB", (60, 60), GREEN), icc_profile=b"not a profile at all")
    out = decode(process_image("icon", data)["icon.png"])
    assert "icc_profile" not in out.info
    assert_close(out.convert("RGB").getpixel((10, 10)), GREEN)


def test_cmyk_jpeg_is_accepted() -> None:
    data = encode(Image.new("CMYK", (120, 120), (0, 255, 255, 0)), "JPEG", quality=95)
    out = decode(process_image("icon", data)["icon@2x.png"])
    assert out.mode == "RGB"
    r, g, b = out.getpixel((29, 29))
    assert r > 200 and g < 60 and b < 60


def test_palette_png_with_transparency_keeps_its_alpha() -> None:
    im = Image.new("P", (200, 100), 1)
    im.putpalette([0, 0, 0, 250, 120, 10] + [0, 0, 0] * 254)
    im.paste(0, (0, 0, 100, 100))
    data = encode(im, transparency=0)
    logo = decode(process_image("logo", data)["logo@3x.png"])
    assert logo.mode == "RGBA" and logo.size == (300, 150)
    assert logo.getpixel((20, 75))[3] == 0
    assert_close(logo.getpixel((280, 75)), (250, 120, 10, 255))


def test_opaque_palette_png_becomes_rgb() -> None:
    data = encode(thirds((120, 120)).convert("P", palette=Image.Palette.ADAPTIVE))
    out = decode(process_image("icon", data)["icon.png"])
    assert out.mode == "RGB"
    assert_close(out.getpixel((14, 14)), GREEN)


def test_logo_transparent_background_is_preserved() -> None:
    im = Image.new("RGBA", (300, 100), (0, 0, 0, 0))
    im.paste((255, 255, 255, 255), (100, 20, 200, 80))
    logo = decode(process_image("logo", encode(im))["logo@2x.png"])
    assert logo.mode == "RGBA"
    assert logo.getpixel((0, 0))[3] == 0
    assert logo.getpixel((logo.width // 2, logo.height // 2)) == (255, 255, 255, 255)


@pytest.mark.parametrize(
    ("mode", "value", "expected"),
    [
        ("I;16", 0x8000, 128),  # 16-bit grey is scaled down, not clipped to white
        ("L", 90, 90),
        ("LA", (90, 255), 90),
        ("1", 1, 255),
    ],
)
def test_other_png_modes_are_converted(mode: str, value: object, expected: int) -> None:
    data = encode(Image.new(mode, (40, 40), value))
    out = decode(process_image("icon", data)["icon.png"])
    assert out.mode == "RGB"
    assert_close(out.getpixel((10, 10)), (expected,) * 3, 2)


def test_large_jpeg_is_processed_quickly() -> None:
    data = encode(thirds((6000, 4000)), "JPEG", quality=85)
    start = time.perf_counter()
    out = process_image("strip", data)
    assert time.perf_counter() - start < 5
    assert decode(out["strip@3x.png"]).size == (1125, 369)


# ---- refusals --------------------------------------------------------------------------------


def test_unknown_kind() -> None:
    error = assert_code("background", encode(thirds((100, 100))), "unknown_image_kind", 400)
    assert "icon" in error.message and "strip" in error.message


def test_empty_upload() -> None:
    assert_code("icon", b"", "empty_image")


def test_oversized_upload_is_413_before_parsing() -> None:
    data = b"\x89PNG\r\n\x1a\n" + b"\0" * MAX_UPLOAD_BYTES
    error = assert_code("strip", data, "image_too_large", 413)
    assert "10 MB" in error.message


@pytest.mark.parametrize("data", [b"hello, this is a text file\n", b"\0" * 100, b"{}", b"%!PS"])
def test_not_an_image(data: bytes) -> None:
    assert_code("icon", data, "not_an_image")


@pytest.mark.parametrize(
    ("fmt", "data"),
    [
        ("GIF", encode(thirds((50, 50)), "GIF")),
        ("WebP", b"RIFF\x24\0\0\0WEBPVP8 \x18\0\0\0" + b"\0" * 24),
        ("SVG", b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>'),
        ("SVG", b"<svg width='10' height='10'></svg>"),
        ("BMP", encode(thirds((50, 50)), "BMP")),
        ("TIFF", encode(thirds((50, 50)), "TIFF")),
    ],
)
def test_other_image_formats_are_refused_by_content(fmt: str, data: bytes) -> None:
    error = assert_code("logo", data, "unsupported_format")
    assert fmt in error.message and "PNG or JPEG" in error.message


def test_png_renamed_is_still_identified_by_content() -> None:
    # Only the bytes matter: a JPEG body is accepted whatever the caller calls it.
    assert process_image("icon", encode(thirds((60, 60)), "JPEG"))


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_files_are_refused(fmt: str) -> None:
    noise = Image.effect_noise((300, 300), 80).convert("RGB")
    data = encode(noise, fmt)
    for cut in (len(data) // 2, 60, 20):
        assert_code("strip", data[:cut], "corrupt_image")


def test_png_with_bad_header_checksum_is_refused() -> None:
    data = bytearray(encode(Image.effect_noise((100, 100), 80)))
    data[30] ^= 0xFF  # bytes 29-32 are the IHDR chunk's CRC
    assert_code("icon", bytes(data), "corrupt_image")


def test_header_claiming_50000_squared_pixels_is_refused_without_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_decoding(self: ImageFile.ImageFile) -> None:
        raise AssertionError("pixels must not be decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    start = time.perf_counter()
    error = assert_code("strip", png_with_header(50_000, 50_000), "image_too_many_pixels")
    assert time.perf_counter() - start < 1
    assert "40 megapixels" in error.message


def test_our_pixel_limit_is_stricter_than_pillows(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_decoding(self: ImageFile.ImageFile) -> None:
        raise AssertionError("pixels must not be decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    assert 8000 * 6000 < Image.MAX_IMAGE_PIXELS  # Pillow alone would decode this one
    assert_code("strip", png_with_header(8000, 6000), "image_too_many_pixels")


def test_pillow_bomb_warning_becomes_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    data = encode(thirds((40, 40)))  # 1600 pixels: Pillow warns (not raises) above 1000
    assert_code("icon", data, "image_too_many_pixels")


@pytest.mark.parametrize("size", [(5, 5), (9, 200), (200, 9)])
def test_tiny_images_are_refused(size: tuple[int, int]) -> None:
    error = assert_code("icon", encode(Image.new("RGB", size, RED)), "image_dimensions")
    assert f"{size[0]}x{size[1]}" in error.message


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_damaged_files_never_leak_pillow_exceptions(fmt: str) -> None:
    original = encode(thirds((64, 48)), fmt)
    rng = random.Random(20240501)
    for _ in range(150):
        data = bytearray(original)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.3:
            data = data[: rng.randrange(1, len(data))]
        try:
            out = process_image("icon", bytes(data))
        except ImageError as error:
            assert error.code in {
                "corrupt_image",
                "image_dimensions",
                "image_too_many_pixels",
                "not_an_image",
                "unsupported_format",
            }
        else:
            assert decode(out["icon@3x.png"]).size == (87, 87)
