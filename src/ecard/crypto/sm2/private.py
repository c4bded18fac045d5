"""SM2 private keys (:class:`Sm2PrivateKey`): generate, load and save PEM/DER PKCS#8 (plain,
or encrypted with PBES2 / PBKDF2-HMAC-SHA256 / AES-256-CBC), and sign with SM3 and a
distinguishing ID, through the system libcrypto (see :mod:`ecard.crypto.sm2` for the backend,
the public key and the curve). Needs libcrypto with SM2: the gmalg fallback only verifies.

This module is in the neutral crypto layer so that both sides that hold a key use it: the
issuer (:mod:`ecard.signing`, which re-exports it as ``ecard.signing.sm2``) and the holder's
device (:mod:`ecard.holder.keys`). ``ecard.crypto.sm2`` does not import it, and the verifier
never does (contract ``verify-holds-no-keys`` in pyproject.toml; a verifying process is
checked not to load it, tests/test_architecture.py).
"""

from __future__ import annotations

import base64
import ctypes

from ecard.crypto.sm2 import DEFAULT_ID, Sm2Key, Sm2PublicKey, der_to_raw
from ecard.crypto.sm2.backend import PEM_CB, Lib, bio_bytes, fail, libcrypto
from ecard.crypto.sm2.der import der_item, pem_wrap
from ecard.crypto.sm2.keys import check_uid
from ecard.errors import BadKeyError


class Sm2PrivateKey(Sm2Key):
    """An SM2 private key (needs libcrypto with SM2)."""

    _kind = "SM2 private key"

    def __init__(self, lib: Lib, pkey: int) -> None:
        """Internal: use :meth:`generate` or :meth:`from_pem`."""
        super().__init__(lib, pkey)

    @classmethod
    def generate(cls) -> Sm2PrivateKey:
        """A fresh random key."""
        lib = libcrypto()
        ctx = lib.EVP_PKEY_CTX_new_from_name(None, b"SM2", None)
        if not ctx:
            raise fail(lib, "cannot create SM2 key generation context")
        try:
            pkey = ctypes.c_void_p()
            if (
                lib.EVP_PKEY_keygen_init(ctx) != 1
                or lib.EVP_PKEY_generate(ctx, ctypes.byref(pkey)) != 1
            ):
                raise fail(lib, "SM2 key generation failed")
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
        lib = libcrypto()
        lib.ERR_clear_error()
        data = bytes(data)
        pw = None if password is None else bytes(password)

        # Our own callback: the default one would prompt on the terminal for a missing password.
        def password_cb(buf: int, size: int, _rwflag: int, _u: int) -> int:
            if pw is None or len(pw) > size:
                return -1
            ctypes.memmove(buf, pw, len(pw))
            return len(pw)

        callback = PEM_CB(password_cb)  # referenced until the read returns
        bio = lib.BIO_new_mem_buf(data, len(data))
        if not bio:
            raise fail(lib, "BIO_new_mem_buf failed")
        try:
            pkey = lib.PEM_read_bio_PrivateKey(bio, None, callback, None)
        finally:
            lib.BIO_free(bio)
        if not pkey:
            hint = " (encrypted key: pass password=)" if pw is None and b"ENCRYPTED" in data else ""
            raise fail(lib, f"cannot load SM2 private key from PEM{hint}")
        return cls(lib, pkey)

    def private_pem(self, password: bytes | None = None) -> bytes:
        """PKCS#8 PEM: unencrypted, or with ``password`` encrypted (``ENCRYPTED PRIVATE KEY``:
        PBES2, PBKDF2 with HMAC-SHA256, AES-256-CBC). An empty password is a ValueError."""
        lib = libcrypto()
        cipher: int | None = None
        pw: bytes | None = None
        if password is not None:
            pw = bytes(password)
            if not pw:
                raise ValueError("empty password: pass password=None for an unencrypted key")
            cipher = lib.EVP_aes_256_cbc()
            if not cipher:
                raise fail(lib, "AES-256-CBC is unavailable")
        handle = self._handle()
        bio = lib.BIO_new(lib.BIO_s_mem())
        if not bio:
            raise fail(lib, "BIO_new failed")
        try:
            # with kstr given (or no cipher) OpenSSL never calls a password callback or prompts
            written = lib.PEM_write_bio_PKCS8PrivateKey(
                bio, handle, cipher, pw, 0 if pw is None else len(pw), None, None
            )
            if written != 1:
                raise fail(lib, "cannot write SM2 private key PEM")
            return bio_bytes(lib, bio)
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
            tag, start, end = der_item(data, 0)
            if tag != 0x30 or end != len(data) or start >= end:
                raise ValueError("not one SEQUENCE")
            encrypted = data[start] == 0x30
        except ValueError as exc:
            raise BadKeyError(f"cannot load SM2 private key from DER: not PKCS#8 ({exc})") from None
        label = b"ENCRYPTED PRIVATE KEY" if encrypted else b"PRIVATE KEY"
        return cls.from_pem(pem_wrap(label, data), password=password)

    def private_der(self, password: bytes | None = None) -> bytes:
        """DER PKCS#8, encrypted as :meth:`private_pem` does when ``password`` is given."""
        pem = self.private_pem(password)
        return base64.b64decode(b"".join(pem.splitlines()[1:-1]))

    def public_key(self) -> Sm2PublicKey:
        """The public half, as an independent object."""
        return Sm2PublicKey.from_der(self._public_der())

    def sign(self, data: bytes, *, uid: bytes = DEFAULT_ID) -> bytes:
        """Sign ``data`` (SM3 with ``Z_A`` from ``uid``); raw 64-byte ``r || s``."""
        uid = check_uid(uid)
        data = bytes(data)
        lib = libcrypto()
        mdctx, pctx = self._ctx_with_id(lib, uid)
        try:
            if lib.EVP_DigestSignInit(mdctx, None, lib.EVP_sm3(), None, self._handle()) != 1:
                raise fail(lib, "EVP_DigestSignInit failed")
            size = ctypes.c_size_t(0)
            if lib.EVP_DigestSign(mdctx, None, ctypes.byref(size), data, len(data)) != 1:
                raise fail(lib, "EVP_DigestSign (size query) failed")
            sig = ctypes.create_string_buffer(size.value)
            if lib.EVP_DigestSign(mdctx, sig, ctypes.byref(size), data, len(data)) != 1:
                raise fail(lib, "EVP_DigestSign failed")
            return der_to_raw(sig.raw[: size.value])
        finally:
            lib.EVP_MD_CTX_free(mdctx)
            lib.EVP_PKEY_CTX_free(pctx)


__all__ = ["Sm2PrivateKey"]
