"""Keys in an HSM or smart card (PKCS#11) for the issuing side.

The implementation is :mod:`ecard.crypto.pkcs11`, shared with the holder's device key on a
token; this module keeps the issuing side's import path.
"""

from __future__ import annotations

from ecard.crypto.pkcs11 import (
    INSTALL_HINT,
    RSA_KEY_BITS,
    Pkcs11Signer,
    generate_key,
)

__all__ = ["INSTALL_HINT", "RSA_KEY_BITS", "Pkcs11Signer", "generate_key"]
