"""The QR wire text: ``"EC1:" + Base45(payload)``.

The payload is either the COSE_Sign1 bytes themselves or their zlib compression (RFC 1950),
whichever is shorter. A reader tells the two apart by the first byte: the first byte of a zlib
stream (CMF) has the low nibble 8 (compression method "deflate") and a high nibble (CINFO, the
window size) of at most 7, so it is one of ``0x08, 0x18, ... 0x78``. No COSE message starts with
those bytes (in CBOR they open an integer or a string): a tagged COSE_Sign1 starts with ``0xD2``
(tag 18), an untagged one with ``0x84``, and one wrapped in the CWT tag 61 with ``0xD8`` (low
nibble 8 too, but CINFO 13, so it is not taken for zlib and reaches the COSE parser).

Decoding is bounded: text longer than :data:`MAX_TEXT_LENGTH` (the largest alphanumeric QR
payload) is rejected before any work, and inflating stops at :data:`MAX_INFLATED` bytes, so a
zlib bomb is an error, not a hang.

:func:`decode` takes the text exactly as given. What scanners and files add around a code
(a UTF-8 byte-order mark, a leading space, a line ending CR, LF or CR LF, trailing blanks) is
removed by :func:`clean_scanned`, which says what it removed; nothing inside the code is ever
changed. That is safe: a Base45 payload never ends with a space (the last character of a group
encodes at most 65535 // 2025 = 32 or 255 // 45 = 5, never the space's 36), and the prefix
``EC1:`` starts with a letter.
"""

from __future__ import annotations

import zlib

from ecard.errors import BadBase45Error, BadCompressionError, BadPrefixError, TruncatedError
from ecard.formats import base45

__all__ = [
    "MAX_INFLATED",
    "MAX_TEXT_LENGTH",
    "PREFIX",
    "clean_scanned",
    "decode",
    "decompress",
    "encode",
    "is_compressed",
]

#: The context identifier every e-card QR text starts with (case-sensitive).
PREFIX = "EC1:"
#: The most characters a QR code holds in alphanumeric mode (version 40, level L).
MAX_TEXT_LENGTH = 4296
#: The most bytes a compressed payload may inflate to.
MAX_INFLATED = 16384


def is_compressed(payload: bytes | bytearray | memoryview) -> bool:
    """Whether ``payload`` is (meant to be) a zlib stream.

    True when its first byte is a zlib CMF: compression method 8 (deflate) and a window size
    (CINFO) of at most 7, i.e. one of ``0x08, 0x18, ..., 0x78``.
    """
    return len(payload) > 0 and payload[0] & 0x8F == 0x08


#: zlib settings for writing: level 9 with memLevel 4 instead of 8. Setting up deflate's hash
#: table dominates the cost on inputs this small: ~3x faster than zlib's defaults on a 170-byte
#: credential with identical output, within 1% on 2.9 KB payloads. The window stays at 32 KiB
#: so the stream starts with the usual CMF byte 0x78 that every zlib-aware decoder expects.
_ZLIB_LEVEL, _ZLIB_WBITS, _ZLIB_MEMLEVEL = 9, 15, 4


def _deflate(raw: bytes) -> bytes:
    packer = zlib.compressobj(_ZLIB_LEVEL, zlib.DEFLATED, _ZLIB_WBITS, _ZLIB_MEMLEVEL)
    return packer.compress(raw) + packer.flush()


def encode(cose: bytes | bytearray | memoryview, *, compress: bool | None = None) -> str:
    """The QR text for ``cose``: ``PREFIX`` + Base45 of the bytes or of their zlib compression.

    With ``compress=None`` the shorter of the two is used (a tie keeps the bytes uncompressed);
    ``True`` or ``False`` forces the choice.

    Raises:
        ValueError: ``cose`` is empty, ``compress=False`` while its first byte would be taken for a
            zlib header (such bytes are always compressed otherwise), or the text would exceed
            :data:`MAX_TEXT_LENGTH`.
    """
    raw = bytes(cose)
    if not raw:
        raise ValueError("nothing to encode")
    payload = raw
    if compress is None or compress:
        packed = _deflate(raw)
        # Bytes that look like a zlib header cannot travel uncompressed.
        if compress or len(packed) < len(raw) or is_compressed(raw):
            payload = packed
    elif is_compressed(raw):
        raise ValueError("uncompressed payload would be read as zlib (its first byte is a CMF)")
    text = PREFIX + base45.encode(payload)
    if len(text) > MAX_TEXT_LENGTH:
        raise ValueError(f"{len(text)} characters do not fit in a QR code ({MAX_TEXT_LENGTH})")
    return text


def decompress(payload: bytes | bytearray | memoryview) -> bytes:
    """Inflate a zlib ``payload`` (RFC 1950), strictly and within :data:`MAX_INFLATED` bytes.

    Raises:
        BadCompressionError: a bad header (checksum, method, window size, preset dictionary),
            a corrupt stream, trailing bytes after it, or more than :data:`MAX_INFLATED` bytes
            of output.
        TruncatedError: the stream (or its header) ends before its end: a text cut short.
    """
    data = bytes(payload)
    if len(data) < 2:
        raise TruncatedError("zlib header truncated")
    cmf, flg = data[0], data[1]
    if cmf & 0x0F != 8:
        raise BadCompressionError("zlib compression method is not deflate")
    if cmf >> 4 > 7:
        raise BadCompressionError("zlib window size is invalid (CINFO > 7)")
    if (cmf << 8 | flg) % 31:
        raise BadCompressionError("zlib header checksum mismatch")
    if flg & 0x20:
        raise BadCompressionError("zlib preset dictionaries are not supported")
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, MAX_INFLATED + 1)
    except zlib.error as exc:
        raise BadCompressionError(f"corrupt zlib stream: {exc}") from None
    if len(out) > MAX_INFLATED or inflater.unconsumed_tail:
        raise BadCompressionError(f"inflates to more than {MAX_INFLATED} bytes")
    if not inflater.eof:
        raise TruncatedError("zlib stream is truncated")
    if inflater.unused_data:
        raise BadCompressionError(f"{len(inflater.unused_data)} trailing byte(s) after zlib stream")
    return out


_BOM = "\ufeff"
_BLANKS = " \t\r\n\v\f"


def clean_scanned(text: str) -> tuple[str, tuple[str, ...]]:
    r"""``text`` without what a scanner, a terminal or a file put around the code, and notes on
    what was removed where it matters (a line ending is expected and not noted).

    >>> clean_scanned("\ufeff EC1:ABC\r\n")
    ('EC1:ABC', ('removed a UTF-8 byte-order mark', 'removed 1 blank character(s) before the code'))
    >>> clean_scanned("EC1:ABC\n")
    ('EC1:ABC', ())
    """
    if not isinstance(text, str):
        return text, ()
    # every blank sorts below " " and the BOM is not at the end: a code as a scanner line
    # gives it (nothing around it, or one line feed after it) needs no search
    if text[:1] > " " and text[0] != _BOM:
        if text[-1] > " ":
            return text, ()
        if text[-1] == "\n" and text[-2:-1] > " ":
            return text[:-1], ()
    notes: list[str] = []
    stripped = text.lstrip(_BLANKS + _BOM)  # a BOM may follow a blank (a pasted text)
    if _BOM in text[: len(text) - len(stripped)]:
        notes.append("removed a UTF-8 byte-order mark")
    blanks_before = sum(1 for c in text[: len(text) - len(stripped)] if c != _BOM)
    if blanks_before:
        notes.append(f"removed {blanks_before} blank character(s) before the code")
    body = stripped.rstrip(_BLANKS)
    trailing = stripped[len(body) :]
    blanks = sum(1 for c in trailing if c in " \t\v\f")
    if blanks:
        notes.append(f"removed {blanks} blank character(s) after the code")
    return body, tuple(notes)


def decode(text: str) -> bytes:
    """The COSE bytes carried by the QR ``text`` (inflated when the payload is zlib).

    A payload that is not zlib is returned as it is; the COSE parser judges it.

    Raises:
        BadPrefixError: ``text`` is not a ``str`` or does not start with exactly ``"EC1:"``.
        BadBase45Error: the text is longer than :data:`MAX_TEXT_LENGTH`, carries nothing after
            the prefix, or is not valid Base45.
        BadCompressionError: see :func:`decompress`.
    """
    if not isinstance(text, str):
        raise BadPrefixError(f"expected text, got {type(text).__name__}")
    if not text.startswith(PREFIX):
        raise BadPrefixError(f"text does not start with {PREFIX!r}")
    if len(text) > MAX_TEXT_LENGTH:
        raise BadBase45Error(f"text too long ({len(text)} > {MAX_TEXT_LENGTH} characters)")
    if len(text) == len(PREFIX):
        raise BadBase45Error("empty payload")
    payload = base45.decode(text[len(PREFIX) :])
    if payload[0] & 0x8F == 0x08:  # is_compressed(), inlined
        return decompress(payload)
    return payload
