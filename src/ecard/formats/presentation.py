"""The ``EC2:`` presentation and the enrolment request: what a holder's device signs. No keys.

A **presentation** is ``"EC2:" + Base45(COSE_Sign1)`` (no zlib: the design fixes it as the
COSE_Sign1 itself, and a presentation is mostly a signature and a key that do not compress).
The COSE_Sign1 is signed by the device key named in the bound card's ``cnf`` claim and follows
the SD-CWT key binding token (SD-KBT, draft-ietf-spice-sd-cwt) where it fits::

    18([                                   tag 18, COSE_Sign1
      << {1: alg, 13: kcwt} >>,            protected: alg of the device key, kcwt = the bound
                                           card's COSE_Sign1 bytes (as a bstr, see below)
      {},                                  unprotected: must be empty
      << {3: aud, 6: iat, ?39: cnonce} >>, payload: purpose, time, optional counter challenge
      signature                            by the device key (raw r||s / Ed25519)
    ])

Deviations from SD-KBT (docs/format.md lists them with a worked example): ``kcwt`` holds the
card's COSE_Sign1 *bytes* in a byte string, so the issuer's signed bytes travel unchanged and a
verifier checks exactly what the issuer signed; there is no ``typ`` header (the ``EC2:`` prefix
types the message, and 20 bytes matter in a QR code); ``aud`` is one of the purpose codes of
:data:`PURPOSES`; ``cnonce`` is the short code a holder types (1..16 bytes).

An **enrolment request** is the device's proof of possession at issuance: a COSE_Sign1 with
protected ``{1: alg}`` over ``{8: {1: COSE_Key}, 39: nonce}`` (the ``cnf`` claim and the issuer's
nonce), signed by the key it carries. The issuer checks it (``ecard.signing.binding``) before it
binds a card to the key.

Parsing is strict and typed (``BAD_PRESENTATION`` for the layout, ``BAD_COSE``/``BAD_CBOR`` for
the envelope); no signature is checked here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from ecard.errors import BadBase45Error, BadKeyError, BadPrefixError, BadPresentationError
from ecard.formats import base45, cbor
from ecard.formats.cose import (
    HEADER_ALG,
    MAX_MESSAGE_SIZE,
    assemble_sign1,
    parse_sign1,
    sig_structure,
)
from ecard.formats.cosekey import CLAIM_CNF, DeviceKey, encode_cnf, parse_cnf
from ecard.formats.qrtext import MAX_TEXT_LENGTH

#: The context identifier every presentation text starts with (fixed).
PREFIX: Final = "EC2:"
#: SD-CWT header ``kcwt``: the key-bound CWT inside the key binding token.
HEADER_KCWT: Final = 13
#: Payload claims (RFC 8392 / SD-CWT).
CLAIM_AUD: Final = 3
CLAIM_IAT: Final = 6
CLAIM_CNONCE: Final = 39
#: Purpose codes a presentation may name in ``aud``.
PURPOSES: Final = frozenset({"identity", "treatment", "pharmacy", "payment"})
MAX_CNONCE: Final = 16
ENROLMENT_NONCE_SIZE: Final = 16
#: Largest bound card carried in ``kcwt``.
MAX_CARD_SIZE: Final = 2048
_MIN_TIME: Final = 946_684_800
_MAX_TIME: Final = 7_258_118_400
_COSE_FIRST_BYTE: Final = 0xD2  # tag 18


@dataclass(frozen=True, slots=True)
class Presentation:
    """A parsed presentation: the raw signed parts and the fields decisions rest on."""

    protected: bytes
    payload: bytes
    signature: bytes
    #: COSE algorithm id from the protected header (the device key's).
    alg: int
    #: The bound card's COSE_Sign1 bytes (``kcwt``).
    card: bytes
    aud: str
    iat: int
    cnonce: bytes | None

    def to_be_signed(self) -> bytes:
        """The ``Sig_structure`` the device signed."""
        return sig_structure(self.protected, self.payload)

    @property
    def replay_key(self) -> bytes:
        """SHA-256 over the ``Sig_structure`` (protected header and payload), never over the
        text or the signature: an ECDSA signature ``s`` can be turned into ``n - s`` (another
        valid text of the same presentation), so only what was signed names a presentation."""
        return hashlib.sha256(self.to_be_signed()).digest()


def presentation_protected(alg: int, card: bytes) -> bytes:
    """The protected header ``{1: alg, 13: card}`` (deterministic CBOR)."""
    return cbor.encode({HEADER_ALG: alg, HEADER_KCWT: bytes(card)})


def presentation_payload(aud: str, iat: int, cnonce: bytes | None = None) -> bytes:
    """The payload ``{3: aud, 6: iat, ?39: cnonce}``, checked as a reader would."""
    claims: dict[int, object] = {CLAIM_AUD: aud, CLAIM_IAT: iat}
    if cnonce is not None:
        claims[CLAIM_CNONCE] = cnonce
    _check_payload(claims)
    return cbor.encode(claims)


def _check_payload(claims: Mapping[Any, object]) -> tuple[str, int, bytes | None]:
    unknown = [k for k in claims if k not in (CLAIM_AUD, CLAIM_IAT, CLAIM_CNONCE)]
    if unknown:
        raise BadPresentationError(f"unknown payload claim(s) {sorted(unknown, key=repr)}")
    aud, iat, cnonce = claims.get(CLAIM_AUD), claims.get(CLAIM_IAT), claims.get(CLAIM_CNONCE)
    if type(aud) is not str or aud not in PURPOSES:
        raise BadPresentationError(f"aud must be one of {sorted(PURPOSES)}")
    if type(iat) is not int or not _MIN_TIME <= iat <= _MAX_TIME:
        raise BadPresentationError("iat must be an integer NumericDate in 2000..2200")
    if cnonce is not None and (type(cnonce) is not bytes or not 1 <= len(cnonce) <= MAX_CNONCE):
        raise BadPresentationError(f"cnonce must be 1..{MAX_CNONCE} bytes")
    return aud, iat, cnonce


def assemble_presentation(protected: bytes, payload: bytes, signature: bytes) -> bytes:
    """The tagged COSE_Sign1 bytes of a signed presentation."""
    return assemble_sign1(protected, payload, signature)


def encode_text(cose: bytes) -> str:
    """``"EC2:" + Base45(cose)``."""
    text = PREFIX + base45.encode(cose)
    if len(text) > MAX_TEXT_LENGTH:
        raise ValueError(f"{len(text)} characters do not fit in a QR code")
    return text


def is_presentation_text(text: object) -> bool:
    """Whether ``text`` claims to be a presentation (starts with ``EC2:``)."""
    return isinstance(text, str) and text.startswith(PREFIX)


def decode_text(text: str) -> bytes:
    """The COSE bytes of a presentation text; typed errors for a wrong prefix or Base45."""
    if not is_presentation_text(text):
        raise BadPrefixError(f"text does not start with {PREFIX!r}")
    if len(text) > MAX_TEXT_LENGTH:
        raise BadBase45Error(f"text too long ({len(text)} > {MAX_TEXT_LENGTH} characters)")
    if len(text) == len(PREFIX):
        raise BadBase45Error("empty payload")
    raw = base45.decode(text[len(PREFIX) :])
    if raw[0] != _COSE_FIRST_BYTE:
        raise BadPresentationError("a presentation is a tagged COSE_Sign1 (no compression)")
    return raw


def _bstr(data: bytes, pos: int) -> tuple[int, int] | None:
    """``(start, end)`` of the byte string whose head is at ``pos``, for heads of one to three
    bytes in shortest form (lengths below 65536), or None."""
    head = data[pos]
    if 0x40 <= head < 0x58:
        return pos + 1, pos + 1 + head - 0x40
    if head == 0x58 and data[pos + 1] >= 24:
        return pos + 2, pos + 2 + data[pos + 1]
    if head == 0x59 and data[pos + 1]:
        return pos + 3, pos + 3 + (data[pos + 1] << 8 | data[pos + 2])
    return None


def _parse_common(data: bytes) -> Presentation | None:
    """The presentation every holder writes, recognised byte for byte, or None.

    Matches only ``D2 84 <bstr protected> A0 <bstr payload> <bstr signature>`` whose protected
    header is exactly ``A2 01 <alg> 0D <bstr card>`` (``alg`` a negative integer in shortest
    form) and whose payload is exactly ``A2|A3 03 <text aud> 06 1A <iat> [18 27 <bstr
    cnonce>]``, every head in shortest form and nothing after. Such bytes are strict,
    deterministic CBOR that the general parser reads into the same fields and that pass its
    layout checks; the field checks (purpose, time, sizes) are then the same for both. Anything
    else returns None and takes the general path (which gives the precise error).
    """
    try:
        if type(data) is not bytes or len(data) > MAX_MESSAGE_SIZE or data[:2] != b"\xd2\x84":
            return None
        span = _bstr(data, 2)
        if span is None:
            return None
        p0, p1 = span
        if data[p0] != 0xA2 or data[p0 + 1] != 0x01:
            return None
        head = data[p0 + 2]
        if 0x20 <= head < 0x38:
            alg, k = 0x1F - head, p0 + 3
        elif head == 0x3A and data[p0 + 3] | data[p0 + 4]:  # four-byte argument >= 65536
            alg, k = -1 - int.from_bytes(data[p0 + 3 : p0 + 7], "big"), p0 + 7
        else:
            return None
        if data[k] != HEADER_KCWT:
            return None
        span = _bstr(data, k + 1)
        if span is None or span[1] != p1 or data[p1] != 0xA0:
            return None
        card = data[span[0] : span[1]]
        span = _bstr(data, p1 + 1)
        if span is None:
            return None
        q0, q1 = span
        sig_span = _bstr(data, q1)
        if sig_span is None or sig_span[1] != len(data):
            return None
        n = data[q0]
        if n not in (0xA2, 0xA3) or data[q0 + 1] != CLAIM_AUD or not 0x60 < data[q0 + 2] < 0x78:
            return None
        a = q0 + 3 + data[q0 + 2] - 0x60
        aud = data[q0 + 3 : a].decode()
        if data[a] != CLAIM_IAT or data[a + 1] != 0x1A or not data[a + 2] | data[a + 3]:
            return None
        iat = int.from_bytes(data[a + 2 : a + 6], "big")
        cnonce = None
        if n == 0xA3:
            if data[a + 6] != 0x18 or data[a + 7] != CLAIM_CNONCE or not 0x40 <= data[a + 8] < 0x58:
                return None
            cnonce = data[a + 9 : q1]
            if len(cnonce) != data[a + 8] - 0x40:
                return None
        elif a + 6 != q1:
            return None
    except (IndexError, UnicodeDecodeError):
        return None
    if not 1 <= len(card) <= MAX_CARD_SIZE:  # the general path's order of checks
        raise BadPresentationError(f"kcwt must be the card's COSE bytes (1..{MAX_CARD_SIZE})")
    _check_payload({CLAIM_AUD: aud, CLAIM_IAT: iat, CLAIM_CNONCE: cnonce})
    return Presentation(
        protected=data[p0:p1],
        payload=data[q0:q1],
        signature=data[sig_span[0] : sig_span[1]],
        alg=alg,
        card=card,
        aud=aud,
        iat=iat,
        cnonce=cnonce,
    )


def parse_presentation(data: bytes) -> Presentation:
    """Parse presentation COSE bytes strictly (layout in the module docstring)."""
    fast = _parse_common(data)
    if fast is not None:
        return fast
    msg = parse_sign1(data, require_kid=False)
    if set(msg.headers) != {HEADER_ALG, HEADER_KCWT}:
        raise BadPresentationError("protected header must hold exactly alg (1) and kcwt (13)")
    if type(msg.alg) is not int:
        raise BadPresentationError("alg must be an integer")
    card = msg.headers[HEADER_KCWT]
    if type(card) is not bytes or not 1 <= len(card) <= MAX_CARD_SIZE:
        raise BadPresentationError(f"kcwt must be the card's COSE bytes (1..{MAX_CARD_SIZE})")
    if msg.unprotected:
        raise BadPresentationError("the unprotected header must be empty")
    claims = cbor.decode(msg.payload, max_depth=1, max_items=16)
    if type(claims) is not dict:
        raise BadPresentationError("payload must be a map of claims")
    aud, iat, cnonce = _check_payload(claims)
    return Presentation(
        protected=msg.protected,
        payload=msg.payload,
        signature=msg.signature,
        alg=msg.alg,
        card=card,
        aud=aud,
        iat=iat,
        cnonce=cnonce,
    )


# -- enrolment ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EnrolmentRequest:
    """A parsed enrolment request: the device key, the nonce answered and the signed parts."""

    key: DeviceKey
    nonce: bytes
    protected: bytes
    payload: bytes
    signature: bytes
    alg: int

    def to_be_signed(self) -> bytes:
        """The ``Sig_structure`` the device signed."""
        return sig_structure(self.protected, self.payload)


def enrolment_parts(key: DeviceKey, nonce: bytes) -> tuple[bytes, bytes]:
    """``(protected, payload)`` of the enrolment request for ``key`` answering ``nonce``."""
    if type(nonce) is not bytes or len(nonce) != ENROLMENT_NONCE_SIZE:
        raise BadPresentationError(f"the enrolment nonce must be {ENROLMENT_NONCE_SIZE} bytes")
    protected = cbor.encode({HEADER_ALG: key.alg.cose_id})
    payload = cbor.encode({CLAIM_CNF: encode_cnf(key), CLAIM_CNONCE: nonce})
    return protected, payload


def parse_enrolment(data: bytes) -> EnrolmentRequest:
    """Parse an enrolment request strictly (its signature is checked by the issuer)."""
    msg = parse_sign1(data, max_size=1024, require_kid=False)
    if set(msg.headers) != {HEADER_ALG} or type(msg.alg) is not int:
        raise BadPresentationError("enrolment protected header must hold exactly alg (1)")
    body = cbor.decode(msg.payload, max_depth=3, max_items=32)
    if type(body) is not dict or set(body) != {CLAIM_CNF, CLAIM_CNONCE}:
        raise BadPresentationError("enrolment payload must be {8: cnf, 39: nonce}")
    nonce = body[CLAIM_CNONCE]
    if type(nonce) is not bytes or len(nonce) != ENROLMENT_NONCE_SIZE:
        raise BadPresentationError(f"the enrolment nonce must be {ENROLMENT_NONCE_SIZE} bytes")
    try:
        key = parse_cnf(body[CLAIM_CNF])
    except BadKeyError as exc:
        raise BadPresentationError(f"enrolment key: {exc.detail}") from None
    if key.alg.cose_id != msg.alg:
        raise BadPresentationError("enrolment alg does not fit the key it carries")
    return EnrolmentRequest(key, nonce, msg.protected, msg.payload, msg.signature, msg.alg)


__all__ = [
    "CLAIM_AUD",
    "CLAIM_CNONCE",
    "CLAIM_IAT",
    "ENROLMENT_NONCE_SIZE",
    "HEADER_KCWT",
    "MAX_CNONCE",
    "PREFIX",
    "PURPOSES",
    "EnrolmentRequest",
    "Presentation",
    "assemble_presentation",
    "decode_text",
    "encode_text",
    "enrolment_parts",
    "is_presentation_text",
    "parse_enrolment",
    "parse_presentation",
]
