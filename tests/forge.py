"""Build deliberately malformed or mis-signed credentials for the failure tests.

Everything is really signed with real keys: a forged credential fails for the reason the test
names, not because a mock said so.
"""

from __future__ import annotations

import zlib
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from ecard.card import Card
from ecard.crypto.algorithms import get_algorithm
from ecard.crypto.sm2 import raw_to_der
from ecard.formats import base45, cbor
from ecard.formats.cose import sig_structure
from ecard.formats.cwt import CLAIM_CARD
from ecard.signing.pki import CertifiedKey
from ecard.signing.sm2 import Sm2PrivateKey

_MISSING = object()


def claims_map(
    card: Card,
    *,
    iat: int,
    exp: int,
    cti: bytes = b"\x01" * 8,
    extra: dict[Any, Any] | None = None,
    drop: tuple[Any, ...] = (),
) -> dict[Any, Any]:
    """A claims map as the issuer writes it, with keys added/replaced (``extra``) or dropped."""
    m: dict[Any, Any] = {1: "CN", 4: exp, 6: iat, 7: cti, CLAIM_CARD: card.to_claim()}
    m.update(extra or {})
    for key in drop:
        m.pop(key, None)
    return m


def sign1(
    signer: CertifiedKey,
    payload: bytes,
    *,
    alg: Any = _MISSING,
    kid: Any = _MISSING,
    protected: bytes | None = None,
    protected_extra: dict[Any, Any] | None = None,
    unprotected: dict[Any, Any] | None = None,
    tag: int | None = 18,
    signature: bytes | None = None,
    sign_key: Any = None,
) -> bytes:
    """A COSE_Sign1 over ``payload`` with whatever headers and signature a test needs.

    By default the signature is genuine (``signer``'s key, its algorithm, raw form).
    """
    algorithm = get_algorithm(signer.signer().algorithm.name)
    headers: dict[Any, Any] = {}
    if alg is not _MISSING:
        if alg is not None:
            headers[1] = alg
    else:
        headers[1] = algorithm.cose_id
    if kid is not _MISSING:
        if kid is not None:
            headers[4] = kid
    else:
        headers[4] = signer.kid
    headers.update(protected_extra or {})
    prot = protected if protected is not None else cbor.encode(headers)
    if signature is None:
        tbs = sig_structure(prot, payload)
        signature = algorithm.sign(sign_key or signer.key, tbs)
    body = [prot, unprotected or {}, payload, signature]
    return cbor.encode(cbor.Tag(tag, body) if tag is not None else body)


def der_signature(signer: CertifiedKey, payload: bytes) -> bytes:
    """A COSE_Sign1 whose signature is DER-encoded (as OpenSSL emits) instead of raw r||s.

    For an ES256 signer the DER comes straight from OpenSSL's ECDSA; for an SM2 signer it is
    the genuine SM2 signature converted with :func:`ecard.crypto.sm2.raw_to_der`. The
    protected header names the signer's own algorithm, so only the encoding is wrong.
    """
    algorithm = get_algorithm(signer.signer().algorithm.name)
    prot = cbor.encode({1: algorithm.cose_id, 4: signer.kid})
    tbs = sig_structure(prot, payload)
    if isinstance(signer.key, Sm2PrivateKey):
        der = raw_to_der(signer.key.sign(tbs))
    else:
        assert isinstance(signer.key, ec.EllipticCurvePrivateKey)
        assert algorithm.name == "ES256", algorithm
        der = signer.key.sign(tbs, ec.ECDSA(hashes.SHA256()))
    return cbor.encode(cbor.Tag(18, [prot, {}, payload, der]))


def to_text(cose: bytes, *, compress: bool = False) -> str:
    """``EC1:`` text for arbitrary bytes (no validation), optionally zlib-compressed."""
    data = zlib.compress(cose, 9) if compress else cose
    return "EC1:" + base45.encode(data)
