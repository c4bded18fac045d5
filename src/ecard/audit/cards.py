"""Findings for QR credentials (texts and pictures): the verifier's code looked up in the one
table, and the facts of the signer's trust entry (its validated path, the CRLs it rests on, a
trust list's compromise mark) established by the checks that ran."""

from __future__ import annotations

from datetime import UTC, datetime

from ecard.audit.evidence import with_evidence
from ecard.audit.findings import AuditFinding, CrlFact, PathFacts, RevocationFacts
from ecard.audit.indications import PASSED, Observation, indication_for
from ecard.crypto.algorithms import describe_algorithm
from ecard.errors import EcardError, ErrorCode
from ecard.formats import qrtext
from ecard.formats.cose import parse_sign1
from ecard.formats.cwt import decode_claims
from ecard.verify.trust import TrustedIssuer, TrustStore
from ecard.verify.verifier import VerificationResult

#: the whole COSE_Sign1 is signed (RFC 9052 Sig_structure)
COSE_COVERAGE = "the whole credential: protected header + claims"

#: Codes about the credential's own validity: the signature itself verified.
_CREDENTIAL_CODES = frozenset(
    {
        ErrorCode.BAD_CLAIMS,
        ErrorCode.NOT_YET_VALID,
        ErrorCode.EXPIRED,
        ErrorCode.CARD_EXPIRED,
        ErrorCode.REVOKED,
        ErrorCode.CARD_INACTIVE,
    }
)
#: Codes that mean the signature value did not verify or could not be read.
_SIGNATURE_FAILED = frozenset(
    {
        ErrorCode.BAD_SIGNATURE,
        ErrorCode.ALG_KEY_MISMATCH,
        ErrorCode.BAD_PREFIX,
        ErrorCode.TRUNCATED,
        ErrorCode.BAD_BASE45,
        ErrorCode.BAD_COMPRESSION,
        ErrorCode.BAD_CBOR,
        ErrorCode.BAD_COSE,
        ErrorCode.BAD_INPUT,
        ErrorCode.BAD_IMAGE,
    }
)


def _entry(trust: TrustStore, result: VerificationResult) -> TrustedIssuer | None:
    if result.kid is None or result.issuer is None:
        return None
    return next((e for e in trust.lookup(result.kid) if e.subject == result.issuer), None)


#: Why revocation was not checked when the auditor turned it off (``--no-revocation-check``).
REVOCATION_OFF = "revocation checking turned off by the auditor (--no-revocation-check)"


def qr_finding(
    source: str,
    kind: str,
    result: VerificationResult,
    trust: TrustStore,
    text: str | None,
    *,
    check_revocation: bool = True,
) -> AuditFinding:
    """The finding for one verified (or refused) QR credential.

    A credential whose signer's path was validated without CRLs cannot pass: the revocation
    status of the path is unknown, INDETERMINATE / TRY_LATER (EN 319 102-1 5.2.6) with the
    CRLs to supply named, unless ``check_revocation`` is false (the auditor's explicit,
    dangerous choice, which the finding states)."""
    code = result.code
    indication, sub = indication_for((code, None))
    credential_status = None
    if code in _CREDENTIAL_CODES:
        credential_status = f"{code.value}: {result.detail}"
    elif code is ErrorCode.OK:
        credential_status = "OK"
    entry = _entry(trust, result)
    # the verifier names the signer only once the signature verified (stages run in order)
    verified: bool | None = True if result.issuer is not None or indication == PASSED else None
    if code in _SIGNATURE_FAILED:
        verified = False
    claimed = result.issued_at
    if claimed is None and text is not None and verified:
        try:  # the signature verified: its claims may be read for the report
            claimed = decode_claims(parse_sign1(qrtext.decode(text)).payload).issued_at
        except EcardError:
            claimed = None
    path = PathFacts(False)
    revocation = RevocationFacts(False, not_checked_because="the signer is not in the trust store")
    undecided = ""
    if entry is not None and entry.path is not None:
        vp = entry.path
        path = PathFacts(True, tuple(c.subject.rfc4514_string() for c in vp.certificates))
        if vp.crls:
            before = None
            if vp.revoked_at is not None:
                before = claimed is not None and claimed >= vp.revoked_at
            revocation = RevocationFacts(
                True,
                tuple(CrlFact.of(c) for c in vp.crls),
                revoked=None if vp.revoked_at is None else "a certificate of the signer's path",
                revoked_at=vp.revoked_at,
                before=before,
            )
            if before:
                indication, sub = indication_for(Observation.REVOKED_BEFORE_SIGNING)
        elif not check_revocation:
            revocation = RevocationFacts(False, not_checked_because=REVOCATION_OFF)
        else:
            # the path is known, the revocation of its certificates is not: indeterminate
            # until the CRLs of the CAs above the signer are supplied
            cas = ", ".join(c.subject.rfc4514_string() for c in vp.certificates[1:])
            revocation = RevocationFacts(
                False,
                not_checked_because=f"the path was validated without CRLs: supply the CRL of "
                f"{cas} (--crl) to decide it, or audit with --no-revocation-check",
            )
            if indication == PASSED:
                indication, sub = indication_for(Observation.REVOCATION_NOT_CHECKED)
                undecided = f"revocation status unknown: {revocation.not_checked_because}"
    elif entry is not None:
        path = PathFacts(False, (entry.subject,), trusted_directly=True)
        revocation = RevocationFacts(
            False,
            not_checked_because="the signer's certificate is trusted directly (a trust anchor): "
            "no certificate path, no CRL",
        )
    if entry is not None and entry.compromised_at_ts is not None and claimed is not None:
        compromised = datetime.fromtimestamp(entry.compromised_at_ts, UTC)
        if claimed >= compromised:
            indication, sub = indication_for(Observation.REVOKED_BEFORE_SIGNING)
            revocation = RevocationFacts(
                revocation.checked,
                revocation.crls,
                revocation.not_checked_because,
                compromised_at=compromised,
                before=True,
            )
    return with_evidence(
        AuditFinding(
            source=source,
            kind=kind,
            indication=indication,
            sub_indication=sub,
            detail=result.message("en") if code is not ErrorCode.OK else undecided,
            signer=result.issuer,
            kid=None if result.kid is None else result.kid.hex(),
            algorithm=None if result.alg is None else describe_algorithm(result.alg),
            signing_time_claimed=claimed,
            signature_verified=verified,
            data_unchanged=True if verified else None,
            path=path,
            revocation=revocation,
            covered=COSE_COVERAGE,
            covers_whole_file=True,
            credential_status=credential_status,
        )
    )


__all__ = ["COSE_COVERAGE", "REVOCATION_OFF", "qr_finding"]
