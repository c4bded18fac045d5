"""Audit reports: every signature in QR texts, QR pictures, signed PDFs and signed lists, with
its ETSI EN 319 102-1 indication and the evidence for the Electronic Signature Law, Art. 13.

Offline: all validation data comes from the inputs (the PDF's embedded certificates and
time-stamps), the trust store, the trust roots and the CRLs supplied. :func:`audit` never raises
for bad input: an input it cannot read is a finding ``TOTAL-FAILED / FORMAT_FAILURE``.

See docs/audit.md for the mapping of ecard codes and pyHanko results to indications.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ecard.crypto.algorithms import describe_algorithm
from ecard.crypto.x509sig import is_signed_by
from ecard.errors import BadListError, EcardError, ErrorCode, Lang
from ecard.formats.cose import parse_sign1
from ecard.formats.lists import TRUST_LIST, read_unverified_list
from ecard.verify.lists import open_list
from ecard.verify.paths import PathValidator
from ecard.verify.revocation import RevocationList
from ecard.verify.trust import TrustStore
from ecard.verify.verifier import VerificationResult, Verifier

Indication = Literal["TOTAL-PASSED", "TOTAL-FAILED", "INDETERMINATE"]
PASSED: Final = "TOTAL-PASSED"
FAILED: Final = "TOTAL-FAILED"
INDETERMINATE: Final = "INDETERMINATE"

#: ecard verifier code -> (indication, sub-indication) for the *signature* (not the card).
_CODE_MAP: Final[dict[ErrorCode, tuple[str, str | None]]] = {
    ErrorCode.OK: (PASSED, None),
    ErrorCode.BAD_PREFIX: (FAILED, "FORMAT_FAILURE"),
    ErrorCode.TRUNCATED: (FAILED, "FORMAT_FAILURE"),
    ErrorCode.BAD_BASE45: (FAILED, "FORMAT_FAILURE"),
    ErrorCode.BAD_COMPRESSION: (FAILED, "FORMAT_FAILURE"),
    ErrorCode.BAD_CBOR: (FAILED, "FORMAT_FAILURE"),
    ErrorCode.BAD_COSE: (FAILED, "FORMAT_FAILURE"),
    ErrorCode.BAD_INPUT: (FAILED, "FORMAT_FAILURE"),
    ErrorCode.BAD_IMAGE: (FAILED, "FORMAT_FAILURE"),
    ErrorCode.UNSUPPORTED_ALG: (INDETERMINATE, "CRYPTO_CONSTRAINTS_FAILURE"),
    ErrorCode.ALG_KEY_MISMATCH: (FAILED, "SIG_CRYPTO_FAILURE"),
    ErrorCode.UNKNOWN_KID: (INDETERMINATE, "NO_CERTIFICATE_CHAIN_FOUND"),
    ErrorCode.BAD_SIGNATURE: (FAILED, "SIG_CRYPTO_FAILURE"),
    ErrorCode.ISSUER_CERT_INVALID: (INDETERMINATE, "CHAIN_CONSTRAINTS_FAILURE"),
    ErrorCode.ISSUER_NOT_AUTHORISED: (INDETERMINATE, "SIG_CONSTRAINTS_FAILURE"),
    ErrorCode.TRUST_LIST_STALE: (INDETERMINATE, "TRY_LATER"),
    ErrorCode.REVOCATION_LIST_STALE: (INDETERMINATE, "TRY_LATER"),
    ErrorCode.BAD_LIST: (FAILED, "FORMAT_FAILURE"),
    ErrorCode.LIST_ROLLBACK: (INDETERMINATE, "SIG_CONSTRAINTS_FAILURE"),
}
#: Codes about the credential's own validity: the signature itself verified.
_CREDENTIAL_CODES: Final = frozenset(
    {
        ErrorCode.BAD_CLAIMS,
        ErrorCode.NOT_YET_VALID,
        ErrorCode.EXPIRED,
        ErrorCode.CARD_EXPIRED,
        ErrorCode.REVOKED,
        ErrorCode.CARD_INACTIVE,
    }
)

COSE_COVERAGE: Final = "the whole credential: protected header + claims"


@dataclass(frozen=True)
class Art13Condition:
    """One condition of Art. 13 of the Electronic Signature Law (电子签名法第十三条)."""

    number: int
    status: Literal["met", "not_met", "unknown"]
    evidence: str

    def to_dict(self) -> dict[str, Any]:
        return {"condition": self.number, "status": self.status, "evidence": self.evidence}


@dataclass(frozen=True)
class AuditFinding:
    """The verdict on one signature (or one unreadable input)."""

    source: str
    kind: str  # qr-text | qr-image | pdf | trust-list | revocation-list | unknown
    indication: str
    sub_indication: str | None = None
    detail: str = ""
    signer: str | None = None
    kid: str | None = None
    algorithm: str | None = None
    certificate_path: tuple[str, ...] = ()
    signing_time_claimed: datetime | None = None
    timestamp_time: datetime | None = None
    revocation_at_signing: str = "unknown"
    covered: str = ""
    covers_whole_file: bool | None = None
    #: What later revisions do (PDF, pyHanko difference analysis): ``"LTA_UPDATES"`` means they
    #: only add validation data and time-stamps; ``None`` when there are none or unknown.
    later_revisions: str | None = None
    credential_status: str | None = None
    own_checks: tuple[str, ...] = ()
    art13: tuple[Art13Condition, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        def iso(t: datetime | None) -> str | None:
            return None if t is None else t.isoformat()

        return {
            "source": self.source,
            "kind": self.kind,
            "indication": self.indication,
            "sub_indication": self.sub_indication,
            "detail": self.detail,
            "signer": self.signer,
            "kid": self.kid,
            "algorithm": self.algorithm,
            "certificate_path": list(self.certificate_path),
            "signing_time": {
                "claimed": iso(self.signing_time_claimed),
                "timestamp": iso(self.timestamp_time),
            },
            "revocation_at_signing": self.revocation_at_signing,
            "covered": self.covered,
            "covers_whole_file": self.covers_whole_file,
            "later_revisions": self.later_revisions,
            "credential_status": self.credential_status,
            "own_checks": list(self.own_checks),
            "art13": [c.to_dict() for c in self.art13],
        }


@dataclass(frozen=True)
class AuditReport:
    """All findings of one audit run."""

    findings: tuple[AuditFinding, ...]
    validated_at: datetime

    @property
    def all_passed(self) -> bool:
        return bool(self.findings) and all(f.indication == PASSED for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "validated_at": self.validated_at.isoformat(),
            "all_passed": self.all_passed,
            "findings": [f.to_dict() for f in self.findings],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    def render(self, lang: Lang = "en") -> str:
        """The report for people, in English or Chinese."""
        t = _LABELS["zh" if lang == "zh" else "en"]
        lines = [f"{t['title']} ({t['at']} {self.validated_at.isoformat()})", ""]
        for n, f in enumerate(self.findings, 1):
            ind = t.get(f.indication, f.indication)
            sub = f" / {f.sub_indication}" if f.sub_indication else ""
            lines.append(f"[{n}] {f.source} ({t.get(f.kind, f.kind)})")
            lines.append(f"    {t['indication']}: {ind} ({f.indication}{sub})")
            if f.detail:
                lines.append(f"    {t['detail']}: {f.detail}")
            rows = [
                ("signer", f.signer),
                ("kid", f.kid),
                ("algorithm", f.algorithm),
                ("path", " <- ".join(f.certificate_path) or None),
                ("claimed", f.signing_time_claimed and f.signing_time_claimed.isoformat()),
                ("timestamp", f.timestamp_time and f.timestamp_time.isoformat()),
                ("revocation", f.revocation_at_signing),
                ("covered", f.covered or None),
                ("credential", f.credential_status),
            ]
            for key, value in rows:
                if value:
                    lines.append(f"    {t[key]}: {value}")
            for check in f.own_checks:
                lines.append(f"    {t['check']}: {check}")
            if f.art13:
                lines.append(f"    {t['art13']}:")
                for c in f.art13:
                    lines.append(
                        f"      ({c.number}) {t['c' + str(c.number)]}: {t['s_' + c.status]}"
                    )
                    lines.append(f"          {c.evidence}")
            lines.append("")
        return "\n".join(lines)


_LABELS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "title": "Signature audit report", "at": "validated at",
        "TOTAL-PASSED": "passed", "TOTAL-FAILED": "failed", "INDETERMINATE": "indeterminate",
        "qr-text": "QR text", "qr-image": "QR picture", "pdf": "signed PDF",
        "trust-list": "trust list", "revocation-list": "revocation list", "unknown": "unknown",
        "indication": "Indication", "detail": "Detail", "signer": "Signer", "kid": "kid",
        "algorithm": "Algorithm", "path": "Certificate path", "claimed": "Claimed signing time",
        "timestamp": "Trusted time-stamp", "revocation": "Revocation status at signing",
        "covered": "Covered", "credential": "Credential validity", "check": "ecard check",
        "art13": "Electronic Signature Law Art. 13",
        "c1": "creation data exclusively owned by the signer",
        "c2": "creation data under the signer's sole control at signing",
        "c3": "any change to the signature is detectable",
        "c4": "any change to the data is detectable",
        "s_met": "met", "s_not_met": "NOT met", "s_unknown": "cannot be established",
    },
    "zh": {
        "title": "电子签名审计报告", "at": "验证时间",
        "TOTAL-PASSED": "通过", "TOTAL-FAILED": "失败", "INDETERMINATE": "无法确定",
        "qr-text": "二维码文本", "qr-image": "二维码图片", "pdf": "签名 PDF",
        "trust-list": "信任列表", "revocation-list": "吊销列表", "unknown": "未知",
        "indication": "结论", "detail": "详情", "signer": "签名人", "kid": "密钥标识",
        "algorithm": "算法", "path": "证书路径", "claimed": "声称的签名时间",
        "timestamp": "可信时间戳", "revocation": "签名时的吊销状态",
        "covered": "签名覆盖范围", "credential": "凭证有效性", "check": "ecard 检查",
        "art13": "《电子签名法》第十三条",
        "c1": "电子签名制作数据用于电子签名时，属于电子签名人专有",
        "c2": "签署时电子签名制作数据仅由电子签名人控制",
        "c3": "签署后对电子签名的任何改动能够被发现",
        "c4": "签署后对数据电文内容和形式的任何改动能够被发现",
        "s_met": "满足", "s_not_met": "不满足", "s_unknown": "无法确定",
    },
}  # fmt: skip


# --- Art. 13 ----------------------------------------------------------------------------------


def _art13(
    indication: str,
    sub: str | None,
    signer: str | None,
    path: Sequence[str],
    covered: str,
    whole: bool | None,
    later: str | None = None,
) -> tuple[Art13Condition, ...]:
    crypto_ok = sub not in ("SIG_CRYPTO_FAILURE", "HASH_FAILURE", "FORMAT_FAILURE") and (
        indication == PASSED or signer is not None
    )
    if signer is not None and path and indication == PASSED:
        c1 = Art13Condition(
            1,
            "met",
            f"certificate issued to {signer}, path {' <- '.join(path)}; whether the key is held "
            "in an HSM is not recorded in the signature (unknown)",
        )
    else:
        c1 = Art13Condition(1, "unknown", "no validated certificate path binds the key to a signer")
    c2 = Art13Condition(
        2,
        "unknown",
        "sole control at signing cannot be proven from the signature; it is the operator's "
        "duty (key custody, HSM access control, issuance journal)",
    )
    if sub in ("SIG_CRYPTO_FAILURE", "FORMAT_FAILURE"):
        c3 = Art13Condition(3, "not_met", f"the signature does not verify ({sub})")
    elif crypto_ok:
        c3 = Art13Condition(3, "met", "the signature value verified under the signer's key")
    else:
        c3 = Art13Condition(3, "unknown", "the signature could not be checked")
    if sub == "HASH_FAILURE":
        c4 = Art13Condition(4, "not_met", "the signed data was changed (digest mismatch)")
    elif crypto_ok and whole is not False:
        c4 = Art13Condition(4, "met", f"signature covers {covered}")
    elif crypto_ok and later in ("NONE", "LTA_UPDATES"):
        c4 = Art13Condition(
            4,
            "met",
            f"signature covers {covered}; difference analysis shows the later revisions only "
            "add validation data and time-stamps",
        )
    elif crypto_ok:
        c4 = Art13Condition(
            4, "unknown", f"signature covers {covered}; later revisions are not covered"
        )
    else:
        c4 = Art13Condition(4, "unknown", "the signature could not be checked")
    return (c1, c2, c3, c4)


def _finding(**kw: Any) -> AuditFinding:
    f = AuditFinding(**kw)
    art = _art13(
        f.indication, f.sub_indication, f.signer, f.certificate_path, f.covered,
        f.covers_whole_file, f.later_revisions,
    )  # fmt: skip
    return AuditFinding(**{**kw, "art13": art})


def _failure(source: str, kind: str, detail: str, sub: str = "FORMAT_FAILURE") -> AuditFinding:
    return _finding(source=source, kind=kind, indication=FAILED, sub_indication=sub, detail=detail)


# --- input kinds ------------------------------------------------------------------------------

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


def _aware(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _subject(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string()


# --- QR credentials ---------------------------------------------------------------------------


def _qr_finding(
    source: str,
    kind: str,
    result: VerificationResult,
    trust: TrustStore | None,
    text: str | None,
) -> AuditFinding:
    code = result.code
    credential_status = None
    if code in _CREDENTIAL_CODES:
        # the signature verified (stages run in order); the credential is what is not valid
        indication, sub = PASSED, None
        credential_status = f"{code.value}: {result.detail}"
    else:
        indication, sub = _CODE_MAP.get(code, (INDETERMINATE, "GENERIC"))
        if code is ErrorCode.OK:
            credential_status = "OK"
    signer = result.issuer
    path: tuple[str, ...] = ()
    revocation = "unknown"
    claimed = result.issued_at
    kid = result.kid
    entry = None
    if trust is not None and kid is not None:
        candidates = trust.lookup(kid)
        entry = next((e for e in candidates if e.subject == signer), None) if signer else None
    if claimed is None and text is not None and kid is not None and signer is not None:
        try:  # the signature verified: its claims may be read for the report
            from ecard.formats import qrtext
            from ecard.formats.cwt import decode_claims

            claimed = decode_claims(parse_sign1(qrtext.decode(text)).payload).issued_at
        except EcardError:
            claimed = None
    if entry is not None:
        if entry.path is not None:
            path = tuple(_subject(c) for c in entry.path.certificates)
            if entry.path.revoked_at is None:
                revocation = "not revoked (certificate path validated with CRLs)"
            elif claimed is not None and claimed >= entry.path.revoked_at:
                revocation = f"revoked at {entry.path.revoked_at.isoformat()}, before signing"
                indication, sub = FAILED, "REVOKED"
            else:
                revocation = f"revoked at {entry.path.revoked_at.isoformat()}, after signing"
        else:
            path = (entry.subject,)
            revocation = "unknown (trusted directly, no certificate path or CRL)"
        compromised = entry.compromised_at_ts
        if compromised is not None and claimed is not None and claimed.timestamp() >= compromised:
            indication, sub = FAILED, "REVOKED"
            revocation = "key marked compromised before signing (trust list)"
    detail = result.message("en") if code is not ErrorCode.OK else ""
    return _finding(
        source=source,
        kind=kind,
        indication=indication,
        sub_indication=sub,
        detail=detail,
        signer=signer,
        kid=None if kid is None else kid.hex(),
        algorithm=None if result.alg is None else describe_algorithm(result.alg),
        certificate_path=path,
        signing_time_claimed=claimed,
        revocation_at_signing=revocation,
        covered=COSE_COVERAGE,
        covers_whole_file=True,
        credential_status=credential_status,
    )


# --- signed lists -----------------------------------------------------------------------------


def _list_finding(
    source: str,
    data: bytes,
    roots: Sequence[x509.Certificate],
    crls: Sequence[x509.CertificateRevocationList],
) -> AuditFinding:
    try:
        msg, info, _ = read_unverified_list(data)
    except BadListError:
        return _failure(
            source, "unknown", "a COSE_Sign1 that is neither a trust nor a revocation list"
        )
    except EcardError as exc:
        return _failure(source, "unknown", exc.message("en"))
    expected = info.type
    kind = "trust-list" if expected == TRUST_LIST else "revocation-list"
    if not roots:
        return _finding(
            source=source, kind=kind, indication=INDETERMINATE,
            sub_indication="NO_CERTIFICATE_CHAIN_FOUND", detail="no trust root given",
            kid=msg.kid.hex(), covered=COSE_COVERAGE, covers_whole_file=True,
        )  # fmt: skip
    try:
        validator = PathValidator(roots, crls=crls, revocation="require" if crls else "off")
        signed = open_list(data, expected_type=expected, validator=validator)
    except EcardError as exc:
        text = exc.detail
        if "signature does not verify" in text:
            sub = "SIG_CRYPTO_FAILURE"
        elif "revoked" in text:
            sub = "REVOKED"
        elif "certificate" in text:
            return _finding(
                source=source, kind=kind, indication=INDETERMINATE,
                sub_indication="NO_CERTIFICATE_CHAIN_FOUND", detail=exc.message("en"),
                kid=msg.kid.hex(), covered=COSE_COVERAGE, covers_whole_file=True,
            )  # fmt: skip
        else:
            sub = "FORMAT_FAILURE"
        return _finding(
            source=source, kind=kind, indication=FAILED, sub_indication=sub,
            detail=exc.message("en"), kid=msg.kid.hex(), covered=COSE_COVERAGE,
            covers_whole_file=True,
        )  # fmt: skip
    return _finding(
        source=source,
        kind=kind,
        indication=PASSED,
        signer=_subject(signed.signer),
        kid=msg.kid.hex(),
        algorithm=describe_algorithm(msg.alg),
        certificate_path=tuple(_subject(c) for c in signed.path.certificates),
        signing_time_claimed=datetime.fromtimestamp(signed.info.issued_at, UTC),
        revocation_at_signing="not revoked (path validated with the CRLs at issued_at)",
        covered="the whole list: protected header + payload",
        covers_whole_file=True,
        detail=f"sequence {signed.info.sequence}, next update {signed.next_update.isoformat()}",
    )


# --- PDFs -------------------------------------------------------------------------------------


def _tst_time(signer_info: Any) -> datetime | None:
    attrs = signer_info["unsigned_attrs"]
    if not attrs or attrs.native is None:
        return None
    for attr in attrs:
        if attr["type"].native == "signature_time_stamp_token":
            token = attr["values"][0]
            tst = token["content"]["encap_content_info"]["content"].parsed
            when = tst["gen_time"].native
            return _aware(when) if isinstance(when, datetime) else None
    return None


def _chain(leaf: x509.Certificate, pool: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    path = [leaf]
    while path[-1].issuer != path[-1].subject and len(path) < 10:
        nxt = next((c for c in pool if c.subject == path[-1].issuer and c not in path), None)
        if nxt is None:
            break
        path.append(nxt)
    return path


def _crl_revocation(
    path: Sequence[x509.Certificate], crls: Sequence[x509.CertificateRevocationList]
) -> tuple[datetime, str] | None:
    """The earliest revocation of a certificate in ``path`` by a CRL signed by its issuer."""
    found: list[tuple[datetime, str]] = []
    for i, cert in enumerate(path[:-1]):
        issuer = path[i + 1]
        for crl in crls:
            if crl.issuer != issuer.subject:
                continue
            if not is_signed_by(crl, issuer):  # SM2 included; False if it cannot be checked
                continue
            entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
            if entry is not None:
                found.append((_aware(entry.revocation_date_utc), _subject(cert)))
    return min(found) if found else None


def _pdf_findings(
    source: str,
    data: bytes,
    roots: Sequence[x509.Certificate],
    crls: Sequence[x509.CertificateRevocationList],
    now: datetime,
) -> list[AuditFinding]:
    from asn1crypto import crl as asn1_crl
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.ades import ades_lta_validation
    from pyhanko.sign.validation.policy_decl import (
        LocalKnowledge,
        PdfSignatureValidationSpec,
        RevinfoOnlineFetchingRule,
        RevocationInfoGatheringSpec,
        SignatureValidationSpec,
    )
    from pyhanko.sign.validation.settings import KeyUsageConstraints
    from pyhanko_certvalidator.context import CertValidationPolicySpec
    from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
    from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, CertRevTrustPolicy
    from pyhanko_certvalidator.registry import SimpleTrustManager
    from pyhanko_certvalidator.revinfo.archival import CRLContainer

    der = serialization.Encoding.DER
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        all_sigs = list(reader.embedded_signatures)
        sigs = [s for s in all_sigs if s.sig_object_type == "/Sig"]
        doc_ts = any(s.sig_object_type == "/DocTimeStamp" for s in all_sigs)
    except Exception as exc:
        return [_failure(source, "pdf", f"cannot read the PDF ({type(exc).__name__}: {exc})")]
    if not sigs:
        return [_failure(source, "pdf", "no signature in the PDF", "SIGNED_DATA_NOT_FOUND")]
    spec = PdfSignatureValidationSpec(
        SignatureValidationSpec(
            cert_validation_policy=CertValidationPolicySpec(
                trust_manager=SimpleTrustManager.build(
                    trust_roots=[asn1_x509.Certificate.load(c.public_bytes(der)) for c in roots]
                ),
                revinfo_policy=CertRevTrustPolicy(REQUIRE_REVINFO),
            ),
            revinfo_gathering_policy=RevocationInfoGatheringSpec(
                online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY
            ),
            local_knowledge=LocalKnowledge(
                known_crls=[
                    CRLContainer(asn1_crl.CertificateList.load(c.public_bytes(der))) for c in crls
                ]
            ),
            key_usage_settings=KeyUsageConstraints(key_usage={"digital_signature"}),
        )
    )
    timing = ValidationTimingInfo(now, now, point_in_time_validation=True)
    out = []
    for n, sig in enumerate(sigs, 1):
        name = f"{source}#{sig.field_name or n}"
        try:
            out.append(
                _one_pdf_signature(
                    name, sig, spec, timing, roots, crls, now, ades_lta_validation, doc_ts
                )
            )
        except Exception as exc:  # never raise for bad input
            out.append(_failure(name, "pdf", f"{type(exc).__name__}: {exc}"))
    return out


def _one_pdf_signature(
    source: str,
    sig: Any,
    spec: Any,
    timing: Any,
    roots: Sequence[x509.Certificate],
    crls: Sequence[x509.CertificateRevocationList],
    now: datetime,
    validate: Any,
    doc_timestamps: bool,
) -> AuditFinding:
    from pyhanko.sign.ades.report import AdESStatus

    if _tst_time(sig.signer_info) is None:
        # no signature time-stamp: pyHanko's §5.5/§5.6 processes demand one
        # (SIG_CONSTRAINTS_FAILURE); a B-B signature gets the basic validation of §5.3
        from pyhanko.sign.validation.ades import ades_basic_validation

        result = asyncio.run(
            ades_basic_validation(
                sig.signed_data,
                spec.signature_validation_spec,
                timing_info=timing,
                raw_digest=sig.compute_digest(),
            )
        )
    elif not doc_timestamps:
        # B-T / B-LT: validation with time (§5.5), the signature time-stamp as POE
        from pyhanko.sign.validation.ades import ades_with_time_validation

        result = asyncio.run(
            ades_with_time_validation(
                sig.signed_data,
                spec.signature_validation_spec,
                timing_info=timing,
                raw_digest=sig.compute_digest(),
            )
        )
    else:
        # B-LTA: long-term validation (§5.6.3) with the document time-stamp chain
        result = asyncio.run(validate(sig, spec, timing_info=timing))
    status = result.ades_subindic.status
    indication = {
        AdESStatus.PASSED: PASSED,
        AdESStatus.FAILED: FAILED,
        AdESStatus.INDETERMINATE: INDETERMINATE,
    }[status]
    sub: str | None = (
        None
        if indication == PASSED
        else str(getattr(result.ades_subindic, "name", result.ades_subindic))
    )
    detail = result.failure_msg or ""
    signer_cert = x509.load_der_x509_certificate(sig.signer_cert.dump())
    embedded = [x509.load_der_x509_certificate(c.dump()) for c in sig.other_embedded_certs]
    path = _chain(signer_cert, [*embedded, *roots])
    tst = _tst_time(sig.signer_info)
    claimed = sig.self_reported_timestamp
    claimed = None if claimed is None else _aware(claimed)
    nb, na = signer_cert.not_valid_before_utc, signer_cert.not_valid_after_utc
    checks: list[str] = []
    # our own check: the signer certificate must be valid at the trusted time-stamp
    override: tuple[str, str] | None = None
    if tst is not None:
        if tst < nb:
            override = (FAILED, "NOT_YET_VALID")
            checks.append(f"time-stamp {tst.isoformat()} is before the signer certificate's "
                          f"notBefore {nb.isoformat()}")  # fmt: skip
        elif tst > na:
            override = (INDETERMINATE, "OUT_OF_BOUNDS_NO_POE")
            checks.append(f"time-stamp {tst.isoformat()} is after the signer certificate's "
                          f"notAfter {na.isoformat()}")  # fmt: skip
        else:
            checks.append("signer certificate valid at the time-stamp: yes")
    elif now > na:
        override = (INDETERMINATE, "OUT_OF_BOUNDS_NO_POE")
        checks.append(f"no time-stamp, and the signer certificate expired {na.isoformat()} "
                      "before the validation time: no proof the signature existed before")  # fmt: skip
    elif now < nb:
        override = (FAILED, "NOT_YET_VALID")
        checks.append("the signer certificate is not yet valid at the validation time")
    # revocation as of signing, from the supplied CRLs
    revoked = _crl_revocation(path, crls)
    when = tst or now
    if revoked is None:
        revocation = "not revoked per supplied CRLs" if crls else "unknown (no CRL supplied)"
    else:
        at, who = revoked
        if tst is not None and at <= tst:
            revocation = f"{who} revoked at {at.isoformat()}, before the time-stamp"
            override = override if override and override[0] == FAILED else (FAILED, "REVOKED")
        elif tst is None and at <= when:
            revocation = (f"{who} revoked at {at.isoformat()}; no time-stamp proves the "
                          "signature existed before")  # fmt: skip
            if override is None or override[0] != FAILED:
                override = (INDETERMINATE, "REVOKED_NO_POE")
        else:
            revocation = f"{who} revoked at {at.isoformat()}, after the time-stamp"
    if (override is not None and indication != FAILED) or (
        override is not None
        and override[0] == FAILED
        and sub not in (override[1], "HASH_FAILURE", "SIG_CRYPTO_FAILURE", "FORMAT_FAILURE")
    ):
        indication, sub = override
    # coverage
    covered, whole = "unknown", None
    try:
        from pyhanko.sign.validation.status import SignatureCoverageLevel

        level = sig.evaluate_signature_coverage()
        br = list(sig.byte_range)
        whole = level == SignatureCoverageLevel.ENTIRE_FILE
        covered = (f"byte ranges {br} ({level.name}; "
                   f"{'the whole file' if whole else 'not the whole file: later revisions follow'})")  # fmt: skip
    except Exception as exc:
        covered = f"unknown ({type(exc).__name__})"
    later: str | None = None
    if whole is False:
        try:
            from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, ModificationLevel

            sig.compute_integrity_info(DEFAULT_DIFF_POLICY)  # sets coverage and diff_result
            mod = getattr(sig.diff_result, "modification_level", None)
            later = mod.name if isinstance(mod, ModificationLevel) else "SUSPICIOUS"
        except Exception as exc:  # a suspicious modification is reported, never raised
            later = f"SUSPICIOUS ({type(exc).__name__})"
    algo = sig.signer_info["signature_algorithm"]["algorithm"].native
    return _finding(
        source=source,
        kind="pdf",
        indication=indication,
        sub_indication=sub,
        detail=detail,
        signer=_subject(signer_cert),
        algorithm=f"{algo} ({sig.md_algorithm})",
        certificate_path=tuple(_subject(c) for c in path),
        signing_time_claimed=claimed,
        timestamp_time=tst,
        revocation_at_signing=revocation,
        covered=covered,
        covers_whole_file=whole,
        later_revisions=later,
        own_checks=tuple(checks),
    )


# --- entry point ------------------------------------------------------------------------------


def audit(
    paths_or_bytes: Iterable[str | Path | bytes],
    *,
    trust: TrustStore | None = None,
    roots: Sequence[x509.Certificate] = (),
    crls: Sequence[x509.CertificateRevocationList] = (),
    revocations: RevocationList | None = None,
    now: datetime | None = None,
) -> AuditReport:
    """Audit every signature in the inputs (file paths or raw bytes); never raises for bad input.

    ``trust`` verifies QR credentials; ``roots`` (trust anchors, incl. the TSA's root) and
    ``crls`` validate PDF signatures and signed lists; ``revocations`` is the card revocation
    list; ``now`` is the validation time (default: the current time).
    """
    at = _aware(now) if now is not None else datetime.now(UTC)
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
                data = Path(item).read_bytes()
            except OSError as exc:
                findings.append(_failure(source, "unknown", f"cannot read: {exc.strerror}"))
                continue
        try:
            findings.extend(_audit_one(source, data, verifier, trust, roots_l, crls_l, at))
        except Exception as exc:  # pragma: no cover - a bug must not stop the audit
            findings.append(_failure(source, "unknown", f"internal error: {type(exc).__name__}"))
    return AuditReport(findings=tuple(findings), validated_at=at)


def _audit_one(
    source: str,
    data: bytes,
    verifier: Verifier | None,
    trust: TrustStore | None,
    roots: Sequence[x509.Certificate],
    crls: Sequence[x509.CertificateRevocationList],
    now: datetime,
) -> list[AuditFinding]:
    kind = _kind(data)
    if kind == "pdf":
        return _pdf_findings(source, data, roots, crls, now)
    if kind == "list":
        return [_list_finding(source, data, roots, crls)]
    if kind in ("qr-text", "qr-image"):
        if kind == "qr-image":
            from ecard.formats.qrimage import read_texts

            try:
                texts = read_texts(data)
            except EcardError as exc:
                return [_failure(source, kind, exc.message("en"))]
        else:
            lines = data.decode("ascii", errors="replace").splitlines()
            texts = [ln.strip() for ln in lines if ln.strip().startswith("EC1:")]
        if verifier is None:
            return [
                _finding(source=source, kind=kind, indication=INDETERMINATE,
                         sub_indication="NO_CERTIFICATE_CHAIN_FOUND",
                         detail="no trust store given for QR credentials")
            ]  # fmt: skip
        return [
            _qr_finding(
                f"{source}:{i}" if len(texts) > 1 else source, kind,
                verifier.verify(t, now=now), trust, t,
            )
            for i, t in enumerate(texts, 1)
        ]  # fmt: skip
    return [_failure(source, "unknown", "not a QR text, picture, PDF or signed list")]


__all__ = ["Art13Condition", "AuditFinding", "AuditReport", "audit"]
