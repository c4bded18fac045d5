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

Every C object is freed in a ``finally`` block, except the ``EVP_PKEY`` each key object owns,
which a :func:`weakref.finalize` frees when the key is collected (or when ``close()`` is called).
ctypes releases the GIL during foreign calls, and each sign or verify builds its own contexts,
so one key may be used from several threads.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import weakref
from typing import Any, Final, Self

from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from ecard.errors import BadKeyError

__all__ = [
    "DEFAULT_ID",
    "SIGNATURE_SIZE",
    "Sm2PrivateKey",
    "Sm2PublicKey",
    "der_to_raw",
    "raw_to_der",
    "sm2_available",
]

#: Default SM2 distinguishing ID (GB/T 35276-2017, section 5.3).
DEFAULT_ID: Final = b"1234567812345678"
#: Size in bytes of a raw ``r || s`` SM2 signature.
SIGNATURE_SIZE: Final = 64
#: Order ``n`` of the SM2 curve (GB/T 32918.5).
SM2_ORDER: Final = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123

_HOW_TO_FIX: Final = (
    "SM2 needs OpenSSL 3 libcrypto with SM2/SM3 enabled (Debian/Ubuntu: apt-get install "
    "libssl3; it must not be built with no-sm2/no-sm3)"
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
    "PEM_read_bio_PUBKEY": (_vp, [_vp, _vp, _vp, _vp]),
    "PEM_write_bio_PUBKEY": (ctypes.c_int, [_vp, _vp]),
    "d2i_PUBKEY": (_vp, [_vp, ctypes.POINTER(ctypes.c_char_p), ctypes.c_long]),
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


def sm2_available() -> bool:
    """Whether the system libcrypto can do SM2 with SM3."""
    return isinstance(_load(), _Lib)


def _lib() -> _Lib:
    lib = _load()
    if isinstance(lib, str):
        raise BadKeyError(f"SM2 is unavailable ({lib}); {_HOW_TO_FIX}")
    return lib


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
    if len(uid) > 0x1FFF:  # ENTL is 16 bits of *bits*
        raise ValueError("SM2 distinguishing ID longer than 8191 bytes")
    return uid


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


class _Key:
    """Owns one ``EVP_PKEY``; frees it on :meth:`close` or collection."""

    _kind = "SM2 key"

    def __init__(self, pkey: int) -> None:
        lib = _lib()
        if lib.EVP_PKEY_is_a(pkey, b"SM2") != 1:
            lib.EVP_PKEY_free(pkey)
            raise BadKeyError(
                f"not an SM2 key (an SM2 key has the SM2 curve, OID 1.2.156.10197.1.301); {self._kind}"
            )
        self._pkey: int | None = pkey
        self._finalizer = weakref.finalize(self, lib.EVP_PKEY_free, pkey)

    def close(self) -> None:
        """Free the underlying ``EVP_PKEY`` now; the key is unusable afterwards."""
        self._pkey = None
        self._finalizer()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _handle(self) -> int:
        if self._pkey is None:
            raise BadKeyError(f"{self._kind} has been closed")
        return self._pkey

    def _public_der(self) -> bytes:
        lib = _lib()
        pkey = self._handle()
        size = lib.i2d_PUBKEY(pkey, None)
        if size <= 0:
            raise _fail(lib, "cannot encode SM2 public key")
        buf = (ctypes.c_ubyte * size)()
        ptr = ctypes.cast(buf, ctypes.POINTER(ctypes.c_ubyte))
        written = lib.i2d_PUBKEY(pkey, ctypes.byref(ptr))
        if written != size:
            raise _fail(lib, "cannot encode SM2 public key")
        return bytes(buf)

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
    """An SM2 public key (SubjectPublicKeyInfo)."""

    _kind = "SM2 public key"

    @classmethod
    def from_der(cls, data: bytes) -> Sm2PublicKey:
        """Load a DER SubjectPublicKeyInfo."""
        lib = _lib()
        lib.ERR_clear_error()
        buf = ctypes.c_char_p(bytes(data))
        pkey = lib.d2i_PUBKEY(None, ctypes.byref(buf), len(data))
        if not pkey:
            raise _fail(lib, "cannot load SM2 public key from DER")
        return cls(pkey)

    @classmethod
    def from_pem(cls, data: bytes) -> Sm2PublicKey:
        """Load a ``-----BEGIN PUBLIC KEY-----`` PEM."""
        lib = _lib()
        lib.ERR_clear_error()
        data = bytes(data)
        bio = lib.BIO_new_mem_buf(data, len(data))
        if not bio:
            raise _fail(lib, "BIO_new_mem_buf failed")
        try:
            pkey = lib.PEM_read_bio_PUBKEY(bio, None, None, None)
        finally:
            lib.BIO_free(bio)
        if not pkey:
            raise _fail(lib, "cannot load SM2 public key from PEM")
        return cls(pkey)

    def der(self) -> bytes:
        """DER SubjectPublicKeyInfo."""
        return self._public_der()

    def pem(self) -> bytes:
        """PEM SubjectPublicKeyInfo."""
        lib = _lib()
        bio = lib.BIO_new(lib.BIO_s_mem())
        if not bio:
            raise _fail(lib, "BIO_new failed")
        try:
            if lib.PEM_write_bio_PUBKEY(bio, self._handle()) != 1:
                raise _fail(lib, "cannot write SM2 public key PEM")
            return _bio_bytes(lib, bio)
        finally:
            lib.BIO_free(bio)

    def verify(self, signature: bytes, data: bytes, *, uid: bytes = DEFAULT_ID) -> bool:
        """Check a raw ``r || s`` signature over ``data``; ``False`` if it does not verify."""
        uid = _check_uid(uid)
        try:
            der = raw_to_der(bytes(signature))
        except ValueError:
            return False
        data = bytes(data)
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


class Sm2PrivateKey(_Key):
    """An SM2 private key."""

    _kind = "SM2 private key"

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
        return cls(pkey.value)

    @classmethod
    def from_pem(cls, data: bytes, password: bytes | None = None) -> Sm2PrivateKey:
        """Load a PEM private key (PKCS#8, optionally encrypted, or ``EC PRIVATE KEY``)."""
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
        return cls(pkey)

    def private_pem(self) -> bytes:
        """Unencrypted PKCS#8 PEM."""
        lib = _lib()
        bio = lib.BIO_new(lib.BIO_s_mem())
        if not bio:
            raise _fail(lib, "BIO_new failed")
        try:
            if (
                lib.PEM_write_bio_PKCS8PrivateKey(bio, self._handle(), None, None, 0, None, None)
                != 1
            ):
                raise _fail(lib, "cannot write SM2 private key PEM")
            return _bio_bytes(lib, bio)
        finally:
            lib.BIO_free(bio)

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
