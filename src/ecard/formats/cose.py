"""COSE_Sign1 (RFC 9052 §4.2): the message format, assembly and strict parse. No keys: signing
is :func:`ecard.signing.cose.build_sign1`, which assembles with :func:`assemble_sign1`.

The ecard profile (fixed by the design brief):

* the message is tagged with CBOR tag 18 (COSE_Sign1); untagged or CWT-tag-61-wrapped
  messages are rejected;
* ``alg`` (label 1) and ``kid`` (label 4) live in the **protected** header only; a message that
  carries ``alg``, ``kid`` or ``crit`` in the unprotected header is rejected, so nothing the
  signature does not cover can steer a decision; other unprotected labels are ignored;
* ``crit`` (label 2) may only name labels this module understands (``alg`` and ``kid``);
* the payload is attached (detached payloads are rejected);
* the signature is the raw COSE form (``r || s`` for ECDSA), checked by the algorithm.

``kid`` is the first 8 bytes of SHA-256 over the issuer certificate's DER, as in the EU DCC.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from ecard.errors import BadCborError, BadCoseError, TruncatedCborError, TruncatedError
from ecard.formats import cbor

#: CBOR tag of a COSE_Sign1 message.
COSE_SIGN1_TAG: Final = 18
#: CBOR tag of a CWT (RFC 8392 §6); not accepted around our messages.
CWT_TAG: Final = 61
#: Header labels (IANA COSE Header Parameters).
HEADER_ALG: Final = 1
HEADER_CRIT: Final = 2
HEADER_KID: Final = 4
#: x5chain (RFC 9360): the signer's certificate, or an array of certificates leaf first.
HEADER_X5CHAIN: Final = 33
#: Length of our ``kid``.
KID_SIZE: Final = 8
#: Largest COSE message accepted (a QR code cannot carry more than 2953 bytes).
MAX_MESSAGE_SIZE: Final = 8192

_SIGN1_ONLY: Final = frozenset({COSE_SIGN1_TAG})
_UNDERSTOOD_CRIT: Final = frozenset({HEADER_ALG, HEADER_KID})
_FORBIDDEN_UNPROTECTED: Final = frozenset({HEADER_ALG, HEADER_CRIT, HEADER_KID})
_SIG1_CONTEXT: Final = b"\x84\x6aSignature1"  # array(4), text(10) "Signature1"


@dataclass(frozen=True, slots=True)
class Sign1Message:
    """A parsed COSE_Sign1: the raw protected header bytes and the fields decisions rest on.

    ``alg`` and ``kid`` come from the protected header only.
    """

    protected: bytes
    alg: int | str
    kid: bytes
    payload: bytes
    signature: bytes
    #: The whole protected header map (covered by the signature).
    headers: Mapping[int | str, Any] = field(default_factory=dict)
    #: The unprotected header map (not covered by the signature; decides nothing).
    unprotected: Mapping[Any, Any] = field(default_factory=dict)

    def to_be_signed(self) -> bytes:
        """The ``Sig_structure`` bytes the signature covers."""
        return sig_structure(self.protected, self.payload)


def sig_structure(protected: bytes, payload: bytes, external_aad: bytes = b"") -> bytes:
    """Encode ``["Signature1", protected, external_aad, payload]`` (RFC 9052 §4.4)."""
    head = cbor.encode_head
    n, m = len(protected), len(payload)
    return b"".join(
        (
            _SIG1_CONTEXT,
            _BSTR_HEADS[n] if n < 256 else head(2, n),
            protected,
            head(2, len(external_aad)) if external_aad else b"\x40",
            external_aad,
            _BSTR_HEADS[m] if m < 256 else head(2, m),
            payload,
        )
    )


#: The heads of byte strings of 0..255 bytes (what nearly every Sig_structure holds).
_BSTR_HEADS: Final = tuple(cbor.encode_head(2, n) for n in range(256))


def kid_for_certificate(cert: x509.Certificate) -> bytes:
    """The ``kid`` of an issuer certificate: SHA-256 over its DER, first 8 bytes."""
    return hashlib.sha256(cert.public_bytes(Encoding.DER)).digest()[:KID_SIZE]


@functools.lru_cache(maxsize=64)
def encode_protected(alg: int, kid: bytes) -> bytes:
    """The protected header bytes: the deterministic CBOR map ``{1: alg, 4: kid}`` (the same
    for every credential of an issuer: remembered for the last 64 pairs)."""
    return cbor.encode({HEADER_ALG: alg, HEADER_KID: kid})


def protected_header(alg: int, kid: bytes, extra_headers: Mapping[int, Any] | None = None) -> bytes:
    """The protected header bytes for ``alg`` and ``kid``, with ``extra_headers`` (e.g.
    ``x5chain``) beside them: deterministic CBOR, so equal headers give equal bytes."""
    if extra_headers:
        return cbor.encode({**extra_headers, HEADER_ALG: alg, HEADER_KID: kid})
    return encode_protected(alg, kid)


def assemble_sign1(protected: bytes, payload: bytes, signature: bytes) -> bytes:
    """The tagged COSE_Sign1 bytes of a signed message (empty unprotected header).

    Written directly: tag 18 and an array of four (``D2 84``), then the three byte strings
    around an empty map (``A0``), each head in shortest form: the deterministic encoding of
    ``Tag(18, [protected, {}, payload, signature])``, byte for byte.
    """
    head = cbor.encode_head
    return b"".join(
        (
            b"\xd2\x84",
            head(2, len(protected)),
            protected,
            b"\xa0",
            head(2, len(payload)),
            payload,
            head(2, len(signature)),
            signature,
        )
    )


def parse_sign1(
    data: bytes, *, max_size: int = MAX_MESSAGE_SIZE, require_kid: bool = True
) -> Sign1Message:
    """Parse a tagged COSE_Sign1 strictly; see the module docstring for the profile.

    ``require_kid=False`` accepts a message without ``kid`` (its :attr:`Sign1Message.kid` is
    then empty): a holder's presentation is signed by the key its card names, not a listed one.

    Raises :class:`~ecard.errors.TruncatedError` when the message ends inside its outer
    structure (a text cut short), :class:`~ecard.errors.BadCborError` for malformed CBOR (the
    message or the protected header) and
    :class:`~ecard.errors.BadCoseError` for a well-formed item that is not an acceptable
    COSE_Sign1. The signature is *not* checked here.
    """
    if len(data) > max_size:
        raise BadCoseError(f"message of {len(data)} bytes exceeds {max_size}")
    fast = _parse_common(data)
    if fast is not None:
        return fast
    return _parse_general(data, max_size, require_kid)


def _parse_general(data: bytes, max_size: int, require_kid: bool = True) -> Sign1Message:
    """:func:`parse_sign1` through the strict CBOR decoder, for every layout."""
    outer = _outer_tag(data)
    if outer is None:
        raise BadCoseError("message is not tagged as COSE_Sign1 (tag 18)")
    if outer != COSE_SIGN1_TAG:
        raise BadCoseError(f"outer tag {outer} is not COSE_Sign1 (18)")
    try:
        item = cbor.decode(data, max_depth=8, allowed_tags=_SIGN1_ONLY)
    except TruncatedCborError as exc:
        if exc.needed > max_size:  # a length no message can have: forged, not cut short
            raise BadCborError(exc.detail) from None
        # the message itself ends early: a text cut short (a scanner that stopped)
        raise TruncatedError(f"the message ends before its end ({exc.detail})") from None
    assert isinstance(item, cbor.Tag)  # guaranteed by the tag header just read
    body = item.value
    if not isinstance(body, list) or len(body) != 4:
        raise BadCoseError("COSE_Sign1 must be an array of 4 elements")
    protected, unprotected, payload, signature = body
    if not isinstance(protected, bytes):
        raise BadCoseError("protected header must be a byte string")
    if not isinstance(unprotected, dict):
        raise BadCoseError("unprotected header must be a map")
    if payload is None:
        raise BadCoseError("detached payloads are not supported")
    if not isinstance(payload, bytes):
        raise BadCoseError("payload must be a byte string")
    if not isinstance(signature, bytes):
        raise BadCoseError("signature must be a byte string")
    if any(isinstance(v, cbor.Tag) for v in (protected, payload, signature)) or _has_tag(
        unprotected
    ):
        raise BadCoseError("unexpected tag inside COSE_Sign1")

    headers = cbor.decode(protected, max_depth=4) if protected else {}
    if not isinstance(headers, dict):
        raise BadCoseError("protected header must encode a map")
    misplaced = _FORBIDDEN_UNPROTECTED.intersection(k for k in unprotected if isinstance(k, int))
    if misplaced:
        names = ", ".join({1: "alg", 2: "crit", 4: "kid"}[k] for k in sorted(misplaced))
        raise BadCoseError(f"{names} must be in the protected header only")
    crit = headers.get(HEADER_CRIT)
    if crit is not None:
        if not isinstance(crit, list) or not crit:
            raise BadCoseError("crit must be a non-empty array")
        unknown = [c for c in crit if c not in _UNDERSTOOD_CRIT or isinstance(c, bool)]
        if unknown:
            raise BadCoseError(f"critical header(s) not understood: {unknown!r}")
    alg = headers.get(HEADER_ALG)
    if alg is None:
        raise BadCoseError("protected header has no alg")
    if isinstance(alg, bool) or not isinstance(alg, int | str):
        raise BadCoseError("alg must be an integer or text")
    kid = headers.get(HEADER_KID)
    if kid is None and not require_kid:
        kid = b""
    elif kid is None:
        raise BadCoseError("protected header has no kid")
    if not isinstance(kid, bytes):
        raise BadCoseError("kid must be a byte string")
    return Sign1Message(
        protected=protected,
        alg=alg,
        kid=kid,
        payload=payload,
        signature=signature,
        headers=headers,
        unprotected=unprotected,
    )


def _parse_common(data: bytes) -> Sign1Message | None:
    """The message every ecard issuer writes, recognised byte for byte, or None.

    Matches only ``D2 84 <bstr protected> A0 <bstr payload> <bstr signature>`` with the
    protected header exactly ``A2 01 <alg: one-byte negative int> 04 48 <8-byte kid>`` and not
    one byte more. Such bytes are strict, deterministic CBOR whose parse passes every check of
    :func:`parse_sign1` (tag 18, four elements of the right types, empty unprotected header,
    no tag inside, alg and kid in the protected header, no ``crit``), so the result is the one
    the general parser gives; anything else (another layout, a longer length, an ``x5chain``)
    returns None and takes the general path.
    """
    if type(data) is not bytes or len(data) < 20 or _COMMON_OPENING.match(data) is None:
        return None
    protected = data[3:16]
    span = cbor.short_string_span(data, 17, 2)
    if span is None or span[1] + 2 > len(data):
        return None
    payload_start, payload_end = span
    span = cbor.short_string_span(data, payload_end, 2)
    if span is None or span[1] != len(data):
        return None
    alg = 0x1F - protected[2]  # major type 1, argument n: the integer -1 - n
    kid = protected[5:13]
    return Sign1Message(
        protected=protected,
        alg=alg,
        kid=kid,
        payload=data[payload_start:payload_end],
        signature=data[span[0] : span[1]],
        headers={HEADER_ALG: alg, HEADER_KID: kid},
    )


#: ``D2 84``, the protected header ``4D A2 01 <alg: one-byte negative int> 04 48 <8-byte kid>``
#: and the empty unprotected header ``A0``: the first 17 bytes :func:`_parse_common` accepts.
_COMMON_OPENING: Final = re.compile(rb"\xd2\x84\x4d\xa2\x01[\x20-\x37]\x04\x48.{8}\xa0", re.DOTALL)


def _outer_tag(data: bytes) -> int | None:
    """The number of the tag ``data`` starts with, or None if it does not start with a tag.

    Read before decoding so that any wrong outer tag (CWT 61, COSE_Sign 98, unknown ones) is
    a precise ``BAD_COSE`` rather than a generic CBOR error.
    """
    if not data or data[0] >> 5 != 6:
        return None
    ai = data[0] & 0x1F
    if ai < 24:
        return ai
    size = {24: 1, 25: 2, 26: 4, 27: 8}.get(ai)
    if size is None or len(data) < 1 + size:
        return -1  # malformed tag header: reported as a wrong tag
    return int.from_bytes(data[1 : 1 + size], "big")


def _has_tag(value: object) -> bool:
    if isinstance(value, cbor.Tag):
        return True
    if isinstance(value, list):
        return any(_has_tag(v) for v in value)
    if isinstance(value, dict):
        return any(_has_tag(k) or _has_tag(v) for k, v in value.items())
    return False


__all__ = [
    "COSE_SIGN1_TAG",
    "CWT_TAG",
    "HEADER_ALG",
    "HEADER_CRIT",
    "HEADER_KID",
    "HEADER_X5CHAIN",
    "KID_SIZE",
    "MAX_MESSAGE_SIZE",
    "Sign1Message",
    "assemble_sign1",
    "encode_protected",
    "kid_for_certificate",
    "parse_sign1",
    "protected_header",
    "sig_structure",
]
