"""Base45 (RFC 9285): bytes <-> text in the QR alphanumeric character set.

Each two bytes ``a, b`` become the number ``n = a * 256 + b`` written as three base-45 digits,
least significant first (``n % 45``, ``n // 45 % 45``, ``n // 2025``); a final single byte
becomes two digits. Decoding is strict: only the 45 characters of the alphabet (upper case),
no length of the form ``3k + 1``, no three-character group above 65535 and no final
two-character group above 255.
"""

from __future__ import annotations

import functools
import struct
from operator import itemgetter

from ecard.errors import BadBase45Error, TruncatedError

__all__ = ["ALPHABET", "decode", "encode"]

#: The 45 characters, in digit order (the QR code alphanumeric set).
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

# Two-digit strings for every n < 45 * 45, least significant digit first.
_PAIRS: tuple[str, ...] = tuple(ALPHABET[n % 45] + ALPHABET[n // 45] for n in range(45 * 45))
# ASCII code -> digit value; 0xFF for every character outside the alphabet.
_VALUES = bytes(ALPHABET.index(chr(c)) if chr(c) in ALPHABET else 0xFF for c in range(256))


@functools.cache
def _triples() -> tuple[str, ...]:
    """The three characters of every two-byte word, built on the first encode (an issuing
    process; a verifier never needs it): 65,536 short strings, about 3.4 MB, in return for one
    table look-up per word."""
    pairs, alphabet = _PAIRS, ALPHABET
    return tuple(pairs[w % 2025] + alphabet[w // 2025] for w in range(65536))


def encode(data: bytes | bytearray | memoryview) -> str:
    """Encode ``data`` as Base45 text (RFC 9285 §4)."""
    raw = bytes(data)
    n = len(raw)
    half = n >> 1
    words = struct.unpack(f">{half}H", raw[: 2 * half])
    # itemgetter looks every word up in C: a third faster than a list comprehension on a
    # credential (with one word it gives the string itself, which join leaves as it is)
    text = "".join(itemgetter(*words)(_triples())) if words else ""
    if n & 1:
        text += _PAIRS[raw[-1]]
    return text


def decode(text: str) -> bytes:
    """Decode Base45 ``text`` to bytes (RFC 9285 §4).

    Raises:
        BadBase45Error: ``text`` is not a ``str``, holds a character outside the alphabet
            (lower case included), or a group encodes a value too large for its bytes.
        TruncatedError: only valid characters, but a length of the form ``3k + 1``: the text
            was cut short (a scanner that stopped early).
    """
    if not isinstance(text, str):
        raise BadBase45Error(f"expected text, got {type(text).__name__}")
    n = len(text)
    rest = n % 3
    if not text.isascii():
        raise BadBase45Error("character outside the Base45 alphabet")
    values = text.encode("ascii").translate(_VALUES)  # 0xFF marks characters not in ALPHABET
    if b"\xff" in values:
        raise BadBase45Error("character outside the Base45 alphabet")
    if rest == 1:  # valid characters, one too few or too many: a text cut short
        raise TruncatedError(f"invalid length {n} (3k + 1): the text was cut short")
    full = n - rest
    groups = full // 3
    out = bytearray(2 * groups)
    if groups:
        # Decode every group at once: put the three digit columns in 32-bit lanes of three big
        # integers and compute c + 45 d + 2025 e lane-wise (a lane holds at most 91124, so
        # nothing carries into the next lane), then check and keep the low 16 bits of each lane.
        lanes = bytearray(4 * groups)
        lanes[3::4] = values[0:full:3]
        number = int.from_bytes(lanes, "big")
        lanes[3::4] = values[1:full:3]
        number += 45 * int.from_bytes(lanes, "big")
        lanes[3::4] = values[2:full:3]
        number += 2025 * int.from_bytes(lanes, "big")
        words = number.to_bytes(4 * groups, "big")
        if 1 in words[1::4]:  # bit 16 of a lane: the group was above 65535
            raise BadBase45Error("a three-character group exceeds 65535")
        out[0::2] = words[2::4]
        out[1::2] = words[3::4]
    if rest:
        last = values[-2] + 45 * values[-1]
        if last > 0xFF:
            raise BadBase45Error("the final two-character group exceeds 255")
        out.append(last)
    return bytes(out)
