"""Stripping an ID photo's metadata before it is encrypted, without touching its pixels.

A phone's photo carries far more than the face: EXIF (camera, time, **GPS position**), XMP,
IPTC, an embedded thumbnail, comments, an ICC profile naming the device. PIPL's minimum
necessary rule keeps none of it. The pictures are not decoded and encoded again (that would
lose quality): :func:`strip_metadata` copies the compressed data byte for byte and leaves out
the metadata containers, so the decoded pixels are exactly the same.

* **JPEG**: the marker segments before the first scan are walked; APP1..APP13 and APP15
  (EXIF with its GPS IFD and thumbnail, XMP, ICC profiles, IPTC/Photoshop, vendor data) and
  COM are left out; APP0 (JFIF) is kept without its thumbnail, APP14 (Adobe, which says how
  the colour channels are transformed) is kept because decoding depends on it; the tables,
  frame header and everything from the first scan on are copied verbatim. An EXIF
  orientation other than "upright" is written back, in the EXIF's place, as a minimal EXIF
  holding only that tag, so the photo still shows the right way up.
* **PNG**: only the chunks that make the picture are copied (IHDR, PLTE, IDAT, IEND, and
  tRNS, gAMA, cHRM, sRGB, sBIT, bKGD, pHYs), each with its own CRC; text (tEXt, zTXt, iTXt),
  eXIf, iCCP, tIME, animation and private chunks are left out.

Without its ICC profile a picture is read as sRGB, the convention for ID photos.
"""

from __future__ import annotations

import struct
from typing import Final

from ecard.workflow.errors import WorkflowCode, refuse

_PNG_MAGIC: Final = b"\x89PNG\r\n\x1a\n"
#: The PNG chunks kept: the picture and how to render it, nothing about who made it.
PNG_KEPT: Final = frozenset(
    {
        b"IHDR",
        b"PLTE",
        b"IDAT",
        b"IEND",
        b"tRNS",
        b"gAMA",
        b"cHRM",
        b"sRGB",
        b"sBIT",
        b"bKGD",
        b"pHYs",
    }
)
_SOI, _SOS, _EOI = 0xD8, 0xDA, 0xD9
_APP0, _APP1, _APP14, _COM = 0xE0, 0xE1, 0xEE, 0xFE
_ORIENTATION: Final = 0x0112


def _invalid(why: str) -> Exception:
    return refuse(WorkflowCode.PHOTO_INVALID, why)


def _orientation(exif_segment: bytes) -> int | None:
    """The orientation tag of an APP1 EXIF payload (``Exif\\0\\0`` + TIFF), if any."""
    tiff = exif_segment[6:]
    if len(tiff) < 8 or tiff[:2] not in (b"II", b"MM"):
        return None
    order = "<" if tiff[:2] == b"II" else ">"
    (ifd,) = struct.unpack_from(order + "I", tiff, 4)
    if ifd + 2 > len(tiff):
        return None
    (count,) = struct.unpack_from(order + "H", tiff, ifd)
    for n in range(count):
        at = ifd + 2 + 12 * n
        if at + 12 > len(tiff):
            return None
        tag, kind, _, value = struct.unpack_from(order + "HHI4s", tiff, at)
        if tag == _ORIENTATION and kind == 3:  # SHORT
            (orientation,) = struct.unpack_from(order + "H", value)
            return int(orientation) if 1 <= orientation <= 8 else None
    return None


def _orientation_segment(orientation: int) -> bytes:
    """A minimal APP1 EXIF segment holding only the orientation (big-endian TIFF, one IFD)."""
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1)
    tiff += struct.pack(">HHIH2x", _ORIENTATION, 3, 1, orientation) + struct.pack(">I", 0)
    payload = b"Exif\x00\x00" + tiff
    return bytes([0xFF, _APP1]) + struct.pack(">H", len(payload) + 2) + payload


def _strip_jpeg(data: bytes) -> bytes:
    if data[:2] != b"\xff\xd8":
        raise _invalid("no JPEG start")
    out = bytearray(data[:2])
    at = 2
    while True:
        if at >= len(data) or data[at] != 0xFF:
            raise _invalid("JPEG segments do not line up")
        while at < len(data) and data[at] == 0xFF:  # fill bytes before a marker
            at += 1
        if at >= len(data):
            raise _invalid("JPEG ends inside a marker")
        marker = data[at]
        at += 1
        if marker == _SOS:
            out += b"\xff" + bytes([marker]) + data[at:]  # the scans, verbatim
            return bytes(out)
        if marker in (_SOI, _EOI) or 0xD0 <= marker <= 0xD7 or marker == 0x01:
            raise _invalid("JPEG marker out of place")
        if at + 2 > len(data):
            raise _invalid("JPEG segment cut short")
        (length,) = struct.unpack_from(">H", data, at)
        if length < 2 or at + length > len(data):
            raise _invalid("JPEG segment cut short")
        body = data[at + 2 : at + length]
        segment = data[at - 2 : at + length]
        at += length
        if marker == _APP1 and body.startswith(b"Exif\x00\x00"):
            orientation = _orientation(body)
            if orientation is not None and orientation != 1:  # keep which way is up
                out += _orientation_segment(orientation)
            continue
        if marker == _APP0 and body.startswith(b"JFIF\x00") and len(body) >= 14:
            jfif = body[:12] + b"\x00\x00"  # version, units, density; no thumbnail
            out += b"\xff\xe0" + struct.pack(">H", len(jfif) + 2) + jfif
            continue
        if (_APP0 <= marker <= 0xEF and marker != _APP14) or marker == _COM:
            continue  # APPn metadata (EXIF, XMP, ICC, IPTC, vendor) and comments
        out += segment


def _strip_png(data: bytes) -> bytes:
    out = bytearray(_PNG_MAGIC)
    at = len(_PNG_MAGIC)
    while at < len(data):
        if at + 12 > len(data):
            raise _invalid("PNG chunk cut short")
        (length,) = struct.unpack_from(">I", data, at)
        kind = data[at + 4 : at + 8]
        end = at + 12 + length
        if end > len(data):
            raise _invalid("PNG chunk cut short")
        if kind in PNG_KEPT:
            out += data[at:end]
        at = end
        if kind == b"IEND":
            return bytes(out)
    raise _invalid("PNG without IEND")


def strip_metadata(data: bytes) -> bytes:
    """``data`` (a JPEG or PNG already accepted by
    :func:`~ecard.workflow.photos.check_photo`) without its metadata, pixels unchanged.

    Raises:
        WorkflowError: ``PHOTO_INVALID`` if its structure cannot be walked.
    """
    if data.startswith(_PNG_MAGIC):
        return _strip_png(data)
    if data.startswith(b"\xff\xd8\xff"):
        return _strip_jpeg(data)
    raise _invalid("neither JPEG nor PNG")


__all__ = ["PNG_KEPT", "strip_metadata"]
