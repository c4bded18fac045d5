"""SM2 signatures with SM3 (GB/T 32918, GB/T 32905) through the system libcrypto, via ctypes.

``cryptography`` does not expose SM2, so this module calls OpenSSL 3's libcrypto directly, along
the path its SM2(7) manual page prescribes: an ``EVP_PKEY_CTX`` carrying the distinguishing ID
(``EVP_PKEY_CTX_set1_id``) is attached to an ``EVP_MD_CTX`` before ``EVP_DigestSignInit`` /
``EVP_DigestVerifyInit`` with ``EVP_sm3()``. The ID is *always* set: OpenSSL 3 would otherwise
use an empty ID, while GB/T 35276 and most other implementations default to
``1234567812345678`` (:data:`DEFAULT_ID`).

Signatures are returned and accepted in raw ``r || s`` form (64 bytes, each half left-padded to
32 bytes), the COSE convention; :func:`raw_to_der` and :func:`der_to_raw` convert to and from the
DER ``SEQUENCE { r, s }`` libcrypto and the ``openssl`` tool use.

Keys
    :class:`Sm2PrivateKey` (generate, load PEM, export PEM -- unencrypted, or encrypted PKCS#8
    with PBES2 / PBKDF2-HMAC-SHA256 / AES-256-CBC when a password is given -- and sign) needs
    libcrypto. :class:`Sm2PublicKey` loads a DER or PEM SubjectPublicKeyInfo, which this module
    parses itself first (strict DER, ``id-ecPublicKey`` with the named curve sm2p256v1, OID
    1.2.156.10197.1.301, and a point on that curve), so both backends accept exactly the same
    keys; :meth:`Sm2PublicKey.public_point` gives the uncompressed point ``04 || x || y``.

``Z_A``
    :func:`compute_z` computes the hash of the signer's identity every SM2 signature covers,
    ``Z_A = SM3(ENTL || ID || a || b || xG || yG || xA || yA)`` (GB/T 32918.2 §5.5), for
    sm2p256v1 (:data:`SM2P256V1`) or any other prime curve given as an :class:`Sm2Curve`. It
    exists so that the standards' worked examples can be checked byte for byte; signing and
    verifying do not need it. (libcrypto itself cannot check the GB/T 32918.2 example
    signature: OpenSSL 3's SM2 key manager refuses every curve but sm2p256v1, explicit
    parameters included, and 3.0 has no ``EVP_PKEY_set_alias_type`` any more.)

Verify-only fallback
    Where the platform libcrypto has no SM2 (LibreSSL on macOS, OpenSSL built with ``no-sm2``,
    OpenSSL 1.1) but the pure-Python ``gmalg`` package is installed (``pip install 'ecard[sm]'``),
    :class:`Sm2PublicKey` still loads keys and verifies signatures, through gmalg's SM2 on
    sm2p256v1 (checked once against the GB/T 32918.5 Annex A example before first use).
    :class:`Sm2PrivateKey` then raises :class:`~ecard.errors.BadKeyError` naming the fix (OpenSSL
    3 libcrypto with SM2). :func:`sm2_available` tells whether signing works,
    :func:`sm2_verify_available` whether verifying does. With neither backend, every entry point
    raises :class:`~ecard.errors.BadKeyError` naming both fixes.

Every C object is freed in a ``finally`` block (or right where an error is raised), except the
``EVP_PKEY`` each key object owns, which a :func:`weakref.finalize` frees when the key is
collected (or when ``close()`` is called). ctypes releases the GIL during foreign calls, and
each sign or verify builds its own contexts (gmalg: its own SM2 and SM3 objects), so one key may
be used from several threads.
"""

from __future__ import annotations

import base64
import binascii
import ctypes
import ctypes.util
import functools
import importlib
import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Literal, Self

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from ecard.errors import BadKeyError

__all__ = [
    "DEFAULT_ID",
    "SIGNATURE_SIZE",
    "SM2P256V1",
    "Sm2Curve",
    "Sm2PrivateKey",
    "Sm2PublicKey",
    "compute_z",
    "der_to_raw",
    "is_sm2_spki",
    "raw_to_der",
    "sm2_available",
    "sm2_verify_available",
    "sm2_verify_unavailable",
]

#: Default SM2 distinguishing ID (GB/T 35276-2017, section 5.3).
DEFAULT_ID: Final = b"1234567812345678"
#: Size in bytes of a raw ``r || s`` SM2 signature.
SIGNATURE_SIZE: Final = 64
#: Longest distinguishing ID: ``ENTL``, its length in *bits*, has 16 bits.
_MAX_UID: Final = 0x1FFF


@dataclass(frozen=True)
class Sm2Curve:
    """Domain parameters of a prime-field curve ``y^2 = x^3 + a*x + b (mod p)`` for SM2.

    ``(gx, gy)`` is the base point, of prime order ``n``; the cofactor must be 1, so every
    finite point on the curve is in the group. :data:`SM2P256V1` is the curve SM2 uses; other
    instances exist for the standards' examples (GB/T 32918 uses a separate example curve).
    """

    name: str
    p: int
    a: int
    b: int
    gx: int
    gy: int
    n: int

    @property
    def size(self) -> int:
        """Bytes in one encoded field element (32 for a 256-bit curve)."""
        return (self.p.bit_length() + 7) // 8

    def contains(self, x: int, y: int) -> bool:
        """Whether the affine point ``(x, y)`` is on the curve (coordinates reduced mod ``p``)."""
        p = self.p
        return 0 <= x < p and 0 <= y < p and (y * y - (x * x * x + self.a * x + self.b)) % p == 0

    def decode_point(self, data: bytes) -> tuple[int, int]:
        """Decode a SEC 1 point (``04`` uncompressed, ``02``/``03`` compressed, ``06``/``07``
        hybrid) and check it is on the curve; :class:`~ecard.errors.BadKeyError` otherwise."""
        data = bytes(data)
        size = self.size
        if not data:
            raise BadKeyError("empty EC point")
        form, body = data[0], data[1:]
        if form in (0x04, 0x06, 0x07) and len(body) == 2 * size:
            x = int.from_bytes(body[:size], "big")
            y = int.from_bytes(body[size:], "big")
            if form != 0x04 and (y & 1) != (form & 1):
                raise BadKeyError("hybrid EC point whose parity byte does not match y")
        elif form in (0x02, 0x03) and len(body) == size:
            x = int.from_bytes(body, "big")
            y = self._lift_x(x, form & 1)
        elif form == 0x00:
            raise BadKeyError("the point at infinity is not a public key")
        else:
            raise BadKeyError(
                f"malformed EC point for {self.name} (form byte {form:#04x}, {len(data)} bytes)"
            )
        if not self.contains(x, y):
            raise BadKeyError(f"the public key point is not on the curve {self.name}")
        return x, y

    def encode_point(self, x: int, y: int) -> bytes:
        """The uncompressed encoding ``04 || x || y``."""
        return b"\x04" + x.to_bytes(self.size, "big") + y.to_bytes(self.size, "big")

    def _lift_x(self, x: int, parity: int) -> int:
        p = self.p
        if p % 4 != 3:
            raise BadKeyError(f"compressed points on {self.name} are not supported")
        if not 0 <= x < p:
            raise BadKeyError(f"compressed point x out of range for {self.name}")
        rhs = (x * x * x + self.a * x + self.b) % p
        y = pow(rhs, (p + 1) // 4, p)
        if y * y % p != rhs:
            raise BadKeyError(f"the public key point is not on the curve {self.name}")
        return y if (y & 1) == parity else p - y


#: The SM2 curve sm2p256v1 (GB/T 32918.5-2017, OID 1.2.156.10197.1.301).
SM2P256V1: Final = Sm2Curve(
    name="sm2p256v1",
    p=0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF,
    a=0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC,
    b=0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93,
    gx=0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7,
    gy=0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0,
    n=0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123,
)
#: Order ``n`` of the SM2 curve (GB/T 32918.5).
SM2_ORDER: Final = SM2P256V1.n

_HOW_TO_FIX: Final = (
    "SM2 needs OpenSSL 3 libcrypto with SM2/SM3 enabled (Debian/Ubuntu: apt-get install "
    "libssl3; it must not be built with no-sm2/no-sm3)"
)
_GMALG_FIX: Final = "to verify SM2 signatures without it, install gmalg: pip install 'ecard[sm]'"

# DER of the AlgorithmIdentifier contents for an SM2 public key: the OID id-ecPublicKey
# (1.2.840.10045.2.1) and, as parameters, the named curve sm2p256v1 (1.2.156.10197.1.301).
_ID_EC_PUBLIC_KEY: Final = bytes.fromhex("06072a8648ce3d0201")
_SM2_CURVE_OID: Final = bytes.fromhex("06082a811ccf5501822d")
_PEM_PUBLIC_KEY: Final = re.compile(
    rb"-----BEGIN PUBLIC KEY-----(.*?)-----END PUBLIC KEY-----", re.DOTALL
)

_BIO_CTRL_INFO: Final = 3  # BIO_get_mem_data is BIO_ctrl(bio, BIO_CTRL_INFO, 0, &ptr)

_vp = ctypes.c_void_p
_PEM_CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, _vp)

# name: (restype, argtypes)
_SIGNATURES: Final[dict[str, tuple[Any, list[Any]]]] = {
    "ERR_get_error": (ctypes.c_ulong, []),
    "ERR_clear_error": (None, []),
    "ERR_error_string_n": (None, [ctypes.c_ulong, ctypes.c_char_p, ctypes.c_size_t]),
    "BIO_new": (_vp, [_vp]),
    "BIO_s_mem": (_vp, []),
    "BIO_new_mem_buf": (_vp, [ctypes.c_char_p, ctypes.c_int]),
    "BIO_ctrl": (ctypes.c_long, [_vp, ctypes.c_int, ctypes.c_long, _vp]),
    "BIO_free": (ctypes.c_int, [_vp]),
    "EVP_sm3": (_vp, []),
    "EVP_aes_256_cbc": (_vp, []),
    "EVP_PKEY_free": (None, [_vp]),
    "EVP_PKEY_is_a": (ctypes.c_int, [_vp, ctypes.c_char_p]),
    "EVP_PKEY_CTX_new": (_vp, [_vp, _vp]),
    "EVP_PKEY_CTX_new_from_name": (_vp, [_vp, ctypes.c_char_p, ctypes.c_char_p]),
    "EVP_PKEY_CTX_free": (None, [_vp]),
    "EVP_PKEY_CTX_set1_id": (ctypes.c_int, [_vp, ctypes.c_char_p, ctypes.c_int]),
    "EVP_PKEY_keygen_init": (ctypes.c_int, [_vp]),
    "EVP_PKEY_generate": (ctypes.c_int, [_vp, ctypes.POINTER(_vp)]),
    "EVP_MD_CTX_new": (_vp, []),
    "EVP_MD_CTX_free": (None, [_vp]),
    "EVP_MD_CTX_set_pkey_ctx": (None, [_vp, _vp]),
    "EVP_DigestSignInit": (ctypes.c_int, [_vp, _vp, _vp, _vp, _vp]),
    "EVP_DigestSign": (
        ctypes.c_int,
        [_vp, ctypes.c_char_p, ctypes.POINTER(ctypes.c_size_t), ctypes.c_char_p, ctypes.c_size_t],
    ),
    "EVP_DigestVerifyInit": (ctypes.c_int, [_vp, _vp, _vp, _vp, _vp]),
    "EVP_DigestVerify": (
        ctypes.c_int,
        [_vp, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t],
    ),
    "PEM_read_bio_PrivateKey": (_vp, [_vp, _vp, _PEM_CB, _vp]),
    "PEM_write_bio_PKCS8PrivateKey": (
        ctypes.c_int,
        [_vp, _vp, _vp, ctypes.c_char_p, ctypes.c_int, _vp, _vp],
    ),
    "d2i_PUBKEY": (_vp, [_vp, ctypes.POINTER(_vp), ctypes.c_long]),
    "i2d_PUBKEY": (ctypes.c_int, [_vp, ctypes.POINTER(ctypes.POINTER(ctypes.c_ubyte))]),
}


class _Lib:
    """The libcrypto functions this module uses, typed for ctypes."""

    def __init__(self, cdll: ctypes.CDLL) -> None:
        self.cdll = cdll
        for name, (restype, argtypes) in _SIGNATURES.items():
            fn = getattr(cdll, name)  # AttributeError if libcrypto lacks it (e.g. OpenSSL 1.1)
            fn.restype = restype
            fn.argtypes = argtypes

    def __getattr__(self, name: str) -> Any:
        return getattr(self.cdll, name)


@functools.cache
def _load() -> _Lib | str:
    """The typed libcrypto, or why it cannot be used."""
    names = ["libcrypto.so.3", ctypes.util.find_library("crypto"), "libcrypto.3.dylib"]
    problems: list[str] = []
    for name in names:
        if not name:
            continue
        try:
            lib = _Lib(ctypes.CDLL(name))
        except (OSError, AttributeError) as exc:
            problems.append(f"{name}: {exc}")
            continue
        if not lib.EVP_sm3():
            problems.append(f"{name}: no SM3 digest")
            continue
        ctx = lib.EVP_PKEY_CTX_new_from_name(None, b"SM2", None)
        if not ctx:
            lib.ERR_clear_error()
            problems.append(f"{name}: no SM2 key type")
            continue
        lib.EVP_PKEY_CTX_free(ctx)
        return lib
    return "; ".join(problems) or "libcrypto not found"


@dataclass(frozen=True)
class _Gmalg:
    """The parts of gmalg the verify-only fallback uses."""

    #: A fresh ``gmalg.sm2.SM2Core`` on sm2p256v1. gmalg's core keeps one SM3 object whose state
    #: every hash resets, so a core must not be shared between threads: one per verification.
    new_core: Callable[[], Any]
    #: A fresh ``gmalg.SM3`` (``update(data)``, ``value()``).
    new_sm3: Callable[[], Any]
    #: gmalg's base exception (``gmalg.errors.GMError``).
    error: type[Exception]


@functools.cache
def _load_gmalg() -> _Gmalg | str:
    """gmalg, checked against GB/T 32918.5 Annex A, or why it cannot be used."""
    try:
        sm2_mod = importlib.import_module("gmalg.sm2")
        sm3_mod = importlib.import_module("gmalg.sm3")
        ec_mod = importlib.import_module("gmalg.ellipticcurve")
        err_mod = importlib.import_module("gmalg.errors")
    except ImportError as exc:
        return f"gmalg is not installed ({exc})"
    c = SM2P256V1
    try:
        ecdlp = ec_mod.ECDLP(c.p, c.a, c.b, (c.gx, c.gy), c.n)
        core_cls, sm3_cls, error = sm2_mod.SM2Core, sm3_mod.SM3, err_mod.GMError
        gm = _Gmalg(lambda: core_cls(ecdlp, sm3_cls()), sm3_cls, error)
        # GB/T 32918.5-2017 Annex A: public key, ID 1234567812345678, "message digest", (r, s)
        ok = gm.new_core().verify(
            b"message digest",
            0xF5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3,
            0xB1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA,
            DEFAULT_ID,
            (
                0x09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020,
                0xCCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13,
            ),
        )
    except Exception as exc:  # an incompatible gmalg: report it rather than crash on import
        return f"gmalg has an unexpected API ({type(exc).__name__}: {exc})"
    if ok is not True:
        return "gmalg fails the GB/T 32918.5 Annex A signature example"
    return gm


def sm2_available() -> bool:
    """Whether SM2 signing (and verifying) works: the system libcrypto has SM2 with SM3."""
    return isinstance(_load(), _Lib)


def sm2_verify_available() -> bool:
    """Whether SM2 verification works: through libcrypto, or else through gmalg."""
    return sm2_available() or isinstance(_load_gmalg(), _Gmalg)


def _lib() -> _Lib:
    """libcrypto, or a :class:`BadKeyError` that says how to get it (and what gmalg can do)."""
    lib = _load()
    if isinstance(lib, str):
        if isinstance(_load_gmalg(), _Gmalg):
            raise BadKeyError(
                f"SM2 signing and key generation are unavailable ({lib}); {_HOW_TO_FIX}. "
                "(gmalg is installed, but ecard uses it only to verify.)"
            )
        raise BadKeyError(f"SM2 is unavailable ({lib}); {_HOW_TO_FIX}; or, {_GMALG_FIX}")
    return lib


def sm2_verify_unavailable() -> str | None:
    """``None`` if SM2 signatures can be verified here, else why not and how to fix it."""
    try:
        _verifier()
    except BadKeyError as exc:
        return exc.detail
    return None


def _verifier() -> _Lib | _Gmalg:
    """The backend public keys use: libcrypto, else gmalg, else a :class:`BadKeyError`."""
    lib = _load()
    if isinstance(lib, _Lib):
        return lib
    gm = _load_gmalg()
    if isinstance(gm, _Gmalg):
        return gm
    raise BadKeyError(
        f"SM2 verification is unavailable (libcrypto: {lib}; {gm}); {_HOW_TO_FIX}; or, {_GMALG_FIX}"
    )


def _openssl_errors(lib: _Lib) -> str:
    """Drain libcrypto's error queue into one string."""
    parts: list[str] = []
    buf = ctypes.create_string_buffer(256)
    while code := lib.ERR_get_error():
        lib.ERR_error_string_n(code, buf, len(buf))
        parts.append(buf.value.decode("ascii", "replace"))
    return "; ".join(parts) or "no detail from libcrypto"


def _fail(lib: _Lib, what: str) -> BadKeyError:
    return BadKeyError(f"{what}: {_openssl_errors(lib)}")


def _bio_bytes(lib: _Lib, bio: int) -> bytes:
    ptr = ctypes.c_void_p()
    size = lib.BIO_ctrl(bio, _BIO_CTRL_INFO, 0, ctypes.byref(ptr))
    if size <= 0 or not ptr.value:
        return b""
    return ctypes.string_at(ptr.value, size)


def _check_uid(uid: bytes) -> bytes:
    if not isinstance(uid, bytes | bytearray | memoryview):
        raise TypeError("uid must be bytes")
    uid = bytes(uid)
    if len(uid) > _MAX_UID:  # ENTL is 16 bits of *bits*
        raise ValueError("SM2 distinguishing ID longer than 8191 bytes")
    return uid


def _sm3(data: bytes) -> bytes:
    """SM3 of ``data``: ``cryptography`` if its OpenSSL has SM3, else gmalg's."""
    try:
        digest = hashes.Hash(hashes.SM3())
    except UnsupportedAlgorithm:
        gm = _load_gmalg()
        if isinstance(gm, str):
            raise BadKeyError(f"SM3 is unavailable ({gm}); {_GMALG_FIX}") from None
        sm3 = gm.new_sm3()
        sm3.update(data)
        return bytes(sm3.value())
    digest.update(data)
    return digest.finalize()


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


def _der_item(data: bytes, pos: int) -> tuple[int, int, int]:
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
    tag, start, end = _der_item(data, 0)
    if tag != 0x30 or end != len(data):
        raise ValueError("not one DER SEQUENCE" + (" (trailing data)" if tag == 0x30 else ""))
    tag, alg_start, alg_end = _der_item(data, start)
    if tag != 0x30:
        raise ValueError("no AlgorithmIdentifier")
    tag, key_start, key_end = _der_item(data, alg_end)
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
    return alg == _ID_EC_PUBLIC_KEY + _SM2_CURVE_OID


def _parse_spki(data: bytes) -> tuple[int, int]:
    """The point of a DER SubjectPublicKeyInfo for an SM2 key, or :class:`BadKeyError`.

    Accepted: ``SEQUENCE { SEQUENCE { id-ecPublicKey, sm2p256v1 }, BIT STRING point }`` in DER,
    nothing after it, the point on sm2p256v1. Explicit curve parameters are refused.
    """
    try:
        alg, bits = _spki_parts(data)
    except ValueError as exc:
        raise BadKeyError(f"malformed SubjectPublicKeyInfo: {exc}") from None
    if not alg.startswith(_ID_EC_PUBLIC_KEY):
        raise BadKeyError("not an SM2 key: the SubjectPublicKeyInfo is not an EC key")
    if alg[len(_ID_EC_PUBLIC_KEY) :] != _SM2_CURVE_OID:
        raise BadKeyError(
            "not an SM2 key: the curve is not the named curve sm2p256v1 (OID 1.2.156.10197.1.301)"
        )
    if not bits or bits[0] != 0:
        raise BadKeyError("malformed SubjectPublicKeyInfo: bad BIT STRING")
    return SM2P256V1.decode_point(bits[1:])


def _pem_body(data: bytes) -> bytes:
    """The DER inside the first ``-----BEGIN PUBLIC KEY-----`` block of ``data``."""
    found = _PEM_PUBLIC_KEY.search(bytes(data))
    if found is None:
        raise BadKeyError("cannot load SM2 public key from PEM: no PUBLIC KEY block")
    try:
        return base64.b64decode(b"".join(found.group(1).split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadKeyError(f"cannot load SM2 public key from PEM: bad base64 ({exc})") from None


def _pem_wrap(label: bytes, der: bytes) -> bytes:
    """``der`` as a PEM block with ``label``, 64 base64 characters a line."""
    body = base64.b64encode(der)
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return b"\n".join(
        [b"-----BEGIN " + label + b"-----", *lines, b"-----END " + label + b"-----", b""]
    )


def compute_z(
    public_key: Sm2PublicKey | bytes, *, uid: bytes = DEFAULT_ID, curve: Sm2Curve = SM2P256V1
) -> bytes:
    """``Z_A = SM3(ENTL || ID || a || b || xG || yG || xA || yA)`` (GB/T 32918.2 §5.5).

    ``public_key`` is an :class:`Sm2PublicKey` (then ``curve`` must be :data:`SM2P256V1`) or an
    encoded point on ``curve`` (``04 || x || y``, or compressed). ``ENTL`` is the bit length of
    ``uid`` on two bytes; field elements are ``curve.size`` bytes, big-endian. A point that is
    not on ``curve`` raises :class:`~ecard.errors.BadKeyError`.

    >>> z = compute_z(bytes.fromhex(
    ...     "0409F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
    ...     "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"))
    >>> z.hex().upper()  # GB/T 32918.5-2017 Annex A
    'B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3'
    """
    uid = _check_uid(uid)
    if isinstance(public_key, Sm2PublicKey):
        if curve != SM2P256V1:
            raise ValueError("an Sm2PublicKey is on sm2p256v1; pass the point for another curve")
        public_key._check_open()
        x, y = public_key._point
    else:
        x, y = curve.decode_point(bytes(public_key))
    size = curve.size
    fields = (curve.a, curve.b, curve.gx, curve.gy, x, y)
    entl = (8 * len(uid)).to_bytes(2, "big")
    return _sm3(entl + uid + b"".join(v.to_bytes(size, "big") for v in fields))


class _Key:
    """Base of the key classes: ``close()`` and use as a context manager.

    ``_pkey`` is the ``EVP_PKEY`` the object owns (freed on :meth:`close` or collection), or
    ``None`` for a public key held by the gmalg fallback.
    """

    _kind = "SM2 key"

    def __init__(self, lib: _Lib | None, pkey: int | None) -> None:
        self._closed = False
        self._pkey: int | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        if pkey is None:
            return
        assert lib is not None
        if lib.EVP_PKEY_is_a(pkey, b"SM2") != 1:
            lib.EVP_PKEY_free(pkey)
            raise BadKeyError(
                f"not an SM2 key (an SM2 key has the SM2 curve, OID 1.2.156.10197.1.301); {self._kind}"
            )
        self._pkey = pkey
        self._finalizer = weakref.finalize(self, lib.EVP_PKEY_free, pkey)

    def close(self) -> None:
        """Free the underlying ``EVP_PKEY`` now; the key is unusable afterwards."""
        self._closed = True
        self._pkey = None
        if self._finalizer is not None:
            self._finalizer()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise BadKeyError(f"{self._kind} has been closed")

    def _handle(self) -> int:
        self._check_open()
        if self._pkey is None:  # a gmalg-held public key; callers check the backend first
            raise BadKeyError(f"{self._kind} has no libcrypto handle")
        return self._pkey

    def _public_der(self) -> bytes:
        return _der_of(_lib(), self._handle())

    def _ctx_with_id(self, lib: _Lib, uid: bytes) -> tuple[int, int]:
        """An ``EVP_MD_CTX`` with a ``EVP_PKEY_CTX`` carrying ``uid``: (mdctx, pctx)."""
        pctx = lib.EVP_PKEY_CTX_new(self._handle(), None)
        if not pctx:
            raise _fail(lib, "EVP_PKEY_CTX_new failed")
        mdctx = lib.EVP_MD_CTX_new()
        if not mdctx:
            lib.EVP_PKEY_CTX_free(pctx)
            raise _fail(lib, "EVP_MD_CTX_new failed")
        if lib.EVP_PKEY_CTX_set1_id(pctx, uid, len(uid)) <= 0:
            lib.EVP_MD_CTX_free(mdctx)
            lib.EVP_PKEY_CTX_free(pctx)
            raise _fail(lib, "cannot set the SM2 distinguishing ID")
        lib.EVP_MD_CTX_set_pkey_ctx(mdctx, pctx)
        return mdctx, pctx


class Sm2PublicKey(_Key):
    """An SM2 public key (SubjectPublicKeyInfo on sm2p256v1).

    Held by libcrypto when it has SM2, else by the gmalg verify-only fallback (see
    :attr:`backend`); both accept the same keys and verify the same signatures.
    """

    _kind = "SM2 public key"

    def __init__(
        self, lib: _Lib | None, pkey: int | None, der: bytes, point: tuple[int, int]
    ) -> None:
        """Internal: use :meth:`from_der` or :meth:`from_pem`."""
        super().__init__(lib, pkey)  # takes ownership of pkey, or frees it and raises
        self._der = der
        self._point = point

    @classmethod
    def from_der(cls, data: bytes) -> Sm2PublicKey:
        """Load a DER SubjectPublicKeyInfo (named curve sm2p256v1, nothing after it)."""
        data = bytes(data)
        backend = _verifier()
        point = _parse_spki(data)  # the same strict checks whichever backend holds the key
        if isinstance(backend, _Gmalg):
            return cls(None, None, data, point)
        lib = backend
        lib.ERR_clear_error()
        buf = ctypes.create_string_buffer(data, len(data))
        ptr = ctypes.c_void_p(ctypes.addressof(buf))
        pkey = lib.d2i_PUBKEY(None, ctypes.byref(ptr), len(data))
        if not pkey:
            raise _fail(lib, "cannot load SM2 public key from DER")
        if (ptr.value or 0) - ctypes.addressof(buf) != len(data):
            lib.EVP_PKEY_free(pkey)
            raise BadKeyError("cannot load SM2 public key from DER: libcrypto read part of it")
        try:
            der = _der_of(lib, pkey)
        except BadKeyError:
            lib.EVP_PKEY_free(pkey)
            raise
        return cls(lib, pkey, der, point)

    @classmethod
    def from_pem(cls, data: bytes) -> Sm2PublicKey:
        """Load a ``-----BEGIN PUBLIC KEY-----`` PEM (the first such block in ``data``)."""
        _verifier()  # report a missing backend before a malformed PEM
        return cls.from_der(_pem_body(data))

    @property
    def backend(self) -> Literal["libcrypto", "gmalg"]:
        """Which implementation verifies with this key."""
        return "gmalg" if self._finalizer is None else "libcrypto"

    def der(self) -> bytes:
        """DER SubjectPublicKeyInfo."""
        self._check_open()
        return self._der

    def pem(self) -> bytes:
        """PEM SubjectPublicKeyInfo (64-character base64 lines, as OpenSSL writes it)."""
        b64 = base64.b64encode(self.der()).decode("ascii")
        lines = "".join(b64[i : i + 64] + "\n" for i in range(0, len(b64), 64))
        return f"-----BEGIN PUBLIC KEY-----\n{lines}-----END PUBLIC KEY-----\n".encode("ascii")

    def public_point(self) -> bytes:
        """The public point uncompressed, ``04 || x || y`` (65 bytes)."""
        self._check_open()
        return SM2P256V1.encode_point(*self._point)

    def verify(self, signature: bytes, data: bytes, *, uid: bytes = DEFAULT_ID) -> bool:
        """Check a raw ``r || s`` signature over ``data``; ``False`` if it does not verify."""
        uid = _check_uid(uid)
        self._check_open()
        signature, data = bytes(signature), bytes(data)
        if self._pkey is None:
            return self._verify_gmalg(signature, data, uid)
        try:
            der = raw_to_der(signature)
        except ValueError:
            return False
        lib = _lib()
        mdctx, pctx = self._ctx_with_id(lib, uid)
        try:
            if lib.EVP_DigestVerifyInit(mdctx, None, lib.EVP_sm3(), None, self._handle()) != 1:
                raise _fail(lib, "EVP_DigestVerifyInit failed")
            ok = bool(lib.EVP_DigestVerify(mdctx, der, len(der), data, len(data)) == 1)
            lib.ERR_clear_error()  # a bad signature leaves entries in the queue
            return ok
        finally:
            lib.EVP_MD_CTX_free(mdctx)  # does not free pctx (EVP_MD_CTX_set_pkey_ctx)
            lib.EVP_PKEY_CTX_free(pctx)

    def _verify_gmalg(self, signature: bytes, data: bytes, uid: bytes) -> bool:
        gm = _load_gmalg()
        if isinstance(gm, str):  # only if gmalg went away after the key was loaded
            raise BadKeyError(f"SM2 verification is unavailable ({gm}); {_GMALG_FIX}")
        if len(uid) >= 0x1000:  # gmalg refuses ENTL >= 2**15, i.e. IDs of 4096 bytes or more
            raise BadKeyError("the gmalg SM2 fallback cannot use IDs of 4096 bytes or more")
        if len(signature) != SIGNATURE_SIZE:
            return False
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:], "big")
        try:
            return gm.new_core().verify(data, r, s, uid, self._point) is True
        except (gm.error, ArithmeticError, ValueError):
            return False


def _der_of(lib: _Lib, pkey: int) -> bytes:
    """i2d_PUBKEY of an ``EVP_PKEY`` the caller still owns."""
    size = lib.i2d_PUBKEY(pkey, None)
    if size <= 0:
        raise _fail(lib, "cannot encode SM2 public key")
    buf = (ctypes.c_ubyte * size)()
    ptr = ctypes.cast(buf, ctypes.POINTER(ctypes.c_ubyte))
    if lib.i2d_PUBKEY(pkey, ctypes.byref(ptr)) != size:
        raise _fail(lib, "cannot encode SM2 public key")
    return bytes(buf)


class Sm2PrivateKey(_Key):
    """An SM2 private key (needs libcrypto with SM2)."""

    _kind = "SM2 private key"

    def __init__(self, lib: _Lib, pkey: int) -> None:
        """Internal: use :meth:`generate` or :meth:`from_pem`."""
        super().__init__(lib, pkey)

    @classmethod
    def generate(cls) -> Sm2PrivateKey:
        """A fresh random key."""
        lib = _lib()
        ctx = lib.EVP_PKEY_CTX_new_from_name(None, b"SM2", None)
        if not ctx:
            raise _fail(lib, "cannot create SM2 key generation context")
        try:
            pkey = ctypes.c_void_p()
            if (
                lib.EVP_PKEY_keygen_init(ctx) != 1
                or lib.EVP_PKEY_generate(ctx, ctypes.byref(pkey)) != 1
            ):
                raise _fail(lib, "SM2 key generation failed")
        finally:
            lib.EVP_PKEY_CTX_free(ctx)
        assert pkey.value is not None
        return cls(lib, pkey.value)

    @classmethod
    def from_pem(cls, data: bytes, password: bytes | None = None) -> Sm2PrivateKey:
        """Load a PEM private key (PKCS#8, optionally encrypted, or ``EC PRIVATE KEY``).

        Never prompts: an encrypted key without ``password`` (or with the wrong one) raises
        :class:`~ecard.errors.BadKeyError`.
        """
        lib = _lib()
        lib.ERR_clear_error()
        data = bytes(data)
        pw = None if password is None else bytes(password)

        # Our own callback: the default one would prompt on the terminal for a missing password.
        def password_cb(buf: int, size: int, _rwflag: int, _u: int) -> int:
            if pw is None or len(pw) > size:
                return -1
            ctypes.memmove(buf, pw, len(pw))
            return len(pw)

        callback = _PEM_CB(password_cb)  # referenced until the read returns
        bio = lib.BIO_new_mem_buf(data, len(data))
        if not bio:
            raise _fail(lib, "BIO_new_mem_buf failed")
        try:
            pkey = lib.PEM_read_bio_PrivateKey(bio, None, callback, None)
        finally:
            lib.BIO_free(bio)
        if not pkey:
            hint = " (encrypted key: pass password=)" if pw is None and b"ENCRYPTED" in data else ""
            raise _fail(lib, f"cannot load SM2 private key from PEM{hint}")
        return cls(lib, pkey)

    def private_pem(self, password: bytes | None = None) -> bytes:
        """PKCS#8 PEM: unencrypted, or with ``password`` encrypted (``ENCRYPTED PRIVATE KEY``:
        PBES2, PBKDF2 with HMAC-SHA256, AES-256-CBC). An empty password is a ValueError."""
        lib = _lib()
        cipher: int | None = None
        pw: bytes | None = None
        if password is not None:
            pw = bytes(password)
            if not pw:
                raise ValueError("empty password: pass password=None for an unencrypted key")
            cipher = lib.EVP_aes_256_cbc()
            if not cipher:
                raise _fail(lib, "AES-256-CBC is unavailable")
        handle = self._handle()
        bio = lib.BIO_new(lib.BIO_s_mem())
        if not bio:
            raise _fail(lib, "BIO_new failed")
        try:
            # with kstr given (or no cipher) OpenSSL never calls a password callback or prompts
            written = lib.PEM_write_bio_PKCS8PrivateKey(
                bio, handle, cipher, pw, 0 if pw is None else len(pw), None, None
            )
            if written != 1:
                raise _fail(lib, "cannot write SM2 private key PEM")
            return _bio_bytes(lib, bio)
        finally:
            lib.BIO_free(bio)

    @classmethod
    def from_der(cls, data: bytes, password: bytes | None = None) -> Sm2PrivateKey:
        """Load a DER PKCS#8 private key, encrypted (``EncryptedPrivateKeyInfo``, needs
        ``password``) or not; :class:`~ecard.errors.BadKeyError` if unusable."""
        data = bytes(data)
        # PrivateKeyInfo starts with its version INTEGER, EncryptedPrivateKeyInfo with the
        # encryption AlgorithmIdentifier SEQUENCE
        try:
            tag, start, end = _der_item(data, 0)
            if tag != 0x30 or end != len(data) or start >= end:
                raise ValueError("not one SEQUENCE")
            encrypted = data[start] == 0x30
        except ValueError as exc:
            raise BadKeyError(f"cannot load SM2 private key from DER: not PKCS#8 ({exc})") from None
        label = b"ENCRYPTED PRIVATE KEY" if encrypted else b"PRIVATE KEY"
        return cls.from_pem(_pem_wrap(label, data), password=password)

    def private_der(self, password: bytes | None = None) -> bytes:
        """DER PKCS#8, encrypted as :meth:`private_pem` does when ``password`` is given."""
        pem = self.private_pem(password)
        return base64.b64decode(b"".join(pem.splitlines()[1:-1]))

    def public_key(self) -> Sm2PublicKey:
        """The public half, as an independent object."""
        return Sm2PublicKey.from_der(self._public_der())

    def sign(self, data: bytes, *, uid: bytes = DEFAULT_ID) -> bytes:
        """Sign ``data`` (SM3 with ``Z_A`` from ``uid``); raw 64-byte ``r || s``."""
        uid = _check_uid(uid)
        data = bytes(data)
        lib = _lib()
        mdctx, pctx = self._ctx_with_id(lib, uid)
        try:
            if lib.EVP_DigestSignInit(mdctx, None, lib.EVP_sm3(), None, self._handle()) != 1:
                raise _fail(lib, "EVP_DigestSignInit failed")
            size = ctypes.c_size_t(0)
            if lib.EVP_DigestSign(mdctx, None, ctypes.byref(size), data, len(data)) != 1:
                raise _fail(lib, "EVP_DigestSign (size query) failed")
            sig = ctypes.create_string_buffer(size.value)
            if lib.EVP_DigestSign(mdctx, sig, ctypes.byref(size), data, len(data)) != 1:
                raise _fail(lib, "EVP_DigestSign failed")
            return der_to_raw(sig.raw[: size.value])
        finally:
            lib.EVP_MD_CTX_free(mdctx)
            lib.EVP_PKEY_CTX_free(pctx)
