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
    -65539   map       the counter profile of the card (:class:`ecard.card.CounterCard`: masked
                       name, no ID number), only on a bound card (``cnf``); exactly one of the two

``-65537`` lies in the CWT private-use range (below -65536, RFC 8392 §9.1). Any other claim
key is rejected: a verifier must not accept a credential carrying claims it does not
understand. Times are integers; this profile has no floats.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from ecard.card import Card, CounterCard
from ecard.errors import BadClaimsError, BadKeyError
from ecard.formats import cbor
from ecard.formats.cosekey import CLAIM_CNF, DeviceKey, encode_cnf, parse_cnf

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

_REQUIRED: Final = frozenset({CLAIM_ISS, CLAIM_EXP, CLAIM_IAT, CLAIM_CTI})
_KNOWN: Final = _REQUIRED | {CLAIM_NBF, CLAIM_CNF, CLAIM_CARD, CLAIM_COUNTER_CARD}


@dataclass(frozen=True, slots=True)
class Claims:
    """The claims of one credential. Times are integer seconds since the epoch (UTC)."""

    iss: str
    iat: int
    exp: int
    cti: bytes
    card: Card | CounterCard
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
    """The deterministic CBOR payload for ``claims`` (validated first)."""
    _check(claims.iss, claims.iat, claims.exp, claims.cti, claims.nbf)
    data: dict[int, object] = {
        CLAIM_ISS: claims.iss,
        CLAIM_EXP: claims.exp,
        CLAIM_IAT: claims.iat,
        CLAIM_CTI: claims.cti,
    }
    if isinstance(claims.card, CounterCard):
        if claims.cnf is None:
            raise BadClaimsError("a counter-profile card must be bound to a device key (cnf)")
        data[CLAIM_COUNTER_CARD] = claims.card.to_claim()
    else:
        data[CLAIM_CARD] = claims.card.to_claim()
    if claims.nbf is not None:
        data[CLAIM_NBF] = claims.nbf
    if claims.cnf is not None:
        data[CLAIM_CNF] = encode_cnf(claims.cnf)
    return cbor.encode(data)


def decode_claims(payload: bytes) -> Claims:
    """Parse and validate a payload.

    Raises :class:`~ecard.errors.BadCborError` if it is not strict CBOR and
    :class:`~ecard.errors.BadClaimsError` if the claims or the card break the schema.
    """
    data = cbor.decode(payload, max_depth=4, max_items=256)  # cnf: claims > cnf > COSE_Key
    if type(data) is not dict:
        raise BadClaimsError("payload must be a CBOR map of claims")
    keys = data.keys()
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
    try:
        card: Card | CounterCard = (
            Card.from_claim(data[CLAIM_CARD])
            if CLAIM_CARD in data
            else CounterCard.from_claim(data[CLAIM_COUNTER_CARD])
        )
    except ValueError as exc:
        raise BadClaimsError(f"card: {_first_line(exc)}") from None
    cnf = None
    if CLAIM_CNF in data:
        try:
            cnf = parse_cnf(data[CLAIM_CNF])
        except BadKeyError as exc:
            raise BadClaimsError(f"cnf: {exc.detail}") from None
    if cnf is None and isinstance(card, CounterCard):
        raise BadClaimsError("a counter-profile card must be bound to a device key (cnf)")
    return Claims(iss=iss, iat=iat, exp=exp, cti=cti, card=card, nbf=nbf, cnf=cnf)


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
    "MAX_CTI",
    "MIN_CTI",
    "Claims",
    "decode_claims",
    "encode_claims",
]
