"""The one table from what the audit found to an ETSI EN 319 102-1 indication.

A key is either an ecard error, as ``(code, detail)`` where ``detail`` is the error's structured
reason (:class:`~ecard.errors.PathFailure` for a list signer's path, :class:`~ecard.errors.ListStage`
for another stage of opening a list, ``None`` for a card's verifier code), or an
:class:`Observation`: a fact the audit established itself (revocation not checked, a signer
revoked before signing, a time-stamp outside the signer certificate's validity...). Nothing here
or anywhere in the audit looks at the text of an error. docs/audit.md explains every row.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final, Literal

from ecard.errors import ErrorCode, ListStage, PathFailure

Indication = Literal["TOTAL-PASSED", "TOTAL-FAILED", "INDETERMINATE"]
PASSED: Final = "TOTAL-PASSED"
FAILED: Final = "TOTAL-FAILED"
INDETERMINATE: Final = "INDETERMINATE"


class Observation(StrEnum):
    """A fact the audit established itself, beside the errors of the checks it ran."""

    #: an input that is not a QR text, picture, PDF or signed list, or cannot be read
    UNREADABLE = "unreadable"
    #: a PDF without a signature
    NO_SIGNATURE = "no signature"
    #: QR credentials without a trust store, or a signed list without a trust root
    NO_TRUST_ANCHOR = "no trust anchor"
    #: a certificate path was validated but the revocation of its certificates was not checked
    REVOCATION_NOT_CHECKED = "revocation not checked"
    #: a certificate of the signer's path was revoked at or before the (claimed) signing time,
    #: or the trust list marks the key compromised since before it
    REVOKED_BEFORE_SIGNING = "revoked before signing"
    #: a certificate of the path was revoked at or before the signature time-stamp
    REVOKED_BEFORE_TIMESTAMP = "revoked before the time-stamp"
    #: a certificate of the path is revoked and no time-stamp proves the signature older
    REVOKED_NO_POE = "revoked, no proof of existence"
    #: the signature time-stamp is before the signer certificate's notBefore
    TIMESTAMP_BEFORE_CERTIFICATE = "time-stamp before notBefore"
    #: the signature time-stamp is after the signer certificate's notAfter
    TIMESTAMP_AFTER_CERTIFICATE = "time-stamp after notAfter"
    #: no time-stamp, and the signer certificate expired before the validation time
    EXPIRED_WITHOUT_TIMESTAMP = "expired, no time-stamp"
    #: the signer certificate is not yet valid at the validation time
    CERTIFICATE_NOT_YET_VALID = "certificate not yet valid"
    #: a PDF's signer certificate lacks the e-card signing usage (a list or journal signer's)
    NOT_A_CARD_SIGNER = "not a card signer"
    #: an incremental update after signing changes more than form fields or annotations
    MODIFIED_AFTER_SIGNING = "modified after signing"


Key = tuple[ErrorCode, PathFailure | ListStage | None] | Observation

#: The table. A missing key is INDETERMINATE / GENERIC (:func:`indication_for`).
INDICATIONS: Final[dict[Key, tuple[Indication, str | None]]] = {
    # QR credentials: the verifier's code (docs/verifying.md)
    (ErrorCode.OK, None): (PASSED, None),
    (ErrorCode.BAD_PREFIX, None): (FAILED, "FORMAT_FAILURE"),
    (ErrorCode.TRUNCATED, None): (FAILED, "FORMAT_FAILURE"),
    (ErrorCode.BAD_BASE45, None): (FAILED, "FORMAT_FAILURE"),
    (ErrorCode.BAD_COMPRESSION, None): (FAILED, "FORMAT_FAILURE"),
    (ErrorCode.BAD_CBOR, None): (FAILED, "FORMAT_FAILURE"),
    (ErrorCode.BAD_COSE, None): (FAILED, "FORMAT_FAILURE"),
    (ErrorCode.BAD_INPUT, None): (FAILED, "FORMAT_FAILURE"),
    (ErrorCode.BAD_IMAGE, None): (FAILED, "FORMAT_FAILURE"),
    (ErrorCode.UNSUPPORTED_ALG, None): (INDETERMINATE, "CRYPTO_CONSTRAINTS_FAILURE"),
    (ErrorCode.ALG_KEY_MISMATCH, None): (FAILED, "SIG_CRYPTO_FAILURE"),
    (ErrorCode.UNKNOWN_KID, None): (INDETERMINATE, "NO_CERTIFICATE_CHAIN_FOUND"),
    (ErrorCode.BAD_SIGNATURE, None): (FAILED, "SIG_CRYPTO_FAILURE"),
    (ErrorCode.ISSUER_CERT_INVALID, None): (INDETERMINATE, "CHAIN_CONSTRAINTS_FAILURE"),
    (ErrorCode.ISSUER_NOT_AUTHORISED, None): (INDETERMINATE, "SIG_CONSTRAINTS_FAILURE"),
    (ErrorCode.TRUST_LIST_STALE, None): (INDETERMINATE, "TRY_LATER"),
    (ErrorCode.REVOCATION_LIST_STALE, None): (INDETERMINATE, "TRY_LATER"),
    (ErrorCode.BAD_LIST, None): (FAILED, "FORMAT_FAILURE"),
    (ErrorCode.LIST_ROLLBACK, None): (INDETERMINATE, "SIG_CONSTRAINTS_FAILURE"),
    # the credential is not valid, its signature is: credential validity is reported apart
    (ErrorCode.BAD_CLAIMS, None): (PASSED, None),
    (ErrorCode.NOT_YET_VALID, None): (PASSED, None),
    (ErrorCode.EXPIRED, None): (PASSED, None),
    (ErrorCode.CARD_EXPIRED, None): (PASSED, None),
    (ErrorCode.REVOKED, None): (PASSED, None),
    (ErrorCode.CARD_INACTIVE, None): (PASSED, None),
    # signed lists: the stage of open_list that failed
    (ErrorCode.BAD_LIST, ListStage.ENVELOPE): (FAILED, "FORMAT_FAILURE"),
    (ErrorCode.BAD_LIST, ListStage.ALGORITHM): (INDETERMINATE, "CRYPTO_CONSTRAINTS_FAILURE"),
    (ErrorCode.BAD_LIST, ListStage.SIGNER_CERTIFICATE): (FAILED, "FORMAT_FAILURE"),
    (ErrorCode.BAD_LIST, ListStage.SIGNER_KEY): (FAILED, "FORMAT_FAILURE"),
    (ErrorCode.BAD_LIST, ListStage.SIGNATURE): (FAILED, "SIG_CRYPTO_FAILURE"),
    (ErrorCode.BAD_LIST, ListStage.PAYLOAD): (FAILED, "FORMAT_FAILURE"),
    (ErrorCode.BAD_LIST, ListStage.SIGNER_NOT_BY_ROOT): (
        INDETERMINATE,
        "NO_CERTIFICATE_CHAIN_FOUND",
    ),
    (ErrorCode.BAD_LIST, ListStage.SIGNER_REVOKED): (FAILED, "REVOKED"),
    (ErrorCode.BAD_LIST, ListStage.STATE): (INDETERMINATE, "GENERIC"),
    # signed lists: why the list signer's path failed
    (ErrorCode.BAD_LIST, PathFailure.REVOKED): (FAILED, "REVOKED"),
    (ErrorCode.BAD_LIST, PathFailure.NO_REVOCATION_DATA): (INDETERMINATE, "TRY_LATER"),
    (ErrorCode.BAD_LIST, PathFailure.EXPIRED): (INDETERMINATE, "NO_CERTIFICATE_CHAIN_FOUND"),
    (ErrorCode.BAD_LIST, PathFailure.NOT_YET_VALID): (
        INDETERMINATE,
        "NO_CERTIFICATE_CHAIN_FOUND",
    ),
    (ErrorCode.BAD_LIST, PathFailure.KEY_USAGE): (INDETERMINATE, "NO_CERTIFICATE_CHAIN_FOUND"),
    (ErrorCode.BAD_LIST, PathFailure.EXTENDED_KEY_USAGE): (
        INDETERMINATE,
        "NO_CERTIFICATE_CHAIN_FOUND",
    ),
    (ErrorCode.BAD_LIST, PathFailure.UNTRUSTED_ROOT): (
        INDETERMINATE,
        "NO_CERTIFICATE_CHAIN_FOUND",
    ),
    (ErrorCode.BAD_LIST, PathFailure.BROKEN_CHAIN): (
        INDETERMINATE,
        "NO_CERTIFICATE_CHAIN_FOUND",
    ),
    (ErrorCode.BAD_LIST, PathFailure.NOT_A_CA): (INDETERMINATE, "NO_CERTIFICATE_CHAIN_FOUND"),
    (ErrorCode.BAD_LIST, PathFailure.PATH_LENGTH): (
        INDETERMINATE,
        "NO_CERTIFICATE_CHAIN_FOUND",
    ),
    (ErrorCode.BAD_LIST, PathFailure.PATH_BUILDING_LIMIT): (
        INDETERMINATE,
        "NO_CERTIFICATE_CHAIN_FOUND",
    ),
    # the audit's own observations
    Observation.UNREADABLE: (FAILED, "FORMAT_FAILURE"),
    Observation.NO_SIGNATURE: (FAILED, "SIGNED_DATA_NOT_FOUND"),
    Observation.NO_TRUST_ANCHOR: (INDETERMINATE, "NO_CERTIFICATE_CHAIN_FOUND"),
    # EN 319 102-1 5.2.6: the revocation status cannot be determined with the information
    # available; a CRL (revocation information available later, or supplied) may decide it
    Observation.REVOCATION_NOT_CHECKED: (INDETERMINATE, "TRY_LATER"),
    Observation.REVOKED_BEFORE_SIGNING: (FAILED, "REVOKED"),
    Observation.REVOKED_BEFORE_TIMESTAMP: (FAILED, "REVOKED"),
    Observation.REVOKED_NO_POE: (INDETERMINATE, "REVOKED_NO_POE"),
    Observation.TIMESTAMP_BEFORE_CERTIFICATE: (FAILED, "NOT_YET_VALID"),
    Observation.TIMESTAMP_AFTER_CERTIFICATE: (INDETERMINATE, "OUT_OF_BOUNDS_NO_POE"),
    Observation.EXPIRED_WITHOUT_TIMESTAMP: (INDETERMINATE, "OUT_OF_BOUNDS_NO_POE"),
    Observation.CERTIFICATE_NOT_YET_VALID: (FAILED, "NOT_YET_VALID"),
    # EN 319 102-1 5.2.4.4 (X.509 validation constraints): the signer's certificate is not
    # one the validation policy accepts for card documents; another key could not be ruled out
    Observation.NOT_A_CARD_SIGNER: (INDETERMINATE, "CHAIN_CONSTRAINTS_FAILURE"),
    # 5.2.8 (signature acceptance): the document shown is not the one signed
    Observation.MODIFIED_AFTER_SIGNING: (FAILED, "SIG_CONSTRAINTS_FAILURE"),
}

#: Sub-indications that say the signature value or the signed data itself is bad: the audit's
#: own observations never replace them.
CRYPTOGRAPHIC: Final = frozenset({"HASH_FAILURE", "SIG_CRYPTO_FAILURE", "FORMAT_FAILURE"})


def indication_for(key: Key) -> tuple[Indication, str | None]:
    """The (indication, sub-indication) of ``key``; INDETERMINATE / GENERIC if not listed."""
    return INDICATIONS.get(key, (INDETERMINATE, "GENERIC"))


__all__ = [
    "CRYPTOGRAPHIC",
    "FAILED",
    "INDETERMINATE",
    "INDICATIONS",
    "PASSED",
    "Indication",
    "Key",
    "Observation",
    "indication_for",
]
