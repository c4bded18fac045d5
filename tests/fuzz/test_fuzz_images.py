"""Fuzz: pictures, what a counter receives as an uploaded photo of a code.

``read_texts`` gets random bytes, mutations and truncations of real PNG, JPEG, GIF, BMP, WebP
and TIFF pictures of a code, and decompression bombs: headers that declare huge dimensions
(the cap, ``MAX_IMAGE_PIXELS``, must refuse them before any pixel is decoded) and a tiny PNG
that really inflates to a picture just under the cap (which must still finish in time).
"""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from tests.fuzz.fuzzing import check, fuzz_settings, mutants

from ecard.card import Card
from ecard.errors import BadImageError
from ecard.formats.qrimage import MAX_IMAGE_PIXELS, read_texts, render_png
from ecard.signing.issuer import Issuer


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_declaring(width: int, height: int, idat: bytes = b"") -> bytes:
    """A PNG whose header (with a correct CRC) declares ``width`` x ``height`` 8-bit grey."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )


def gif_declaring(width: int, height: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", min(width, 65535), min(height, 65535)) + b"\x00\x00\x00;"


def bmp_declaring(width: int, height: int) -> bytes:
    header = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 8, 0, 0, 0, 0, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + len(header), 0, 0, 14 + len(header)) + header


@pytest.fixture(scope="module")
def pictures(issuer: Issuer, card: Card) -> list[bytes]:
    png = render_png(issuer.issue(card).text, scale=3)
    image = Image.open(io.BytesIO(png)).convert("L")
    out = [png]
    for fmt in ("JPEG", "GIF", "BMP", "WEBP", "TIFF"):
        buf = io.BytesIO()
        image.save(buf, format=fmt)
        out.append(buf.getvalue())
    return out


def _read(data: bytes) -> None:
    read_texts(data)


@fuzz_settings(brief=25)
@given(data=st.data())
def test_mutated_pictures(pictures: list[bytes], data: st.DataObject) -> None:
    blob = data.draw(
        st.one_of(
            st.binary(max_size=200),
            mutants(pictures, max_ops=3),
            st.builds(
                lambda p, n: p[: n % len(p)], st.sampled_from(pictures), st.integers(0, 10**6)
            ),
        )
    )
    check("image read_texts", lambda: _read(blob), bound=3.0)


@fuzz_settings(brief=15)
@given(
    width=st.integers(1, 2**31 - 1),
    height=st.integers(1, 2**31 - 1),
    kind=st.sampled_from(["png", "gif", "bmp"]),
)
def test_declared_dimensions(width: int, height: int, kind: str) -> None:
    blob = {"png": png_declaring, "gif": gif_declaring, "bmp": bmp_declaring}[kind](width, height)
    outcome = check("image bomb header", lambda: _read(blob), bound=3.0)
    assert isinstance(outcome, BadImageError), outcome  # no code in such a picture
    if width * height > MAX_IMAGE_PIXELS and kind == "png":
        # refused from the header (PIL's own bomb check also counts), never decoded
        assert "too large" in outcome.detail or "too many pixels" in outcome.detail, outcome


def test_a_real_bomb_just_under_the_cap_finishes_in_time() -> None:
    """A small PNG that inflates to 50 million blank pixels (just under the cap) is decoded,
    searched and refused ('no QR code') within the bound; one pixel over the cap is refused
    from its header alone."""
    side = 7071
    assert side * side <= MAX_IMAGE_PIXELS < (side + 1) ** 2
    raw = zlib.compress((b"\x00" + b"\xff" * side) * side, 9)
    outcome = check(
        "image bomb inflated", lambda: _read(png_declaring(side, side, raw)), bound=20.0
    )
    assert isinstance(outcome, BadImageError) and "no QR code" in outcome.detail, outcome
    over = png_declaring(side + 1, side + 1, raw)
    outcome = check("image bomb header", lambda: _read(over), bound=1.0)
    assert isinstance(outcome, BadImageError) and "too large" in outcome.detail, outcome
