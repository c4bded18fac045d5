"""Findings for the signatures of a PDF: pyHanko's AdES result (:mod:`ecard.pdf.validate`),
then ecard's own checks on the signer certificate's validity and revocation at the time-stamp,
each an :class:`~ecard.audit.indications.Observation` looked up in the one table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cryptography import x509

from ecard.audit.evidence import with_evidence
from ecard.audit.findings import AuditFinding, CrlFact, PathFacts, RevocationFacts
from ecard.audit.indications import (
    CRYPTOGRAPHIC,
    FAILED,
    INDETERMINATE,
    PASSED,
    Observation,
    indication_for,
)
from ecard.crypto.x509 import ECARD_SIGNING_EKU
from ecard.errors import EcardError
from ecard.pdf.validate import PdfSignatureError, PdfSignatureFacts, validate_pdf

_STATUS = {"PASSED": PASSED, "FAILED": FAILED, "INDETERMINATE": INDETERMINATE}


def _subject(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string()


#: pyHanko modification levels of later revisions that leave what the page shows as signed:
#: none, validation data and time-stamps (LTA), form filling, annotations.
ALLOWED_LATER_REVISIONS = frozenset({"NONE", "LTA_UPDATES", "FORM_FILLING", "ANNOTATIONS"})


def has_eku(cert: x509.Certificate, eku: x509.ObjectIdentifier) -> bool:
    """Whether ``cert`` asserts the extended key usage ``eku``."""
    try:
        return eku in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return False


def failure(source: str, kind: str, detail: str, key: Observation) -> AuditFinding:
    """A finding for an input that yields no signature to judge."""
    indication, sub = indication_for(key)
    return with_evidence(
        AuditFinding(
            source=source,
            kind=kind,
            indication=indication,
            sub_indication=sub,
            detail=detail,
            signature_verified=False if key is Observation.UNREADABLE else None,
        )
    )


def pdf_findings(
    source: str,
    data: bytes,
    roots: Sequence[x509.Certificate],
    crls: Sequence[x509.CertificateRevocationList],
    now: datetime,
) -> list[AuditFinding]:
    """One finding per ``/Sig`` signature of the PDF ``data``."""
    try:
        results = validate_pdf(data, roots=roots, crls=crls, now=now)
    except EcardError as exc:
        return [failure(source, "pdf", exc.detail, Observation.UNREADABLE)]
    if not results:
        return [failure(source, "pdf", "no signature in the PDF", Observation.NO_SIGNATURE)]
    out = []
    for facts in results:
        name = f"{source}#{facts.field}"
        if isinstance(facts, PdfSignatureError):
            out.append(failure(name, "pdf", facts.error, Observation.UNREADABLE))
        else:
            out.append(_finding(name, facts, crls, now))
    return out


def _observations(
    facts: PdfSignatureFacts, now: datetime
) -> tuple[list[Observation], list[str], RevocationFacts]:
    """ecard's own checks: the signer certificate's validity at the time-stamp (or now) and
    revocation per the supplied CRLs."""
    seen: list[Observation] = []
    notes: list[str] = []
    tst = facts.timestamp
    nb, na = facts.signer.not_valid_before_utc, facts.signer.not_valid_after_utc
    if tst is not None:
        if tst < nb:
            seen.append(Observation.TIMESTAMP_BEFORE_CERTIFICATE)
            notes.append(f"time-stamp {tst.isoformat()} is before the signer certificate's "
                         f"notBefore {nb.isoformat()}")  # fmt: skip
        elif tst > na:
            seen.append(Observation.TIMESTAMP_AFTER_CERTIFICATE)
            notes.append(f"time-stamp {tst.isoformat()} is after the signer certificate's "
                         f"notAfter {na.isoformat()}")  # fmt: skip
        else:
            notes.append("signer certificate valid at the time-stamp: yes")
    elif now > na:
        seen.append(Observation.EXPIRED_WITHOUT_TIMESTAMP)
        notes.append(f"no time-stamp, and the signer certificate expired {na.isoformat()} "
                     "before the validation time: no proof the signature existed before")  # fmt: skip
    elif now < nb:
        seen.append(Observation.CERTIFICATE_NOT_YET_VALID)
        notes.append("the signer certificate is not yet valid at the validation time")
    if not has_eku(facts.signer, ECARD_SIGNING_EKU):
        seen.append(Observation.NOT_A_CARD_SIGNER)
        notes.append("the signer certificate lacks the e-card signing usage "
                     f"({ECARD_SIGNING_EKU.dotted_string})")  # fmt: skip
    if facts.later_revisions is not None and facts.later_revisions not in ALLOWED_LATER_REVISIONS:
        seen.append(Observation.MODIFIED_AFTER_SIGNING)
        notes.append(f"a later revision changes the document ({facts.later_revisions}), "
                     "beyond validation data, form filling and annotations")  # fmt: skip
    reference = "the time-stamp" if tst is not None else "the validation time"
    revoked = facts.revocation
    checked = bool(facts.crls)
    revocation = RevocationFacts(
        checked=checked,
        crls=tuple(CrlFact.of(c) for c in facts.crls),
        not_checked_because=None if checked else "no CRL supplied by an issuer of the path",
        reference=reference,
    )
    if revoked is not None:
        before = revoked.at <= (tst or now)
        revocation = RevocationFacts(
            checked=True,
            crls=revocation.crls,
            revoked=_subject(revoked.certificate),
            revoked_at=revoked.at,
            before=before,
            reference=reference,
        )
        if before:
            seen.append(
                Observation.REVOKED_BEFORE_TIMESTAMP
                if tst is not None
                else Observation.REVOKED_NO_POE
            )
    return seen, notes, revocation


def _finding(
    source: str,
    facts: PdfSignatureFacts,
    crls: Sequence[x509.CertificateRevocationList],
    now: datetime,
) -> AuditFinding:
    indication, sub = _STATUS[facts.status], facts.sub_indication
    seen, notes, revocation = _observations(facts, now)
    # the first FAILED observation, else the last one: it replaces a result that is not
    # TOTAL-FAILED, and a TOTAL-FAILED one with a less specific reason (never a cryptographic one)
    verdicts = [indication_for(o) for o in seen]
    chosen = next((v for v in verdicts if v[0] == FAILED), verdicts[-1] if verdicts else None)
    if chosen is not None and (
        indication != FAILED or (chosen[0] == FAILED and sub not in (chosen[1], *CRYPTOGRAPHIC))
    ):
        indication, sub = chosen
    path_ok = facts.status == "PASSED"  # pyHanko validated the path (with revocation data)
    signature_verified = None if facts.intact is False else facts.valid
    if facts.sub_indication == "SIG_CRYPTO_FAILURE":
        signature_verified = False
    return with_evidence(
        AuditFinding(
            source=source,
            kind="pdf",
            indication=indication,
            sub_indication=sub,
            detail=facts.failure,
            signer=_subject(facts.signer),
            algorithm=facts.algorithm,
            signing_time_claimed=facts.claimed,
            timestamp_time=facts.timestamp,
            signature_verified=signature_verified,
            data_unchanged=facts.intact,
            path=PathFacts(path_ok, tuple(_subject(c) for c in facts.path)),
            revocation=revocation,
            covered=facts.covered,
            covers_whole_file=facts.whole_file,
            later_revisions=facts.later_revisions,
            own_checks=(*notes, *(f"pyHanko {line}" for line in facts.log)),
        )
    )


__all__ = ["ALLOWED_LATER_REVISIONS", "failure", "has_eku", "pdf_findings"]
