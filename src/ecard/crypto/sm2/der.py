"""DER and PEM for SM2: strict SubjectPublicKeyInfo parsing (exact DER, ``id-ecPublicKey``
with the named curve sm2p256v1, a point on it), raw ``r || s`` <-> DER signatures, PEM
wrapping. Pure Python over ``cryptography``'s DSS helpers; no backend, no keys.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Final

from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from ecard.crypto.sm2.curve import SIGNATURE_SIZE, SM2_ORDER, SM2P256V1
from ecard.errors import BadKeyError

# DER of the AlgorithmIdentifier contents for an SM2 public key: the OID id-ecPublicKey
# (1.2.840.10045.2.1) and, as parameters, the named curve sm2p256v1 (1.2.156.10197.1.301).
ID_EC_PUBLIC_KEY_DER: Final = bytes.fromhex("06072a8648ce3d0201")
SM2_CURVE_OID_DER: Final = bytes.fromhex("06082a811ccf5501822d")
#: The DER SubjectPublicKeyInfo of an sm2p256v1 key up to its uncompressed point's x: what
#: OpenSSL's i2d_PUBKEY writes before ``x || y``.
SM2P256V1_SPKI_PREFIX: Final = (
    bytes([0x30, 0x59, 0x30, 0x13])
    + ID_EC_PUBLIC_KEY_DER
    + SM2_CURVE_OID_DER
    + bytes([0x03, 0x42, 0x00, 0x04])
)
_PEM_PUBLIC_KEY: Final = re.compile(
    rb"-----BEGIN PUBLIC KEY-----(.*?)-----END PUBLIC KEY-----", re.DOTALL
)


def raw_to_der(signature: bytes) -> bytes:
    """Raw 64-byte ``r || s`` to a DER ``SEQUENCE { r, s }``."""
    if len(signature) != SIGNATURE_SIZE:
        raise ValueError(f"SM2 raw signature must be {SIGNATURE_SIZE} bytes, not {len(signature)}")
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    return encode_dss_signature(r, s)


def der_to_raw(signature: bytes) -> bytes:
    """DER ``SEQUENCE { r, s }`` to raw 64-byte ``r || s`` (each half left-padded)."""
    r, s = decode_dss_signature(signature)
    if not (0 < r < SM2_ORDER and 0 < s < SM2_ORDER):
        raise ValueError("SM2 signature component out of range")
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def der_item(data: bytes, pos: int) -> tuple[int, int, int]:
    """One DER TLV at ``pos``: (tag, start of contents, end of contents); ValueError if bad."""
    if pos + 2 > len(data):
        raise ValueError("truncated")
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if not 1 <= count <= 2 or pos + count > len(data):
            raise ValueError("unsupported length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
        if length < 0x80 or (count == 2 and length < 0x100):
            raise ValueError("length not minimally encoded (BER, not DER)")
    if pos + length > len(data):
        raise ValueError("truncated")
    return tag, pos, pos + length


def _spki_parts(data: bytes) -> tuple[bytes, bytes]:
    """The AlgorithmIdentifier contents and the subjectPublicKey BIT STRING contents of a DER
    SubjectPublicKeyInfo (one SEQUENCE, nothing after it); ValueError if malformed."""
    tag, start, end = der_item(data, 0)
    if tag != 0x30 or end != len(data):
        raise ValueError("not one DER SEQUENCE" + (" (trailing data)" if tag == 0x30 else ""))
    tag, alg_start, alg_end = der_item(data, start)
    if tag != 0x30:
        raise ValueError("no AlgorithmIdentifier")
    tag, key_start, key_end = der_item(data, alg_end)
    if tag != 0x03 or key_end != end:
        raise ValueError("no subjectPublicKey BIT STRING")
    return data[alg_start:alg_end], data[key_start:key_end]


def is_sm2_spki(data: bytes) -> bool:
    """Whether ``data`` is a DER SubjectPublicKeyInfo of an EC key on the named curve sm2p256v1
    (the point itself is not checked; loading the key does that). Never raises."""
    try:
        alg, _ = _spki_parts(bytes(data))
    except (ValueError, TypeError):
        return False
    return alg == ID_EC_PUBLIC_KEY_DER + SM2_CURVE_OID_DER


def parse_spki(data: bytes) -> tuple[int, int]:
    """The point of a DER SubjectPublicKeyInfo for an SM2 key, or :class:`BadKeyError`.

    Accepted: ``SEQUENCE { SEQUENCE { id-ecPublicKey, sm2p256v1 }, BIT STRING point }`` in DER,
    nothing after it, the point on sm2p256v1. Explicit curve parameters are refused.
    """
    try:
        alg, bits = _spki_parts(data)
    except ValueError as exc:
        raise BadKeyError(f"malformed SubjectPublicKeyInfo: {exc}") from None
    if not alg.startswith(ID_EC_PUBLIC_KEY_DER):
        raise BadKeyError("not an SM2 key: the SubjectPublicKeyInfo is not an EC key")
    if alg[len(ID_EC_PUBLIC_KEY_DER) :] != SM2_CURVE_OID_DER:
        raise BadKeyError(
            "not an SM2 key: the curve is not the named curve sm2p256v1 (OID 1.2.156.10197.1.301)"
        )
    if not bits or bits[0] != 0:
        raise BadKeyError("malformed SubjectPublicKeyInfo: bad BIT STRING")
    return SM2P256V1.decode_point(bits[1:])


def pem_body(data: bytes) -> bytes:
    """The DER inside the first ``-----BEGIN PUBLIC KEY-----`` block of ``data``."""
    found = _PEM_PUBLIC_KEY.search(bytes(data))
    if found is None:
        raise BadKeyError("cannot load SM2 public key from PEM: no PUBLIC KEY block")
    try:
        return base64.b64decode(b"".join(found.group(1).split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadKeyError(f"cannot load SM2 public key from PEM: bad base64 ({exc})") from None


def pem_wrap(label: bytes, der: bytes) -> bytes:
    """``der`` as a PEM block with ``label``, 64 base64 characters a line."""
    body = base64.b64encode(der)
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return b"\n".join(
        [b"-----BEGIN " + label + b"-----", *lines, b"-----END " + label + b"-----", b""]
    )
