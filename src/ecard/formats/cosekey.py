"""COSE_Key (RFC 9052 §7) for holder device keys, and the ``cnf`` claim (RFC 8747) carrying one.

A bound card's CWT carries ``cnf`` (claim 8) = ``{1: COSE_Key}``: the public key of the holder's
device, the only key that may sign an ``EC2:`` presentation of the card. Three kinds of device
key are accepted, each with exactly one COSE_Key layout:

========  ====  ====================  ===========================================================
alg       kty   crv                   other labels
========  ====  ====================  ===========================================================
ES256     2     1 (P-256)             ``-2`` x (32 bytes), ``-3`` y: the sign bit (bool, RFC 9053
                                      §7.1.1 point compression; what ecard writes) or y (32 bytes)
EdDSA     1     6 (Ed25519)           ``-2`` x (32 bytes)
SM2       2     -65537 (sm2p256v1)    as for P-256; ``-65537`` is ecard's private-use curve id
                                      (the COSE Elliptic Curves registry reserves ids below
                                      -65536 for private use and registers none for SM2)
========  ====  ====================  ===========================================================

``alg`` (label 3) is optional and, when present, must be the algorithm the curve implies.
Parsing is strict: ``kty``, ``crv`` and ``alg`` must agree, the point must be on its curve
(decompressed and checked), sizes are exact, and any other label (a ``kid``, ``key_ops`` or,
worst, the private ``d``) is refused, so nothing in the key can change what it means. Errors
are :class:`~ecard.errors.BadKeyError`; the claims decoder reports them as ``BAD_CLAIMS``.

>>> from cryptography.hazmat.primitives.asymmetric import ec
>>> key = DeviceKey.from_public_key(ec.generate_private_key(ec.SECP256R1()).public_key())
>>> sorted(key.to_cose_key()), key.alg.name
([-3, -2, -1, 1], 'ES256')
>>> parse_cose_key(key.to_cose_key()) == key
True
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from ecard.crypto.algorithms import EDDSA, ES256, SM2, Algorithm, BoundVerifier, PublicKey
from ecard.crypto.sm2 import SM2P256V1
from ecard.errors import BadKeyError, EcardError
from ecard.formats import cbor

#: COSE_Key labels (IANA COSE Key Common Parameters, Key Type Parameters).
KEY_KTY: Final = 1
KEY_KID: Final = 2
KEY_ALG: Final = 3
KEY_CRV: Final = -1
KEY_X: Final = -2
KEY_Y: Final = -3
KEY_D: Final = -4
#: Key types.
KTY_OKP: Final = 1
KTY_EC2: Final = 2
#: Curves (IANA COSE Elliptic Curves) and ecard's private-use id for sm2p256v1.
CRV_P256: Final = 1
CRV_ED25519: Final = 6
CRV_SM2: Final = -65537
#: The ``cnf`` claim (RFC 8747 §3.1) and its ``COSE_Key`` member.
CLAIM_CNF: Final = 8
CNF_COSE_KEY: Final = 1

_COORD: Final = 32
_P256: Final = ec.SECP256R1()
#: (kty, crv) -> algorithm.
_CURVES: Final[dict[tuple[int, int], Algorithm]] = {
    (KTY_EC2, CRV_P256): ES256,
    (KTY_OKP, CRV_ED25519): EDDSA,
    (KTY_EC2, CRV_SM2): SM2,
}
_EC2_LABELS: Final = frozenset({KEY_KTY, KEY_ALG, KEY_CRV, KEY_X, KEY_Y})
_OKP_LABELS: Final = frozenset({KEY_KTY, KEY_ALG, KEY_CRV, KEY_X})
#: Names of the device-key algorithms, for policies.
DEVICE_ALGORITHMS: Final = frozenset(a.name for a in _CURVES.values())


@dataclass(frozen=True, eq=False)
class DeviceKey:
    """A holder device's public key: its algorithm, the key object and its COSE_Key map.

    Two keys are equal when their COSE_Key encodings are. :attr:`thumbprint` is SHA-256 over
    the deterministic COSE_Key (RFC 9679), a short, stable name for logs and errors.
    """

    alg: Algorithm
    key: PublicKey
    _cose: dict[int, Any] = field(repr=False)

    @classmethod
    def from_public_key(cls, key: object) -> DeviceKey:
        """The device key for a P-256, Ed25519 or SM2 public key; :class:`BadKeyError` else."""
        if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1":
            numbers = key.public_numbers()
            cose: dict[int, Any] = {
                KEY_KTY: KTY_EC2,
                KEY_CRV: CRV_P256,
                KEY_X: numbers.x.to_bytes(_COORD, "big"),
                KEY_Y: bool(numbers.y & 1),
            }
            return cls(ES256, key, cose)
        if isinstance(key, ed25519.Ed25519PublicKey):
            raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            return cls(EDDSA, key, {KEY_KTY: KTY_OKP, KEY_CRV: CRV_ED25519, KEY_X: raw})
        if SM2.accepts_key(key):  # asked without importing the SM2 backend
            from ecard.crypto.sm2.keys import Sm2PublicKey  # loaded: key is one

            assert isinstance(key, Sm2PublicKey)
            point = key.public_point()
            y = int.from_bytes(point[1 + _COORD :], "big")
            cose = {KEY_KTY: KTY_EC2, KEY_CRV: CRV_SM2, KEY_X: point[1 : 1 + _COORD]}
            cose[KEY_Y] = bool(y & 1)
            return cls(SM2, key, cose)
        raise BadKeyError(f"a device key must be P-256, Ed25519 or SM2, not {type(key).__name__}")

    def to_cose_key(self) -> dict[int, Any]:
        """The COSE_Key map (a fresh copy)."""
        return dict(self._cose)

    def encoded(self) -> bytes:
        """The deterministic CBOR of the COSE_Key."""
        return cbor.encode(self._cose)

    @property
    def thumbprint(self) -> bytes:
        """SHA-256 over :meth:`encoded` (RFC 9679 COSE Key Thumbprint of this layout)."""
        return hashlib.sha256(self.encoded()).digest()

    def verifier(self) -> BoundVerifier:
        """``(signature, data) -> bool`` with this key under :attr:`alg`."""
        return self.alg.bind(self.key)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DeviceKey):
            return NotImplemented
        return self.encoded() == other.encoded()

    def __hash__(self) -> int:
        return hash(self.encoded())


def _coordinate(value: object, what: str) -> bytes:
    if type(value) is not bytes or len(value) != _COORD:
        raise BadKeyError(f"COSE_Key {what} must be a {_COORD}-byte string")
    return value


def parse_cose_key(obj: object) -> DeviceKey:
    """A :class:`DeviceKey` from a decoded COSE_Key map, checked strictly (module docstring)."""
    if type(obj) is not dict:
        raise BadKeyError("COSE_Key must be a map")
    if KEY_D in obj:
        raise BadKeyError("COSE_Key carries a private key (label -4): refused")
    kty, crv = obj.get(KEY_KTY), obj.get(KEY_CRV)
    if type(kty) is not int or type(crv) is not int:
        raise BadKeyError("COSE_Key needs integer kty (1) and crv (-1)")
    alg = _CURVES.get((kty, crv))
    if alg is None:
        raise BadKeyError(f"COSE_Key kty {kty} with crv {crv} is not a device key type")
    allowed = _OKP_LABELS if kty == KTY_OKP else _EC2_LABELS
    extra = [k for k in obj if k not in allowed]
    if extra:
        raise BadKeyError(f"COSE_Key label(s) {sorted(extra, key=repr)} not allowed")
    if KEY_ALG in obj and (type(obj[KEY_ALG]) is not int or obj[KEY_ALG] != alg.cose_id):
        raise BadKeyError(f"COSE_Key alg {obj[KEY_ALG]!r} does not fit the curve ({alg.name})")
    x = _coordinate(obj.get(KEY_X), "x (-2)")
    if kty == KTY_OKP:
        key: PublicKey = ed25519.Ed25519PublicKey.from_public_bytes(x)
        return DeviceKey(alg, key, {KEY_KTY: kty, KEY_CRV: crv, KEY_X: x})
    y = obj.get(KEY_Y)
    if type(y) is bool:
        point, sign = bytes([0x03 if y else 0x02]) + x, y
    else:
        y_bytes = _coordinate(y, "y (-3)")
        point, sign = b"\x04" + x + y_bytes, bool(y_bytes[-1] & 1)
    try:
        if crv == CRV_P256:
            key = ec.EllipticCurvePublicKey.from_encoded_point(_P256, point)
        else:
            from ecard.crypto.sm2.keys import Sm2PublicKey

            key = Sm2PublicKey.from_point(*SM2P256V1.decode_point(point))
    except EcardError as exc:
        raise BadKeyError(f"COSE_Key point: {exc.detail}") from None
    except ValueError:
        raise BadKeyError("COSE_Key point is not on the curve") from None
    # the canonical (compressed) layout, whichever form arrived
    return DeviceKey(alg, key, {KEY_KTY: kty, KEY_CRV: crv, KEY_X: x, KEY_Y: sign})


def encode_cnf(key: DeviceKey) -> dict[int, Any]:
    """The ``cnf`` claim value ``{1: COSE_Key}``."""
    return {CNF_COSE_KEY: key.to_cose_key()}


def parse_cnf(obj: object) -> DeviceKey:
    """The device key of a ``cnf`` claim value; exactly ``{1: COSE_Key}`` is accepted."""
    if type(obj) is not dict or list(obj) != [CNF_COSE_KEY]:
        raise BadKeyError("cnf must be {1: COSE_Key} (RFC 8747, a COSE_Key only)")
    return parse_cose_key(obj[CNF_COSE_KEY])


__all__ = [
    "CLAIM_CNF",
    "CNF_COSE_KEY",
    "CRV_ED25519",
    "CRV_P256",
    "CRV_SM2",
    "DEVICE_ALGORITHMS",
    "KEY_ALG",
    "KEY_CRV",
    "KEY_D",
    "KEY_KID",
    "KEY_KTY",
    "KEY_X",
    "KEY_Y",
    "KTY_EC2",
    "KTY_OKP",
    "DeviceKey",
    "encode_cnf",
    "parse_cnf",
    "parse_cose_key",
]
