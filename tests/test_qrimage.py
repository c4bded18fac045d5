"""QR pictures: render PNG/SVG, read them back with zxing-cpp, survive a camera, refuse junk."""

from __future__ import annotations

import io
import os
import random
import struct
import sys
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image, ImageChops, ImageFilter

from ecard.errors import BadImageError
from ecard.formats import qrimage, qrtext

LEVELS: list[qrimage.ErrorLevel] = ["L", "M", "Q", "H"]
# A realistic credential text: ~200 random bytes behind the COSE tag (incompressible).
TEXT = qrtext.encode(b"\xd2\x84" + random.Random(7).randbytes(200))

# Alphanumeric-mode capacities (characters) from ISO/IEC 18004 Table 7, by version and level.
ALNUM_CAPACITY = {
    1: {"L": 25, "M": 20, "Q": 16, "H": 10},
    2: {"L": 47, "M": 38, "Q": 29, "H": 20},
    5: {"L": 154, "M": 122, "Q": 87, "H": 64},
    10: {"L": 395, "M": 311, "Q": 221, "H": 174},
    20: {"L": 1249, "M": 970, "Q": 702, "H": 557},
    40: {"L": 4296, "M": 3391, "Q": 2420, "H": 1852},
}


def zxing_read(png: bytes) -> list[Any]:
    with Image.open(io.BytesIO(png)) as picture:
        return list(
            zxingcpp.read_barcodes(picture.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)
        )


def png_bytes(picture: Image.Image, fmt: str = "PNG", **options: Any) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format=fmt, **options)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# rendering


@pytest.mark.parametrize("level", LEVELS)
def test_png_round_trip(level: qrimage.ErrorLevel) -> None:
    png = qrimage.render_png(TEXT, level=level)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert qrimage.read_texts(png) == [TEXT]
    (code,) = zxing_read(png)
    assert code.text == TEXT
    assert code.ec_level == level
    assert int(code.extra["Version"]) == qrimage.qr_version(TEXT, level)


def test_png_geometry() -> None:
    version = qrimage.qr_version(TEXT)
    modules = 17 + 4 * version
    for scale, border in ((8, 4), (3, 0), (1, 2)):
        png = qrimage.render_png(TEXT, scale=scale, border=border)
        with Image.open(io.BytesIO(png)) as picture:
            assert picture.size == ((modules + 2 * border) * scale,) * 2
            assert picture.mode == "1"
            if border:
                assert picture.getpixel((0, 0)) == 255  # quiet zone is white
            else:
                assert picture.getpixel((0, 0)) == 0  # finder pattern corner is black


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("version", sorted(ALNUM_CAPACITY))
def test_version_matches_alphanumeric_capacity(level: qrimage.ErrorLevel, version: int) -> None:
    # Only alphanumeric mode (one segment) gives exactly these versions: byte mode holds fewer
    # characters, and qrcode's default optimizer would put the digit runs in numeric mode.
    capacity = ALNUM_CAPACITY[version][level]
    full = ("EC1:" + "0123456789" * 500)[:capacity]
    assert qrimage.qr_version(full, level) == version
    if version < 40:
        assert qrimage.qr_version(full + "0", level) == version + 1
    else:
        with pytest.raises(ValueError, match="Invalid version"):
            qrimage.qr_version(full + "0", level)


def test_digit_heavy_text_reads_back() -> None:
    text = "EC1:" + "1234567890" * 30 + "ABC"
    png = qrimage.render_png(text, level="M")
    (code,) = zxing_read(png)
    assert code.text == text
    assert int(code.extra["Version"]) == qrimage.qr_version(text, "M")


def test_non_alphanumeric_text_falls_back_to_byte_mode() -> None:
    text = "ec1:小写 and UTF-8"
    assert qrimage.read_texts(qrimage.render_png(text)) == [text]
    # 19 bytes in byte mode need version 2 at Q (version 1-Q holds 11 bytes)
    assert qrimage.qr_version(text, "Q") == 2


def test_svg_is_a_standalone_document() -> None:
    svg = qrimage.render_svg(TEXT, scale=10, border=4)
    assert svg.startswith("<?xml")
    root = ET.fromstring(svg.encode("utf-8"))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    modules = 17 + 4 * qrimage.qr_version(TEXT)
    side = modules + 2 * 4  # scale 10 is 1 mm per module
    assert root.get("viewBox") == f"0 0 {side} {side}"
    assert root.get("width") == f"{side}mm"
    paths = root.findall("{http://www.w3.org/2000/svg}path")
    assert len(paths) == 1
    assert len(paths[0].get("d", "")) > 1000


def test_svg_changes_with_level_and_text() -> None:
    assert qrimage.render_svg(TEXT, level="L") != qrimage.render_svg(TEXT, level="H")
    assert qrimage.render_svg("EC1:AB") != qrimage.render_svg("EC1:AC")


@pytest.mark.parametrize(
    "kwargs",
    [{"level": "X"}, {"level": "q"}, {"scale": 0}, {"scale": -1}, {"border": -1}, {"scale": 1.5}],
)
def test_bad_render_options(kwargs: dict[str, Any]) -> None:
    (option,) = kwargs
    why = {"level": "error level must be one of L, M, Q, H", "scale": "scale must be a positive",
           "border": "border must be a non-negative"}[option]  # fmt: skip
    with pytest.raises(ValueError, match=why):
        qrimage.render_png(TEXT, **kwargs)
    with pytest.raises(ValueError, match=why):
        qrimage.render_svg(TEXT, **kwargs)


def test_bad_render_text() -> None:
    with pytest.raises(ValueError, match="empty text"):
        qrimage.render_png("")
    with pytest.raises(ValueError, match="Invalid version"):
        qrimage.qr_version("0" * 4297, "L")
    with pytest.raises(TypeError, match="text must be str, not bytes"):
        qrimage.render_png(b"EC1:AB")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# reading


def camera(png: bytes, seed: int = 2024) -> Image.Image:
    """Downscale to ~40 %, rotate 5 degrees, add Gaussian-ish noise, blur a little."""
    with Image.open(io.BytesIO(png)) as picture:
        image = picture.convert("L")
    width, height = image.size
    image = image.resize((width * 2 // 5, height * 2 // 5), Image.Resampling.BILINEAR)
    image = image.rotate(5, resample=Image.Resampling.BILINEAR, expand=True, fillcolor=255)
    rng = random.Random(seed)
    size = image.size
    # the mean of three uniform images is bell-shaped (Irwin-Hall); then shrink its spread
    uniforms = [Image.frombytes("L", size, rng.randbytes(size[0] * size[1])) for _ in range(3)]
    noise = Image.blend(Image.blend(uniforms[0], uniforms[1], 0.5), uniforms[2], 1 / 3)
    noise = Image.blend(Image.new("L", size, 128), noise, 0.6)
    image = ImageChops.add(image, noise, scale=1.0, offset=-128)
    image = ImageChops.multiply(image, Image.new("L", size, 220))  # dimmer, lower contrast
    return image.filter(ImageFilter.GaussianBlur(0.8))


@pytest.mark.parametrize("level", ["M", "Q"])
def test_camera_like_distortion(level: qrimage.ErrorLevel) -> None:
    picture = camera(qrimage.render_png(TEXT, level=level))
    assert picture.size[0] < 0.5 * (17 + 4 * qrimage.qr_version(TEXT, level) + 8) * 8
    assert qrimage.read_texts(png_bytes(picture)) == [TEXT]
    assert qrimage.read_texts(png_bytes(picture, "JPEG", quality=75)) == [TEXT]


def test_read_from_path_and_pathlike(tmp_path: Path) -> None:
    path = tmp_path / "card.png"
    path.write_bytes(qrimage.render_png(TEXT))
    assert qrimage.read_texts(path) == [TEXT]
    assert qrimage.read_texts(str(path)) == [TEXT]
    assert qrimage.read_texts(bytearray(path.read_bytes())) == [TEXT]


def test_two_codes_in_one_picture() -> None:
    other = qrtext.encode(b"\xd2\x84" + bytes(range(60)))
    left = Image.open(io.BytesIO(qrimage.render_png(TEXT))).convert("L")
    right = Image.open(io.BytesIO(qrimage.render_png(other))).convert("L")
    both = Image.new("L", (left.width + right.width, max(left.height, right.height)), 255)
    both.paste(left, (0, 0))
    both.paste(right, (left.width, 0))
    assert sorted(qrimage.read_texts(png_bytes(both))) == sorted([TEXT, other])


def test_inverted_and_rotated_codes() -> None:
    picture = Image.open(io.BytesIO(qrimage.render_png(TEXT))).convert("L")
    assert qrimage.read_texts(png_bytes(picture.rotate(90, expand=True))) == [TEXT]
    assert qrimage.read_texts(png_bytes(ImageChops.invert(picture))) == [TEXT]


def huge_png(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims ``width`` x ``height`` (no pixel data worth the name)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1000)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def bad_inputs(tmp_path: Path) -> dict[str, Any]:
    png = qrimage.render_png(TEXT)
    white = Image.new("L", (400, 400), 255)
    directory = tmp_path / "a-directory"
    directory.mkdir()
    return {
        "garbage": os.urandom(2000),
        "text": b"EC1:" + TEXT.encode(),
        "empty": b"",
        "truncated png": png[: len(png) // 2],
        "png header only": png[:40],
        "corrupt png data": png[:60] + bytes(len(png) - 60),
        "blank white": png_bytes(white),
        "blank black jpeg": png_bytes(Image.new("RGB", (300, 200)), "JPEG"),
        "postscript": png_bytes(Image.open(io.BytesIO(png)).convert("L"), "EPS"),
        "huge IHDR": huge_png(100_000, 100_000),
        "over our cap, under pillow's": huge_png(8_000, 8_000),
        "zero width": huge_png(0, 10),
        "nonexistent path": tmp_path / "missing.png",
        "nonexistent str path": str(tmp_path / "missing.png"),
        "directory": directory,
        "wrong type": 12345,
        "none": None,
    }


@pytest.mark.parametrize(
    "name",
    [
        "garbage", "text", "empty", "truncated png", "png header only", "corrupt png data",
        "blank white", "blank black jpeg", "postscript", "huge IHDR",
        "over our cap, under pillow's",
        "zero width", "nonexistent path", "nonexistent str path", "directory", "wrong type",
        "none",
    ],
)  # fmt: skip
def test_bad_images(name: str, tmp_path: Path) -> None:
    with pytest.raises(BadImageError):
        qrimage.read_texts(bad_inputs(tmp_path)[name])


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP", "GIF", "BMP", "TIFF", "PPM"])
def test_common_formats(fmt: str) -> None:
    picture = Image.open(io.BytesIO(qrimage.render_png(TEXT))).convert("L")
    assert qrimage.read_texts(png_bytes(picture, fmt)) == [TEXT]


def test_pixel_cap_message() -> None:
    with pytest.raises(BadImageError, match=r"too large|too many pixels"):
        qrimage.read_texts(huge_png(100_000, 100_000))
    with pytest.raises(BadImageError, match="too large"):
        qrimage.read_texts(huge_png(8_000, 8_000))


def test_missing_extra_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    # a real import failure: Python raises ImportError for a module set to None
    monkeypatch.setitem(sys.modules, "zxingcpp", None)
    with pytest.raises(BadImageError, match=r"pip install 'ecard\[image\]'"):
        qrimage.read_texts(qrimage.render_png(TEXT))
