"""SM2 public keys: :class:`Sm2PublicKey` (load DER/PEM, verify a raw ``r || s`` signature
with a distinguishing ID) on libcrypto or the gmalg fallback, the :class:`Sm2Key` base that
owns a libcrypto ``EVP_PKEY``, and :func:`compute_z` (``Z_A`` of GB/T 32918.2 section 5.5).

Private keys are not here but in :mod:`ecard.crypto.sm2.private`, which a verifier never
loads.
"""

from __future__ import annotations

import base64
import ctypes
import weakref
from typing import Any, Literal, Self

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes

from ecard.crypto.sm2.backend import (
    GMALG_FIX,
    PARAM_OCTET_STRING,
    PARAM_UNMODIFIED,
    PARAM_UTF8_STRING,
    PKEY_PUBLIC_KEY,
    Gmalg,
    Lib,
    OsslParam,
    _load_gmalg,
    fail,
    libcrypto,
)
from ecard.crypto.sm2.backend import (
    backend as verifier_backend,
)
from ecard.crypto.sm2.curve import _MAX_UID, DEFAULT_ID, SIGNATURE_SIZE, SM2P256V1, Sm2Curve
from ecard.crypto.sm2.der import SM2P256V1_SPKI_PREFIX, parse_spki, pem_body, raw_to_der
from ecard.errors import BadKeyError


def check_uid(uid: bytes) -> bytes:
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
            raise BadKeyError(f"SM3 is unavailable ({gm}); {GMALG_FIX}") from None
        sm3 = gm.new_sm3()
        sm3.update(data)
        return bytes(sm3.value())
    digest.update(data)
    return digest.finalize()


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
    uid = check_uid(uid)
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


class Sm2Key:
    """Base of the key classes: ``close()`` and use as a context manager.

    ``_pkey`` is the ``EVP_PKEY`` the object owns (freed on :meth:`close` or collection), or
    ``None`` for a public key held by the gmalg fallback.
    """

    _kind = "SM2 key"

    def __init__(self, lib: Lib | None, pkey: int | None) -> None:
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
        return der_of(libcrypto(), self._handle())

    def _ctx_with_id(self, lib: Lib, uid: bytes) -> tuple[int, int]:
        """An ``EVP_MD_CTX`` with a ``EVP_PKEY_CTX`` carrying ``uid``: (mdctx, pctx)."""
        pctx = lib.EVP_PKEY_CTX_new(self._handle(), None)
        if not pctx:
            raise fail(lib, "EVP_PKEY_CTX_new failed")
        mdctx = lib.EVP_MD_CTX_new()
        if not mdctx:
            lib.EVP_PKEY_CTX_free(pctx)
            raise fail(lib, "EVP_MD_CTX_new failed")
        if lib.EVP_PKEY_CTX_set1_id(pctx, uid, len(uid)) <= 0:
            lib.EVP_MD_CTX_free(mdctx)
            lib.EVP_PKEY_CTX_free(pctx)
            raise fail(lib, "cannot set the SM2 distinguishing ID")
        lib.EVP_MD_CTX_set_pkey_ctx(mdctx, pctx)
        return mdctx, pctx


class Sm2PublicKey(Sm2Key):
    """An SM2 public key (SubjectPublicKeyInfo on sm2p256v1).

    Held by libcrypto when it has SM2, else by the gmalg verify-only fallback (see
    :attr:`backend`); both accept the same keys and verify the same signatures.
    """

    _kind = "SM2 public key"

    def __init__(
        self, lib: Lib | None, pkey: int | None, der: bytes, point: tuple[int, int]
    ) -> None:
        """Internal: use :meth:`from_der` or :meth:`from_pem`."""
        super().__init__(lib, pkey)  # takes ownership of pkey, or frees it and raises
        self._der = der
        self._point = point

    @classmethod
    def from_der(cls, data: bytes) -> Sm2PublicKey:
        """Load a DER SubjectPublicKeyInfo (named curve sm2p256v1, nothing after it)."""
        data = bytes(data)
        backend = verifier_backend()
        point = parse_spki(data)  # the same strict checks whichever backend holds the key
        if isinstance(backend, Gmalg):
            return cls(None, None, data, point)
        lib = backend
        lib.ERR_clear_error()
        buf = ctypes.create_string_buffer(data, len(data))
        ptr = ctypes.c_void_p(ctypes.addressof(buf))
        pkey = lib.d2i_PUBKEY(None, ctypes.byref(ptr), len(data))
        if not pkey:
            raise fail(lib, "cannot load SM2 public key from DER")
        if (ptr.value or 0) - ctypes.addressof(buf) != len(data):
            lib.EVP_PKEY_free(pkey)
            raise BadKeyError("cannot load SM2 public key from DER: libcrypto read part of it")
        if data == SM2P256V1_SPKI_PREFIX + SM2P256V1.encode_point(*point)[1:]:
            der = data  # already what i2d_PUBKEY writes (named curve, uncompressed point)
        else:
            try:
                der = der_of(lib, pkey)
            except BadKeyError:
                lib.EVP_PKEY_free(pkey)
                raise
        return cls(lib, pkey, der, point)

    @classmethod
    def from_point(cls, x: int, y: int) -> Sm2PublicKey:
        """The key of the affine point ``(x, y)`` on sm2p256v1 (checked), as a COSE_Key names
        it: built from its parameters (``EVP_PKEY_fromdata``), without the DER decoder's cost;
        the same key :meth:`from_der` gives for its SubjectPublicKeyInfo."""
        if not SM2P256V1.contains(x, y):
            raise BadKeyError(f"the public key point is not on the curve {SM2P256V1.name}")
        point = SM2P256V1.encode_point(x, y)
        der = SM2P256V1_SPKI_PREFIX + point[1:]
        backend = verifier_backend()
        if isinstance(backend, Gmalg):
            return cls(None, None, der, (x, y))
        lib = backend
        lib.ERR_clear_error()
        group, buf = ctypes.create_string_buffer(b"SM2"), ctypes.create_string_buffer(point, 65)
        params = (OsslParam * 3)(
            OsslParam(b"group", PARAM_UTF8_STRING, ctypes.addressof(group), 3, PARAM_UNMODIFIED),
            OsslParam(b"pub", PARAM_OCTET_STRING, ctypes.addressof(buf), 65, PARAM_UNMODIFIED),
            OsslParam(None, 0, None, 0, 0),
        )
        ctx = lib.EVP_PKEY_CTX_new_from_name(None, b"SM2", None)
        if not ctx:
            raise fail(lib, "cannot create an SM2 key context")
        try:
            pkey = ctypes.c_void_p()
            if (
                lib.EVP_PKEY_fromdata_init(ctx) != 1
                or lib.EVP_PKEY_fromdata(ctx, ctypes.byref(pkey), PKEY_PUBLIC_KEY, params) != 1
                or not pkey.value
            ):
                raise fail(lib, "cannot load SM2 public key from its point")
        finally:
            lib.EVP_PKEY_CTX_free(ctx)
        return cls(lib, pkey.value, der, (x, y))

    @classmethod
    def from_pem(cls, data: bytes) -> Sm2PublicKey:
        """Load a ``-----BEGIN PUBLIC KEY-----`` PEM (the first such block in ``data``)."""
        verifier_backend()  # report a missing backend before a malformed PEM
        return cls.from_der(pem_body(data))

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
        uid = check_uid(uid)
        self._check_open()
        signature, data = bytes(signature), bytes(data)
        if self._pkey is None:
            return self._verify_gmalg(signature, data, uid)
        try:
            der = raw_to_der(signature)
        except ValueError:
            return False
        lib = libcrypto()
        mdctx, pctx = self._ctx_with_id(lib, uid)
        try:
            if lib.EVP_DigestVerifyInit(mdctx, None, lib.EVP_sm3(), None, self._handle()) != 1:
                raise fail(lib, "EVP_DigestVerifyInit failed")
            ok = bool(lib.EVP_DigestVerify(mdctx, der, len(der), data, len(data)) == 1)
            lib.ERR_clear_error()  # a bad signature leaves entries in the queue
            return ok
        finally:
            lib.EVP_MD_CTX_free(mdctx)  # does not free pctx (EVP_MD_CTX_set_pkey_ctx)
            lib.EVP_PKEY_CTX_free(pctx)

    def _verify_gmalg(self, signature: bytes, data: bytes, uid: bytes) -> bool:
        gm = _load_gmalg()
        if isinstance(gm, str):  # only if gmalg went away after the key was loaded
            raise BadKeyError(f"SM2 verification is unavailable ({gm}); {GMALG_FIX}")
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


def der_of(lib: Lib, pkey: int) -> bytes:
    """i2d_PUBKEY of an ``EVP_PKEY`` the caller still owns."""
    size = lib.i2d_PUBKEY(pkey, None)
    if size <= 0:
        raise fail(lib, "cannot encode SM2 public key")
    buf = (ctypes.c_ubyte * size)()
    ptr = ctypes.cast(buf, ctypes.POINTER(ctypes.c_ubyte))
    if lib.i2d_PUBKEY(pkey, ctypes.byref(ptr)) != size:
        raise fail(lib, "cannot encode SM2 public key")
    return bytes(buf)
