"""SM2 signatures with SM3 (GB/T 32918, GB/T 32905), public side: the curve, the backends, strict
SubjectPublicKeyInfo parsing, public keys and verification. Private keys are in
:mod:`ecard.crypto.sm2.private`, which this package does not import.

``cryptography`` does not expose SM2, so verification calls OpenSSL 3's libcrypto directly
(ctypes), along the path its SM2(7) manual page prescribes: an ``EVP_PKEY_CTX`` carrying the
distinguishing ID (``EVP_PKEY_CTX_set1_id``) is attached to an ``EVP_MD_CTX`` before
``EVP_DigestVerifyInit`` with ``EVP_sm3()``. The ID is *always* set: OpenSSL 3 would otherwise
use an empty ID, while GB/T 35276 and most other implementations default to
``1234567812345678`` (:data:`DEFAULT_ID`).

Signatures are raw ``r || s`` (64 bytes, each half left-padded to 32 bytes), the COSE
convention; :func:`raw_to_der` and :func:`der_to_raw` convert to and from the DER
``SEQUENCE { r, s }`` libcrypto and the ``openssl`` tool use.

Modules, one job each:

- :mod:`~ecard.crypto.sm2.curve`: sm2p256v1 (:data:`SM2P256V1`) and other prime curves, points;
- :mod:`~ecard.crypto.sm2.backend`: libcrypto (ctypes) or the verify-only ``gmalg`` fallback,
  and :func:`sm2_available` / :func:`sm2_verify_available` / :func:`sm2_verify_unavailable`;
- :mod:`~ecard.crypto.sm2.der`: strict SPKI parsing (exact DER, ``id-ecPublicKey`` with the named
  curve sm2p256v1, OID 1.2.156.10197.1.301, a point on the curve), signature conversion, PEM;
- :mod:`~ecard.crypto.sm2.keys`: :class:`Sm2PublicKey`, :class:`Sm2Key` (the base every SM2
  key object shares) and :func:`compute_z` (``Z_A``, GB/T 32918.2 section 5.5, for checking
  the standards' worked examples byte for byte).

Verify-only fallback
    Where the platform libcrypto has no SM2 (LibreSSL on macOS, OpenSSL built with ``no-sm2``,
    OpenSSL 1.1) but ``gmalg`` is installed (``pip install 'ecard[sm]'``), :class:`Sm2PublicKey`
    still loads keys and verifies, through gmalg on sm2p256v1. Signing then raises
    :class:`~ecard.errors.BadKeyError` naming the fix. With neither backend, every entry point
    raises :class:`~ecard.errors.BadKeyError` naming both fixes.

Every C object is freed in a ``finally`` block (or right where an error is raised), except the
``EVP_PKEY`` each key object owns, which a :func:`weakref.finalize` frees when the key is
collected (or when ``close()`` is called). ctypes releases the GIL during foreign calls, and
each verify builds its own contexts, so one key may be used from several threads.

Each name is imported from its module on first use (:mod:`ecard._lazy`): reading a
SubjectPublicKeyInfo's curve or converting a signature loads neither ctypes nor libcrypto, which
are loaded when an SM2 key is (``ecard verify`` of an ES256 card never loads them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecard._lazy import lazy_exports

_EXPORTS = {
    **dict.fromkeys(
        ("sm2_available", "sm2_verify_available", "sm2_verify_unavailable"),
        "ecard.crypto.sm2.backend",
    ),
    **dict.fromkeys(
        ("DEFAULT_ID", "SIGNATURE_SIZE", "SM2_ORDER", "SM2P256V1", "Sm2Curve"),
        "ecard.crypto.sm2.curve",
    ),
    **dict.fromkeys(("der_to_raw", "is_sm2_spki", "raw_to_der"), "ecard.crypto.sm2.der"),
    **dict.fromkeys(("Sm2Key", "Sm2PublicKey", "compute_z"), "ecard.crypto.sm2.keys"),
}

if TYPE_CHECKING:
    from ecard.crypto.sm2.backend import (
        sm2_available,
        sm2_verify_available,
        sm2_verify_unavailable,
    )
    from ecard.crypto.sm2.curve import DEFAULT_ID, SIGNATURE_SIZE, SM2_ORDER, SM2P256V1, Sm2Curve
    from ecard.crypto.sm2.der import der_to_raw, is_sm2_spki, raw_to_der
    from ecard.crypto.sm2.keys import Sm2Key, Sm2PublicKey, compute_z

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())

__all__ = [
    "DEFAULT_ID",
    "SIGNATURE_SIZE",
    "SM2P256V1",
    "SM2_ORDER",
    "Sm2Curve",
    "Sm2Key",
    "Sm2PublicKey",
    "compute_z",
    "der_to_raw",
    "is_sm2_spki",
    "raw_to_der",
    "sm2_available",
    "sm2_verify_available",
    "sm2_verify_unavailable",
]
