"""ecard: issue and verify electronic social security cards (电子社保卡) as signed QR credentials.

A card is a pydantic model; an :class:`Issuer` signs it (COSE_Sign1 over CWT claims) and encodes
it as ``EC1:`` QR text; a :class:`Verifier` holding a :class:`TrustStore` checks it offline and
returns a :class:`VerificationResult` with one stable :class:`ErrorCode`.

>>> from datetime import date
>>> import ecard
>>> ds = ecard.create_document_signer(ecard.create_root_ca("Root"), "Signer")
>>> card = ecard.Card(holder=ecard.Holder(name="张三丰", ssn="11010519491231002X"),
...                   card_number="A12345678", region="110105",
...                   issued=date(2024, 1, 15), expires=date(2034, 1, 15))
>>> text = ecard.Issuer(ds.signer(), ds.certificate).issue(card).text
>>> ecard.Verifier(ecard.TrustStore([ds.certificate])).verify(text).valid
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecard._lazy import lazy_exports

__version__ = "0.1.0"

# Public name -> the module that defines it. Imported on first use, so that ``import ecard`` (or a
# verifier importing ``ecard.verify``) does not load the issuing side, and the reverse.
_EXPORTS: dict[str, str] = {
    "Algorithm": "ecard.crypto.algorithms",
    "Card": "ecard.card",
    "CardStatus": "ecard.card",
    "CertifiedKey": "ecard.signing.pki",
    "EcardError": "ecard.errors",
    "ErrorCode": "ecard.errors",
    "Holder": "ecard.card",
    "IssuedCard": "ecard.formats.credential",
    "Issuer": "ecard.signing.issuer",
    "KeySigner": "ecard.signing.signers",
    "ListState": "ecard.verify.lists",
    "PathValidator": "ecard.verify.paths",
    "Policy": "ecard.verify.policy",
    "RevocationList": "ecard.verify.revocation",
    "Signer": "ecard.signing.signers",
    "TrustListEntry": "ecard.formats.trustlist",
    "TrustStore": "ecard.verify.trust",
    "VerificationResult": "ecard.verify.verifier",
    "Verifier": "ecard.verify.verifier",
    "create_document_signer": "ecard.signing.pki",
    "create_issuing_ca": "ecard.signing.pki",
    "create_root_ca": "ecard.signing.pki",
    "get_algorithm": "ecard.crypto.algorithms",
}

if TYPE_CHECKING:
    from ecard.card import Card, CardStatus, Holder
    from ecard.crypto.algorithms import Algorithm, get_algorithm
    from ecard.errors import EcardError, ErrorCode
    from ecard.formats.credential import IssuedCard
    from ecard.formats.trustlist import TrustListEntry
    from ecard.signing.issuer import Issuer
    from ecard.signing.pki import (
        CertifiedKey,
        create_document_signer,
        create_issuing_ca,
        create_root_ca,
    )
    from ecard.signing.signers import KeySigner, Signer
    from ecard.verify.lists import ListState
    from ecard.verify.paths import PathValidator
    from ecard.verify.policy import Policy
    from ecard.verify.revocation import RevocationList
    from ecard.verify.trust import TrustStore
    from ecard.verify.verifier import VerificationResult, Verifier


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())

__all__ = [
    "Algorithm",
    "Card",
    "CardStatus",
    "CertifiedKey",
    "EcardError",
    "ErrorCode",
    "Holder",
    "IssuedCard",
    "Issuer",
    "KeySigner",
    "ListState",
    "PathValidator",
    "Policy",
    "RevocationList",
    "Signer",
    "TrustListEntry",
    "TrustStore",
    "VerificationResult",
    "Verifier",
    "__version__",
    "create_document_signer",
    "create_issuing_ca",
    "create_root_ca",
    "get_algorithm",
]
