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

from ecard.card import Card, CardStatus, Holder
from ecard.errors import EcardError, ErrorCode
from ecard.formats.trustlist import TrustListEntry
from ecard.signing.algorithms import Algorithm, get_algorithm
from ecard.signing.issuer import IssuedCard, Issuer
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

__version__ = "0.1.0"

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
