"""CWT claims (RFC 8392) of an e-card credential: the signed payload, as a model and as bytes.

The payload is a deterministic CBOR map::

    1  iss   text      who issued the credential (short, e.g. "CN")
    4  exp   uint      NumericDate (seconds since 1970-01-01T00:00:00Z)
    5  nbf   uint      optional NumericDate; honoured if present
    6  iat   uint      NumericDate of issuance
    7  cti   bytes     credential id (what revocation lists name), 8 to 64 bytes
    8  cnf   map       optional: ``{1: COSE_Key}``, the holder's device key (RFC 8747) on a
                       bound card (:mod:`ecard.formats.cosekey`); such a card is only valid
                       inside an ``EC2:`` presentation signed by that key
    -65537   map       the card in compact form (see :meth:`ecard.card.Card.to_claim`), or
    -65539   array     the counter profile of the card (:class:`ecard.countercard.CounterCard`: masked
                       name, no ID number), only on a bound card (``cnf``); exactly one of the two

A counter-profile credential carries **no** ``cti``: its credential id is the first
:data:`COUNTER_CTI_SIZE` bytes of its device key's COSE Key Thumbprint (RFC 9679,
:func:`counter_cti`), which the reader computes. Each counter credential has its own fresh
device key, so the id is as unique as a random one, and it saves 10 bytes of the QR code;
re-binding a key re-uses its id, so a key revoked once stays revoked.

``-65537`` lies in the CWT private-use range (below -65536, RFC 8392 §9.1). Any other claim
key is rejected: a verifier must not accept a credential carrying claims it does not
understand. Times are integers; this profile has no floats.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from ecard.cardrecord import CARD_KEY, LazyCard, record_from_fields
from ecard.errors import BadClaimsError, BadKeyError
from ecard.formats import cbor
from ecard.formats.cosekey import CLAIM_CNF, DeviceKey, encode_cnf, parse_cnf, parse_cose_key

CLAIM_ISS: Final = 1
CLAIM_EXP: Final = 4
CLAIM_NBF: Final = 5
CLAIM_IAT: Final = 6
CLAIM_CTI: Final = 7
#: Private-use claim key holding the card.
CLAIM_CARD: Final = -65537
#: Private-use claim key holding a card's counter profile (bound cards only).
CLAIM_COUNTER_CARD: Final = -65539

MIN_CTI: Final = 8
MAX_CTI: Final = 64
MAX_ISS: Final = 64
#: NumericDates accepted: 2000-01-01 .. 2200-01-01.
_MIN_TIME: Final = 946_684_800
_MAX_TIME: Final = 7_258_118_400

#: Bytes of a counter-profile credential's id (derived from its device key, never carried).
COUNTER_CTI_SIZE: Final = 16

_REQUIRED: Final = frozenset({CLAIM_ISS, CLAIM_EXP, CLAIM_IAT, CLAIM_CTI})
_KNOWN: Final = _REQUIRED | {CLAIM_NBF, CLAIM_CNF, CLAIM_CARD, CLAIM_COUNTER_CARD}
_COUNTER_REQUIRED: Final = frozenset({CLAIM_ISS, CLAIM_EXP, CLAIM_IAT, CLAIM_CNF})
_COUNTER_KNOWN: Final = _COUNTER_REQUIRED | {CLAIM_NBF, CLAIM_COUNTER_CARD}


_new_object = object.__new__


def counter_cti(key: DeviceKey) -> bytes:
    """The credential id of a counter-profile credential bound to ``key``: the first
    :data:`COUNTER_CTI_SIZE` bytes of its RFC 9679 thumbprint (module docstring)."""
    return key.thumbprint[:COUNTER_CTI_SIZE]


@dataclass(frozen=True)
class Claims:
    """The claims of one credential. Times are integer seconds since the epoch (UTC).

    ``card`` is a :class:`~ecard.card.Card` or a :class:`~ecard.countercard.CounterCard`; it
    may be given as a checked :class:`~ecard.cardrecord.ResidentRecord` (what
    :func:`decode_claims` does for a canonical resident-ID card), which becomes its ``Card``
    when ``card`` is first read (:class:`~ecard.cardrecord.LazyCard`).
    """

    iss: str
    iat: int
    exp: int
    cti: bytes
    card: LazyCard = LazyCard()  # noqa: RUF009 - a descriptor, not a shared default
    nbf: int | None = None
    #: The holder's device key on a bound card (claim ``cnf``), else None.
    cnf: DeviceKey | None = None

    @property
    def issued_at(self) -> datetime:
        """``iat`` as an aware UTC datetime."""
        return datetime.fromtimestamp(self.iat, UTC)

    @property
    def expires_at(self) -> datetime:
        """``exp`` as an aware UTC datetime."""
        return datetime.fromtimestamp(self.exp, UTC)

    @property
    def not_before(self) -> datetime | None:
        """``nbf`` as an aware UTC datetime, if present."""
        return None if self.nbf is None else datetime.fromtimestamp(self.nbf, UTC)


def _check_time(name: str, value: object) -> int:
    if type(value) is not int:
        raise BadClaimsError(f"{name} must be an integer NumericDate")
    if not _MIN_TIME <= value <= _MAX_TIME:
        raise BadClaimsError(f"{name} {value} is outside 2000..2200")
    return value


def _check(iss: object, iat: object, exp: object, cti: object, nbf: object) -> None:
    if type(iss) is not str or not 1 <= len(iss) <= MAX_ISS:
        raise BadClaimsError(f"iss must be text of 1..{MAX_ISS} characters")
    if type(cti) is not bytes or not MIN_CTI <= len(cti) <= MAX_CTI:
        raise BadClaimsError(f"cti must be {MIN_CTI}..{MAX_CTI} bytes")
    i = _check_time("iat", iat)
    e = _check_time("exp", exp)
    if e <= i:
        raise BadClaimsError("exp must be after iat")
    if nbf is not None:
        n = _check_time("nbf", nbf)
        if n >= e:
            raise BadClaimsError("nbf must be before exp")


def encode_claims(claims: Claims) -> bytes:
    """The deterministic CBOR payload for ``claims`` (validated first).

    Written field by field in the order deterministic encoding sorts the keys (``1, 4, 5, 6, 7,
    -65537``; the card's ``1..8``): the bytes ``cbor.encode`` gives for the same map, held
    equal by ``tests/test_cwt_encoding.py``, without its generic dispatch and sorting.
    """
    from ecard.card import Card  # the issuing side holds models

    _check(claims.iss, claims.iat, claims.exp, claims.cti, claims.nbf)
    card_claim = claims.card.to_claim() if type(claims.card) is Card else None
    if card_claim is None or claims.cnf is not None or len(card_claim) != 8:
        return _encode_generic(claims)
    card = card_claim
    head = cbor.encode_head
    iss = _ISS_FIELDS.get(claims.iss)
    if iss is None:
        iss = _iss_field(claims.iss)
    name, card_number = card[1], card[3]
    assert isinstance(name, str) and isinstance(card_number, str)
    name_raw, number_raw = name.encode(), card_number.encode()
    nbf, exp, iat = claims.nbf, claims.exp, claims.iat
    return b"".join(
        (
            b"\xa5" if nbf is None else b"\xa6",
            iss,
            _TIME.pack(0x04, 0x1A, exp) if exp <= 0xFFFFFFFF else b"\x04" + head(0, exp),
            b"" if nbf is None else b"\x05" + head(0, nbf),
            _TIME.pack(0x06, 0x1A, iat) if iat <= 0xFFFFFFFF else b"\x06" + head(0, iat),
            b"\x07", head(2, len(claims.cti)), claims.cti,
            _CARD_KEY, b"\xa8",
            b"\x01", head(3, len(name_raw)), name_raw,
            b"\x02", head(0, int(card[2])),
            b"\x03", head(3, len(number_raw)), number_raw,
            _card_tail(int(card[4]), int(card[5]), int(card[6]), int(card[7]), int(card[8])),
        )
    )  # fmt: skip


#: The ``iss`` claim (key and text) of the issuers seen, written once per issuer: an issuer
#: puts the same name in every credential. Bounded: past 64 names, it is written every time.
_ISS_FIELDS: dict[str, bytes] = {}


def _iss_field(iss: str) -> bytes:
    raw = iss.encode()
    field = b"\x01" + cbor.encode_head(3, len(raw)) + raw
    if len(_ISS_FIELDS) < 64:
        _ISS_FIELDS[iss] = field
    return field


#: A time claim (``exp`` or ``iat``: NumericDates after 2000, so 4-byte arguments until 2106).
_TIME: Final = struct.Struct(">BBI")

#: Claim keys 4..8 of a card in their usual ranges (a region of 6 digits: a 4-byte argument;
#: a spec version of 256..65535, dates of 1970-09-13..2149-06-06 as days: 2-byte arguments;
#: a status below 24: in the initial byte), packed at once.
_CARD_TAIL: Final = struct.Struct(">BBIBBHBBHBBHBB")


def _card_tail(region: int, spec: int, issued: int, expires: int, status: int) -> bytes:
    """Keys 4..8 of the card map and their values, as ``cbor.encode`` writes them."""
    if (
        0x10000 <= region <= 0xFFFFFFFF
        and 0x100 <= spec <= 0xFFFF
        and 0x100 <= issued <= 0xFFFF
        and 0x100 <= expires <= 0xFFFF
        and 0 <= status < 24
    ):
        return _CARD_TAIL.pack(
            0x04, 0x1A, region, 0x05, 0x19, spec, 0x06, 0x19, issued, 0x07, 0x19, expires, 0x08,
            status,
        )  # fmt: skip
    head = cbor.encode_head
    return b"".join(
        (
            b"\x04", head(0, region),
            b"\x05", head(0, spec),
            b"\x06", head(0, issued),
            b"\x07", head(0, expires),
            b"\x08", head(0, status),
        )
    )  # fmt: skip


def _encode_generic(claims: Claims) -> bytes:
    """:func:`encode_claims` for every other shape (bound cards, counter profiles, holders with
    another identity document): through the deterministic encoder."""
    data: dict[int, object] = {
        CLAIM_ISS: claims.iss,
        CLAIM_EXP: claims.exp,
        CLAIM_IAT: claims.iat,
    }
    from ecard.countercard import CounterCard

    if isinstance(claims.card, CounterCard):
        if claims.cnf is None:
            raise BadClaimsError("a counter-profile card must be bound to a device key (cnf)")
        if claims.cti != counter_cti(claims.cnf):
            raise BadClaimsError("a counter-profile card's cti is its device key's (counter_cti)")
        data[CLAIM_COUNTER_CARD] = claims.card.to_claim()
    else:
        data[CLAIM_CTI] = claims.cti
        data[CLAIM_CARD] = claims.card.to_claim()
    if claims.nbf is not None:
        data[CLAIM_NBF] = claims.nbf
    if claims.cnf is not None:
        data[CLAIM_CNF] = encode_cnf(claims.cnf)
    return cbor.encode(data)


#: The encoding of the card's claim key -65537: a negative integer with argument 65536.
_CARD_KEY: Final = cbor.encode(CLAIM_CARD)


def decode_claims(payload: bytes) -> Claims:
    """Parse and validate a payload.

    Raises :class:`~ecard.errors.BadCborError` if it is not strict CBOR and
    :class:`~ecard.errors.BadClaimsError` if the claims or the card break the schema.
    """
    fields = _read_common(payload)
    key: dict[int, Any] | None = None
    if fields is None:
        bound = _read_bound(payload)
        if bound is not None:
            fields, key = bound
    if fields is not None:
        # the common layouts (plain, or bound with cnf): their keys are the required ones (and
        # cnf), so the checks below come down to _check, the card's rules and the key's, in
        # that order; a card the fast path does not build (not canonical, or breaking a rule)
        # goes the general way, which words the reason
        iss, exp, iat, cti, name, ssn, number, region, spec, issued, expires, status = fields
        _check(iss, iat, exp, cti, None)
        card = record_from_fields(name, ssn, number, region, spec, issued, expires, status)
        if card is not None:
            device = None
            if key is not None:
                try:
                    device = parse_cose_key(key)
                except BadKeyError as exc:
                    raise BadClaimsError(f"cnf: {exc.detail}") from None
            # Claims(iss, iat, exp, cti, card, None, device) with every field given, without
            # the frozen dataclass's one object.__setattr__ call per field (held equal by
            # tests/test_cwt_encoding.py): the claims of nearly every code are made here
            made = _new_object(Claims)
            made.__dict__.update(
                {CARD_KEY: card}, iss=iss, iat=iat, exp=exp, cti=cti, nbf=None, cnf=device
            )
            made_claims: Claims = made
            return made_claims
    data: object = None
    if fields is not None:  # the fast layout with a card the general way words
        data = _decode_common(payload) if key is None else _decode_bound(payload)
    if data is None:
        data = cbor.decode(payload, max_depth=4, max_items=256)  # cnf: claims > cnf > COSE_Key
    if type(data) is not dict:
        raise BadClaimsError("payload must be a CBOR map of claims")
    keys = data.keys()
    if CLAIM_COUNTER_CARD in keys and CLAIM_CARD not in keys:
        return _decode_counter(data)
    if not keys >= _REQUIRED or (CLAIM_CARD in keys) == (CLAIM_COUNTER_CARD in keys):
        missing = sorted(_REQUIRED - keys)
        if not missing:
            raise BadClaimsError("exactly one card claim (-65537 or -65539) is required")
        raise BadClaimsError(f"missing claim(s) {missing}")
    if not keys <= _KNOWN:
        raise BadClaimsError(f"unknown claim(s) {sorted(keys - _KNOWN, key=repr)}")
    iss, iat, exp, cti = data[CLAIM_ISS], data[CLAIM_IAT], data[CLAIM_EXP], data[CLAIM_CTI]
    nbf = data.get(CLAIM_NBF)
    _check(iss, iat, exp, cti, nbf)
    from ecard.cardfast import card_from_claim  # the models decide and word the problem

    try:
        model = card_from_claim(data[CLAIM_CARD])
    except ValueError as exc:
        raise BadClaimsError(f"card: {_first_line(exc)}") from None
    cnf = None
    if CLAIM_CNF in data:
        try:
            cnf = parse_cnf(data[CLAIM_CNF])
        except BadKeyError as exc:
            raise BadClaimsError(f"cnf: {exc.detail}") from None
    return Claims(iss=iss, iat=iat, exp=exp, cti=cti, card=model, nbf=nbf, cnf=cnf)


def _decode_counter(data: dict[Any, Any]) -> Claims:
    """The claims of a counter-profile credential: ``cnf`` required, no ``cti`` (derived)."""
    keys = data.keys()
    if CLAIM_CTI in keys:
        raise BadClaimsError("a counter-profile credential carries no cti (it is derived from cnf)")
    if not keys >= _COUNTER_REQUIRED:
        if CLAIM_CNF not in keys:
            raise BadClaimsError("a counter-profile card must be bound to a device key (cnf)")
        raise BadClaimsError(f"missing claim(s) {sorted(_COUNTER_REQUIRED - keys)}")
    if not keys <= _COUNTER_KNOWN:
        raise BadClaimsError(f"unknown claim(s) {sorted(keys - _COUNTER_KNOWN, key=repr)}")
    try:
        cnf = parse_cnf(data[CLAIM_CNF])
    except BadKeyError as exc:
        raise BadClaimsError(f"cnf: {exc.detail}") from None
    cti = counter_cti(cnf)
    iss, iat, exp, nbf = data[CLAIM_ISS], data[CLAIM_IAT], data[CLAIM_EXP], data.get(CLAIM_NBF)
    _check(iss, iat, exp, cti, nbf)
    from ecard.countercard import CounterCard

    try:
        card = CounterCard.from_claim(data[CLAIM_COUNTER_CARD])
    except ValueError as exc:
        raise BadClaimsError(f"card: {_first_line(exc)}") from None
    return Claims(iss=iss, iat=iat, exp=exp, cti=cti, card=card, nbf=nbf, cnf=cnf)


#: After ``iss``: ``exp`` and ``iat`` as 32-bit arguments, then the key of ``cti`` ...
_TIMES_BYTES: Final = re.compile(rb"\x04\x1a.{4}\x06\x1a.{4}\x07", re.DOTALL)
#: ... and their values.
_TIMES_VALUES: Final = struct.Struct(">2xI2xI").unpack_from
#: The card's claim key (-65537) and the head of its map of eight entries.
_CARD_OPENING: Final = b"\x3a\x00\x01\x00\x00\xa8\x01"
#: After the holder's name: the seven fixed-width entries 2..8 of the card map.
_TAIL: Final = 41
#: Those entries' fixed bytes (keys 2..8, the heads ``1B``, ``69``, ``1A``, ``19``) around
#: their values (the status an integer below 24, in its head byte) ...
_TAIL_BYTES: Final = re.compile(
    rb"\x02\x1b.{8}\x03\x69.{9}\x04\x1a.{4}\x05\x19.{2}\x06\x19.{2}\x07\x19.{2}\x08[\x00-\x17]",
    re.DOTALL,
)
#: ... and the values between them: ssn, card number, region, spec, issued, expires, status.
_TAIL_VALUES: Final = struct.Struct(">2xQ2x9s2xI2xH2xH2xH1xB").unpack_from


def _decode_common(p: bytes) -> dict[Any, Any] | None:
    """The claims map of the payload :func:`encode_claims` writes, read at fixed offsets, or
    None for any other bytes (which then go through the strict CBOR decoder).

    Matches only ``A5 01 <iss text> 04 1A <exp> 06 1A <iat> 07 <cti bytes> 3A00010000 A8 01
    <name text> 02 1B <ssn> 03 69 <card number> 04 1A <region> 05 19 <spec> 06 19 <issued>
    07 19 <expires> 08 <status>`` and nothing after, with every argument in its shortest form
    and every text valid UTF-8: bytes the strict decoder reads into the same map. What the
    claims mean is checked afterwards, the same way for both.
    """
    fields = _read_common(p)
    if fields is None:
        return None
    iss, exp, iat, cti, name, ssn, number, region, spec, issued, expires, status = fields
    card = {1: name, 2: ssn, 3: number, 4: region, 5: spec, 6: issued, 7: expires, 8: status}
    return {CLAIM_ISS: iss, CLAIM_EXP: exp, CLAIM_IAT: iat, CLAIM_CTI: cti, CLAIM_CARD: card}


#: What :func:`_read_common` reads: iss, exp, iat, cti, then the card's keys 1..8.
_CommonFields = tuple[str, int, int, bytes, str, int, str, int, int, int, int, int]


def _read_common(p: bytes) -> _CommonFields | None:
    """The values of the layout :func:`_decode_common` matches, in its order, or None."""
    try:
        if type(p) is not bytes or p[0] != 0xA5 or p[1] != 0x01 or not 0x61 <= p[2] < 0x78:
            return None
        i = 3 + p[2] - 0x60
        iss = p[3:i].decode()
        if _TIMES_BYTES.match(p, i) is None:
            return None
        exp, iat = _TIMES_VALUES(p, i)
        if exp < 0x10000 or iat < 0x10000:
            return None
        span = cbor.short_string_span(p, i + 13, 2)
        if span is None:
            return None
        j, k = span
        cti = p[j:k]
        if p[k : k + 7] != _CARD_OPENING:
            return None
        span = cbor.short_string_span(p, k + 7, 3)
        if span is None:
            return None
        a, b = span
        if b + _TAIL != len(p) or _TAIL_BYTES.fullmatch(p, b) is None:
            return None
        ssn, number, region, spec, issued, expires, status = _TAIL_VALUES(p, b)
        if ssn < 1 << 32 or region < 0x10000 or spec < 0x100 or issued < 0x100 or expires < 0x100:
            return None
        return (
            iss, exp, iat, cti, p[a:b].decode(), ssn, number.decode(), region, spec, issued,
            expires, status,
        )  # fmt: skip
    except (IndexError, UnicodeDecodeError, struct.error):
        return None


#: ``cnf`` (claim 8) of a bound card as ecard writes it, up to the key's x coordinate, and the
#: COSE_Key it opens: (opening, kty, crv, whether a y sign bit follows x).
_CNF_OPENINGS: Final = (
    (bytes.fromhex("08a101a4010220012158 20".replace(" ", "")), 2, 1, True),  # P-256
    (bytes.fromhex("08a101a30101200621 5820".replace(" ", "")), 1, 6, False),  # Ed25519
    (bytes.fromhex("08a101a40102203a00010000 215820".replace(" ", "")), 2, -65537, True),  # SM2
)


def _decode_bound(p: bytes) -> dict[Any, Any] | None:
    """The claims map of a bound full card as the issuer writes it, or None.

    Such a payload is the common one (:func:`_decode_common`) with the map head ``A6`` and the
    ``cnf`` entry (one of :data:`_CNF_OPENINGS`, its x coordinate and, for EC2 keys, the y sign
    bit ``22 F4|F5``) between ``cti`` and the card: the rest is read by :func:`_decode_common`,
    so the bytes accepted are exactly the strict decoder's map. Anything else: None.
    """
    bound = _read_bound(p)
    if bound is None:
        return None
    fields, key = bound
    iss, exp, iat, cti, name, ssn, number, region, spec, issued, expires, status = fields
    card = {1: name, 2: ssn, 3: number, 4: region, 5: spec, 6: issued, 7: expires, 8: status}
    return {
        CLAIM_ISS: iss, CLAIM_EXP: exp, CLAIM_IAT: iat, CLAIM_CTI: cti, CLAIM_CARD: card,
        CLAIM_CNF: {1: key},
    }  # fmt: skip


def _read_bound(p: bytes) -> tuple[_CommonFields, dict[int, Any]] | None:
    """What :func:`_decode_bound` matches: the common fields and the COSE_Key, or None."""
    try:
        if type(p) is not bytes or p[0] != 0xA6 or p[1] != 0x01 or not 0x61 <= p[2] < 0x78:
            return None
        i = 3 + p[2] - 0x60
        if p[i] != 0x04 or p[i + 1] != 0x1A or p[i + 6] != 0x06 or p[i + 7] != 0x1A:
            return None
        span = cbor.short_string_span(p, i + 13, 2)
        if span is None or p[i + 12] != 0x07:
            return None
        k = span[1]
        for opening, kty, crv, signed in _CNF_OPENINGS:
            if p.startswith(opening, k):
                x_end = k + len(opening) + 32
                key: dict[int, Any] = {1: kty, -1: crv, -2: p[x_end - 32 : x_end]}
                end = x_end
                if signed:
                    if p[x_end] != 0x22 or p[x_end + 1] not in (0xF4, 0xF5):
                        return None
                    key[-3] = p[x_end + 1] == 0xF5
                    end += 2
                break
        else:
            return None
    except IndexError:
        return None
    fields = _read_common(b"\xa5" + p[1:k] + p[end:])
    if fields is None:
        return None
    return fields, key


def _first_line(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):  # pydantic ValidationError: name the field, never echo the input
        try:
            first = errors(include_input=False)[0]
            loc = ".".join(str(p) for p in first.get("loc", ()))
            return f"{loc}: {first.get('msg', '')}" if loc else str(first.get("msg", ""))
        except Exception:  # pragma: no cover - defensive
            return type(exc).__name__
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


__all__ = [
    "CLAIM_CARD",
    "CLAIM_CNF",
    "CLAIM_COUNTER_CARD",
    "CLAIM_CTI",
    "CLAIM_EXP",
    "CLAIM_IAT",
    "CLAIM_ISS",
    "CLAIM_NBF",
    "COUNTER_CTI_SIZE",
    "MAX_CTI",
    "MIN_CTI",
    "Claims",
    "counter_cti",
    "decode_claims",
    "encode_claims",
]
