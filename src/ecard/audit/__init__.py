"""The audit room: every signature in QR texts, QR pictures, signed PDFs and signed lists, with
its ETSI EN 319 102-1 indication and the evidence for the Electronic Signature Law, Art. 13.

Contract: offline (all validation data comes from the inputs, the trust store, the roots and
the CRLs supplied); :func:`audit` never raises for bad input (an unreadable input is a finding
``TOTAL-FAILED / FORMAT_FAILURE``); every indication comes from the one table of
:mod:`ecard.audit.indications`, keyed by structured error reasons and the audit's own
observations, never by error text; every piece of evidence is written from the facts of the
checks that ran (:mod:`ecard.audit.findings`, :mod:`ecard.audit.evidence`). An auditor holds no
key: this room never imports :mod:`ecard.signing` (a contract in ``pyproject.toml``).

Rooms: :mod:`~ecard.audit.cards` (QR credentials), :mod:`~ecard.audit.lists` (signed lists),
:mod:`~ecard.audit.pdfs` (PAdES, over :mod:`ecard.pdf.validate`), :mod:`~ecard.audit.report`
(rendering). See docs/audit.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Final

from cryptography import x509

from ecard._files import MAX_IMAGE_FILE, MAX_INPUT_FILE, read_file
from ecard._time import system_clock, utc
from ecard.audit.cards import qr_finding
from ecard.audit.findings import (
    Art13Condition,
    AuditFinding,
    Check,
    CrlFact,
    PathFacts,
    RevocationFacts,
)
from ecard.audit.indications import FAILED, INDETERMINATE, PASSED, Indication, Observation
from ecard.audit.lists import list_finding
from ecard.audit.pdfs import failure, pdf_findings
from ecard.audit.report import AuditReport
from ecard.errors import BadInputError, EcardError
from ecard.verify.revocation import RevocationList
from ecard.verify.trust import TrustStore
from ecard.verify.verifier import Verifier

_IMAGE_MAGIC: Final = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"RIFF", b"BM", b"II*\x00", b"MM\x00*")


def _kind(data: bytes) -> str:
    head = data.lstrip()[:8]
    if head.startswith(b"%PDF"):
        return "pdf"
    if data[:1] == b"\xd2":
        return "list"
    if any(data.startswith(m) for m in _IMAGE_MAGIC):
        return "qr-image"
    if head.startswith(b"EC1:"):
        return "qr-text"
    return "unknown"


def audit(
    paths_or_bytes: Iterable[str | Path | bytes],
    *,
    trust: TrustStore | None = None,
    roots: Sequence[x509.Certificate] = (),
    crls: Sequence[x509.CertificateRevocationList] = (),
    revocations: RevocationList | None = None,
    now: datetime | None = None,
    check_revocation: bool = True,
) -> AuditReport:
    """Audit every signature in the inputs (file paths or raw bytes); never raises for bad input.

    ``trust`` verifies QR credentials; ``roots`` (trust anchors, incl. the TSA's root) and
    ``crls`` validate PDF signatures and signed lists; ``revocations`` is the card revocation
    list; ``now`` is the validation time (aware; default: the current time).
    ``check_revocation=False`` lets a QR credential whose signer's path was validated without
    CRLs pass, its finding saying revocation was not checked (dangerous: a revoked signer
    passes too); by default such a credential is INDETERMINATE / TRY_LATER. Pictures larger
    than :data:`ecard._files.MAX_IMAGE_FILE` bytes are refused before decoding.
    """
    at = utc(now, "now") if now is not None else system_clock()
    roots_l = list(roots)
    if trust is not None:
        for issuer in trust:
            if issuer.path is not None:
                top = issuer.path.certificates[-1]
                if top not in roots_l:
                    roots_l.append(top)
    crls_l = list(crls)
    verifier = Verifier(trust, revocations=revocations) if trust is not None else None
    findings: list[AuditFinding] = []
    for n, item in enumerate(paths_or_bytes, 1):
        if isinstance(item, bytes | bytearray):
            source, data = f"input {n}", bytes(item)
        else:
            source = str(item)
            try:
                data = read_file(item, BadInputError, max_size=MAX_INPUT_FILE)
            except BadInputError as exc:
                findings.append(failure(source, "unknown", exc.detail, Observation.UNREADABLE))
                continue
        try:
            findings.extend(
                _audit_one(source, data, verifier, trust, roots_l, crls_l, at, check_revocation)
            )
        except Exception as exc:  # pragma: no cover - a bug must not stop the audit
            findings.append(
                failure(source, "unknown", f"internal error: {type(exc).__name__}",
                        Observation.UNREADABLE)
            )  # fmt: skip
    return AuditReport(findings=tuple(findings), validated_at=at)


def _audit_one(
    source: str,
    data: bytes,
    verifier: Verifier | None,
    trust: TrustStore | None,
    roots: Sequence[x509.Certificate],
    crls: Sequence[x509.CertificateRevocationList],
    now: datetime,
    check_revocation: bool = True,
) -> list[AuditFinding]:
    kind = _kind(data)
    if kind == "pdf":
        return pdf_findings(source, data, roots, crls, now)
    if kind == "list":
        return [list_finding(source, data, roots, crls, now)]
    if kind == "unknown":
        return [
            failure(source, "unknown", "not a QR text, picture, PDF or signed list",
                    Observation.UNREADABLE)
        ]  # fmt: skip
    if kind == "qr-image":
        from ecard.formats.qrimage import read_texts

        if len(data) > MAX_IMAGE_FILE:
            return [
                failure(source, kind, f"picture too large ({len(data)} bytes, at most "
                        f"{MAX_IMAGE_FILE})", Observation.UNREADABLE)
            ]  # fmt: skip
        try:
            texts = read_texts(data)
        except EcardError as exc:
            return [failure(source, kind, exc.message("en"), Observation.UNREADABLE)]
    else:
        lines = data.decode("ascii", errors="replace").splitlines()
        texts = [ln.strip() for ln in lines if ln.strip().startswith("EC1:")]
    if verifier is None or trust is None:
        return [
            failure(source, kind, "no trust store given for QR credentials",
                    Observation.NO_TRUST_ANCHOR)
        ]  # fmt: skip
    return [
        qr_finding(f"{source}:{i}" if len(texts) > 1 else source, kind,
                   verifier.verify(t, now=now), trust, t, check_revocation=check_revocation)
        for i, t in enumerate(texts, 1)
    ]  # fmt: skip


__all__ = [
    "FAILED",
    "INDETERMINATE",
    "PASSED",
    "Art13Condition",
    "AuditFinding",
    "AuditReport",
    "Check",
    "CrlFact",
    "Indication",
    "Observation",
    "PathFacts",
    "RevocationFacts",
    "audit",
]
