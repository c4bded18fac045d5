"""Checking X.509 signatures on certificates and CRLs, for every algorithm ecard knows.

:func:`is_signed_by` says whether a certificate or CRL was signed by an issuer certificate's
key (SM2-with-SM3 here, everything else through ``pyhanko-certvalidator``'s default validator),
and :data:`SIGNATURE_VALIDATOR` (defined in :mod:`ecard.crypto.x509validator`, imported from
there on first use so that ``pyhanko-certvalidator`` loads only when a signature or path is
checked) is the same check as a ``pyhanko_certvalidator``
:class:`~pyhanko_certvalidator.sig_validate.SignatureValidator`, which path validation passes to
its ``ValidationContext`` for certificate and CRL signatures. SM2 signatures on certificates and
CRLs use the distinguishing ID :data:`X509_SM2_ID` (GM/T 0015: the default).

>>> from ecard.signing.pki import create_root_ca, create_document_signer
>>> root = create_root_ca("SM2 Root", algorithm="SM2")
>>> signer = create_document_signer(root, "SM2 Signer", algorithm="SM2")
>>> signer.certificate.signature_algorithm_oid.dotted_string
'1.2.156.10197.1.501'
>>> is_signed_by(signer.certificate, root.certificate)
True
>>> is_signed_by(root.certificate, signer.certificate)
False
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

from ecard._lazy import lazy_exports
from ecard.crypto.algorithms import certificate_spki
from ecard.crypto.sm2 import DEFAULT_ID, der_to_raw, is_sm2_spki
from ecard.errors import EcardError

if TYPE_CHECKING:
    from ecard.crypto.sm2.keys import Sm2PublicKey
    from ecard.crypto.x509validator import SIGNATURE_VALIDATOR, X509SignatureValidator

#: The distinguishing ID for SM2 signatures on certificates and CRLs (GM/T 0015: the default).
X509_SM2_ID: Final = DEFAULT_ID


@functools.lru_cache(maxsize=256)
def _sm2_key(spki: bytes) -> Sm2PublicKey | None:
    if not is_sm2_spki(spki):
        return None
    from ecard.crypto.sm2.keys import Sm2PublicKey  # the backend, for SM2 keys only

    try:
        return Sm2PublicKey.from_der(spki)
    except EcardError:
        return None


def verify_sm2(signature: bytes, signed_data: bytes, spki: bytes, algorithm: Any) -> None:
    """Check an SM2-with-SM3 X.509 signature (DER) over ``signed_data`` by the key ``spki``
    (distinguishing ID :data:`X509_SM2_ID`); raise
    :class:`~cryptography.exceptions.InvalidSignature` if it does not verify."""
    params = algorithm["parameters"]
    if params.native is not None:  # absent or NULL; anything else is not SM2-with-SM3
        raise InvalidSignature("SM2-with-SM3 takes no algorithm parameters")
    key = _sm2_key(bytes(spki))
    if key is None:
        raise InvalidSignature("SM2-with-SM3 signature, but the issuer key is not an SM2 key")
    try:
        raw = der_to_raw(bytes(signature))
    except ValueError:
        raise InvalidSignature("malformed SM2 signature") from None
    if not key.verify(raw, bytes(signed_data), uid=X509_SM2_ID):
        raise InvalidSignature("SM2 signature does not verify")


def _signed_parts(signed: x509.Certificate | x509.CertificateRevocationList) -> tuple[Any, ...]:
    from asn1crypto import crl as asn1_crl  # type: ignore[import-untyped, unused-ignore]
    from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped, unused-ignore]

    der = signed.public_bytes(serialization.Encoding.DER)
    if isinstance(signed, x509.Certificate):
        cert = asn1_x509.Certificate.load(der)
        return (
            cert["signature_value"].native,
            cert["tbs_certificate"].dump(),
            cert["signature_algorithm"],
        )
    crl = asn1_crl.CertificateList.load(der)
    return crl["signature"].native, crl["tbs_cert_list"].dump(), crl["signature_algorithm"]


def is_signed_by(
    signed: x509.Certificate | x509.CertificateRevocationList, issuer: x509.Certificate
) -> bool:
    """Whether ``signed`` (a certificate or a CRL) carries a valid signature by the key of the
    certificate ``issuer``, for every algorithm ecard knows (SM2-with-SM3 included).

    Only the signature is checked, not names or validity. ``False`` also when the signature
    cannot be checked at all (malformed structures, a key or algorithm no one here supports).
    """
    from asn1crypto import keys as asn1_keys  # type: ignore[import-untyped, unused-ignore]

    from ecard.crypto.x509validator import SIGNATURE_VALIDATOR

    try:
        signature, tbs, algorithm = _signed_parts(signed)
        spki = certificate_spki(issuer)
        SIGNATURE_VALIDATOR.validate_signature(
            signature, tbs, asn1_keys.PublicKeyInfo.load(spki), algorithm
        )
    except Exception:  # InvalidSignature; unsupported algorithm or key; malformed input
        return False
    return True


# The ``pyhanko-certvalidator`` validator lives in its own module, imported on first use: a
# verifier that validates no certificate path never loads the library.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "SIGNATURE_VALIDATOR": "ecard.crypto.x509validator",
        "X509SignatureValidator": "ecard.crypto.x509validator",
    },
    globals(),
)

__all__ = [
    "SIGNATURE_VALIDATOR",
    "X509_SM2_ID",
    "X509SignatureValidator",
    "is_signed_by",
    "verify_sm2",
]
