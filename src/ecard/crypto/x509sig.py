"""Checking X.509 signatures on certificates and CRLs, for every algorithm ecard knows.

:func:`is_signed_by` says whether a certificate or CRL was signed by an issuer certificate's
key (SM2-with-SM3 here, everything else through ``pyhanko-certvalidator``'s default validator),
and :data:`SIGNATURE_VALIDATOR` is the same check as a ``pyhanko_certvalidator``
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
from typing import Any, Final

from asn1crypto import algos as asn1_algos  # type: ignore[import-untyped, unused-ignore]
from asn1crypto import crl as asn1_crl  # type: ignore[import-untyped, unused-ignore]
from asn1crypto import keys as asn1_keys  # type: ignore[import-untyped, unused-ignore]
from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped, unused-ignore]
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from pyhanko_certvalidator.errors import AlgorithmNotSupported
from pyhanko_certvalidator.sig_validate import (
    DEFAULT_SIGNATURE_VALIDATOR,
    DEFAULT_VALIDATION_CONTEXT,
    SignatureValidationContext,
    SignatureValidator,
)

from ecard.crypto.algorithms import SM2_WITH_SM3_OID, certificate_spki
from ecard.crypto.sm2 import DEFAULT_ID, Sm2PublicKey, der_to_raw, is_sm2_spki
from ecard.errors import EcardError

#: The distinguishing ID for SM2 signatures on certificates and CRLs (GM/T 0015: the default).
X509_SM2_ID: Final = DEFAULT_ID


@functools.lru_cache(maxsize=256)
def _sm2_key(spki: bytes) -> Sm2PublicKey | None:
    if not is_sm2_spki(spki):
        return None
    try:
        return Sm2PublicKey.from_der(spki)
    except EcardError:
        return None


def _verify_sm2(signature: bytes, signed_data: bytes, spki: bytes, algorithm: Any) -> None:
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


class X509SignatureValidator(SignatureValidator):
    """``pyhanko-certvalidator``'s signature check with SM2-with-SM3 added.

    SM2-with-SM3 signatures are verified here (SM2 issuer key, DER signature, distinguishing
    ID ``1234567812345678``); an SM2 issuer key under any other algorithm is refused; every
    other algorithm goes to the library's :class:`DefaultSignatureValidator`. Raises
    :class:`cryptography.exceptions.InvalidSignature` for a signature that does not verify, as
    the library expects.
    """

    def validate_signature(
        self,
        signature: bytes,
        signed_data: bytes,
        public_key_info: asn1_keys.PublicKeyInfo,
        signature_algorithm: asn1_algos.SignedDigestAlgorithm,
        context: SignatureValidationContext = DEFAULT_VALIDATION_CONTEXT,
    ) -> None:
        """Check ``signature`` over ``signed_data`` with ``public_key_info``; raise
        :class:`~cryptography.exceptions.InvalidSignature` if it does not verify."""
        spki = bytes(public_key_info.dump())
        if signature_algorithm["algorithm"].dotted == SM2_WITH_SM3_OID:
            if context.prehashed:  # Z_A || message is hashed inside SM2: no pre-hashing
                raise AlgorithmNotSupported("SM2-with-SM3 cannot verify a pre-hashed message")
            _verify_sm2(signature, signed_data, spki, signature_algorithm)
            return
        if is_sm2_spki(spki):
            raise InvalidSignature(
                f"an SM2 key signs only with SM2-with-SM3 ({SM2_WITH_SM3_OID}), not "
                f"{signature_algorithm['algorithm'].dotted}"
            )
        DEFAULT_SIGNATURE_VALIDATOR.validate_signature(
            signature, signed_data, public_key_info, signature_algorithm, context
        )


#: The validator :class:`ecard.verify.paths.PathValidator` gives ``pyhanko-certvalidator``.
SIGNATURE_VALIDATOR: Final = X509SignatureValidator()


def _signed_parts(signed: x509.Certificate | x509.CertificateRevocationList) -> tuple[Any, ...]:
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
    try:
        signature, tbs, algorithm = _signed_parts(signed)
        spki = certificate_spki(issuer)
        SIGNATURE_VALIDATOR.validate_signature(
            signature, tbs, asn1_keys.PublicKeyInfo.load(spki), algorithm
        )
    except Exception:  # InvalidSignature; unsupported algorithm or key; malformed input
        return False
    return True


__all__ = ["SIGNATURE_VALIDATOR", "X509_SM2_ID", "X509SignatureValidator", "is_signed_by"]
