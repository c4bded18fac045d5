"""Findings for signed lists (trust lists, revocation lists): :func:`ecard.verify.lists.open_list`
under the roots and CRLs given, its failure's stage (and path reason) looked up in the one
table, and, when it opens, whether the signer's revocation was really checked."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from cryptography import x509

from ecard.audit.cards import COSE_COVERAGE
from ecard.audit.evidence import with_evidence
from ecard.audit.findings import AuditFinding, CrlFact, PathFacts, RevocationFacts
from ecard.audit.indications import Observation, indication_for
from ecard.audit.pdfs import failure
from ecard.crypto.algorithms import describe_algorithm
from ecard.errors import BadListError, EcardError, ErrorCode, ListStage
from ecard.formats.lists import TRUST_LIST, read_unverified_list
from ecard.verify.lists import open_list
from ecard.verify.paths import PathValidator, RevocationMode

#: stages reached only after the signature verified
_AFTER_SIGNATURE = frozenset(
    {
        ListStage.PAYLOAD,
        ListStage.SIGNER_PATH,
        ListStage.SIGNER_NOT_BY_ROOT,
        ListStage.SIGNER_REVOKED,
        ListStage.STATE,
    }
)
_UNREADABLE = frozenset({ListStage.ENVELOPE, ListStage.SIGNER_CERTIFICATE, ListStage.SIGNER_KEY})


def list_finding(
    source: str,
    data: bytes,
    roots: Sequence[x509.Certificate],
    crls: Sequence[x509.CertificateRevocationList],
    now: datetime,
) -> AuditFinding:
    """The finding for one signed list."""
    try:
        msg, info, _ = read_unverified_list(data)
    except BadListError:
        return failure(
            source,
            "unknown",
            "a COSE_Sign1 that is neither a trust nor a revocation list",
            Observation.UNREADABLE,
        )
    except EcardError as exc:
        return failure(source, "unknown", exc.message("en"), Observation.UNREADABLE)
    expected = info.type
    kind = "trust-list" if expected == TRUST_LIST else "revocation-list"
    common = {"source": source, "kind": kind, "kid": msg.kid.hex(), "covered": COSE_COVERAGE,
              "covers_whole_file": True, "algorithm": describe_algorithm(msg.alg)}  # fmt: skip
    if not roots:
        indication, sub = indication_for(Observation.NO_TRUST_ANCHOR)
        return with_evidence(
            AuditFinding(
                **common,  # type: ignore[arg-type]
                indication=indication,
                sub_indication=sub,
                detail="no trust root given",
            )
        )
    revocation: RevocationMode = "require" if crls else "off"
    try:
        validator = PathValidator(roots, crls=crls, revocation=revocation, clock=lambda: now)
        signed = open_list(data, expected_type=expected, validator=validator)
    except BadListError as exc:
        stage = exc.stage
        key = exc.reason if stage is ListStage.SIGNER_PATH and exc.reason else stage
        indication, sub = indication_for((exc.code, key))
        verified = (
            True if stage in _AFTER_SIGNATURE else False if stage is ListStage.SIGNATURE else None
        )
        if stage in _UNREADABLE or stage is None:
            verified = False
        return with_evidence(
            AuditFinding(
                **common,  # type: ignore[arg-type]
                indication=indication,
                sub_indication=sub,
                detail=exc.message("en"),
                signature_verified=verified,
                data_unchanged=True if verified else None,
                revocation=RevocationFacts(
                    False, not_checked_because=f"opening the list stopped at: {stage}"
                ),
            )
        )
    except EcardError as exc:
        return failure(source, kind, exc.message("en"), Observation.UNREADABLE)
    path = signed.path
    if path.crls:
        facts = RevocationFacts(
            True, tuple(CrlFact.of(c) for c in path.crls), reference="the list's issued_at"
        )
        indication, sub = indication_for((ErrorCode.OK, None))
    else:
        facts = RevocationFacts(
            False,
            not_checked_because="no CRL supplied (--crl): the list signer's path was validated "
            "without revocation checking",
            reference="the list's issued_at",
        )
        indication, sub = indication_for(Observation.REVOCATION_NOT_CHECKED)
    common["covered"] = "the whole list: protected header + payload"
    return with_evidence(
        AuditFinding(
            **common,  # type: ignore[arg-type]
            indication=indication,
            sub_indication=sub,
            signer=signed.signer.subject.rfc4514_string(),
            signing_time_claimed=datetime.fromtimestamp(signed.info.issued_at, UTC),
            signature_verified=True,
            data_unchanged=True,
            path=PathFacts(True, tuple(c.subject.rfc4514_string() for c in path.certificates)),
            revocation=facts,
            list_state=f"sequence {signed.info.sequence}, "
            f"next update {signed.next_update.isoformat()}",
            detail=f"sequence {signed.info.sequence}, next update {signed.next_update.isoformat()}",
        )
    )


__all__ = ["list_finding"]
