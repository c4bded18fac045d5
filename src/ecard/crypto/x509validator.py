"""The ``pyhanko-certvalidator`` signature validator with SM2-with-SM3 added.

Path validation (:class:`ecard.verify.paths.PathValidator`) hands :data:`SIGNATURE_VALIDATOR`
to the library's ``ValidationContext`` for certificate and CRL signatures, and
:func:`ecard.crypto.x509sig.is_signed_by` checks single signatures with it. This module is the
only one on the verifying side that imports ``pyhanko_certvalidator`` at import time; it is
imported on first use, so a verifier given trusted certificates (no roots) never loads it.

>>> from ecard.crypto.x509sig import SIGNATURE_VALIDATOR as again
>>> again is SIGNATURE_VALIDATOR
True
"""

from __future__ import annotations

from typing import Final

from asn1crypto import algos as asn1_algos  # type: ignore[import-untyped, unused-ignore]
from asn1crypto import keys as asn1_keys  # type: ignore[import-untyped, unused-ignore]
from cryptography.exceptions import InvalidSignature
from pyhanko_certvalidator.errors import AlgorithmNotSupported
from pyhanko_certvalidator.sig_validate import (
    DEFAULT_SIGNATURE_VALIDATOR,
    DEFAULT_VALIDATION_CONTEXT,
    SignatureValidationContext,
    SignatureValidator,
)

from ecard.crypto.algorithms import SM2_WITH_SM3_OID
from ecard.crypto.sm2 import is_sm2_spki
from ecard.crypto.x509sig import verify_sm2


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
            verify_sm2(signature, signed_data, spki, signature_algorithm)
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


__all__ = ["SIGNATURE_VALIDATOR", "X509SignatureValidator"]
