"""Validating the PAdES signatures of a PDF, offline, with pyHanko: what an auditor needs.

:func:`validate_pdf` reads every ``/Sig`` signature of a PDF and returns, per signature, the
facts an audit judges it by (:class:`PdfSignatureFacts`): pyHanko's ETSI EN 319 102-1 status
and sub-indication, the signer certificate and its path, the claimed and time-stamped signing
times, the revocation found in the supplied CRLs (by :func:`ecard.crypto.crl.path_revocation`,
the one CRL scan), the byte ranges covered and what later revisions do. It holds no key and
never imports :mod:`ecard.signing`; pyHanko's async API runs through
:func:`ecard._async.run_sync`, so it also works inside a running event loop.

The validation process follows the PDF: no signature time-stamp (B-B) is basic validation
(§5.3), a signature time-stamp (B-T, B-LT) validation with time (§5.5), document time-stamps
(B-LTA) long-term validation (§5.6.3). Validation data comes only from the PDF, the ``roots``
(trust anchors, the TSA's root included) and the ``crls``; nothing is fetched.

What pyHanko logs while reading and validating (:data:`PYHANKO_LOGGERS`) is kept in each
signature's :attr:`PdfSignatureFacts.log`, never passed to standard error or the root logger.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ecard._async import run_sync
from ecard.crypto.crl import Revocation, issuer_crls, path_revocation
from ecard.errors import BadInputError

Status = Literal["PASSED", "FAILED", "INDETERMINATE"]


@dataclass(frozen=True)
class PdfSignatureFacts:
    """One PDF signature as validated.

    ``status``/``sub_indication`` are pyHanko's AdES result (sub-indication ``None`` when
    PASSED); ``intact`` whether the digest of the signed byte ranges matches and ``valid``
    whether the signature value verifies (``None`` when pyHanko did not get that far);
    ``path`` runs from the signer to a trust anchor as far as the embedded certificates and the
    roots reach; ``crls`` are the supplied CRLs issued and signed by an issuer on that path and
    ``revocation`` the earliest revocation they list; ``whole_file`` is ``False`` when later
    revisions follow, and ``later_revisions`` is then pyHanko's modification level for them.
    """

    field: str
    status: Status
    sub_indication: str | None
    failure: str
    signer: x509.Certificate
    path: tuple[x509.Certificate, ...]
    algorithm: str
    claimed: datetime | None
    timestamp: datetime | None
    intact: bool | None
    valid: bool | None
    crls: tuple[x509.CertificateRevocationList, ...]
    revocation: Revocation | None
    covered: str
    whole_file: bool | None
    later_revisions: str | None
    #: what pyHanko logged while validating this signature (kept here, not on stderr)
    log: tuple[str, ...] = ()


@dataclass(frozen=True)
class PdfSignatureError:
    """A signature that could not be processed at all: ``error`` says why."""

    field: str
    error: str


#: pyHanko's loggers: their records are collected into the facts instead of standard error.
PYHANKO_LOGGERS = ("pyhanko", "pyhanko_certvalidator")


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):
            self.messages.append(f"{record.levelname.lower()}: {record.getMessage()}")


@contextlib.contextmanager
def _pyhanko_log() -> Iterator[list[str]]:
    """Collect pyHanko's log records (and keep them off standard error) while validating."""
    handler = _Collect()
    loggers = [logging.getLogger(name) for name in PYHANKO_LOGGERS]
    saved = [(lg.propagate, lg.level) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.propagate = False
        if lg.level == logging.NOTSET or lg.level > logging.INFO:
            lg.setLevel(logging.INFO)
    try:
        yield handler.messages
    finally:
        for lg, (propagate, level) in zip(loggers, saved, strict=True):
            lg.removeHandler(handler)
            lg.propagate = propagate
            lg.setLevel(level)


def _aware(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


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


def validate_pdf(
    data: bytes,
    *,
    roots: Sequence[x509.Certificate],
    crls: Sequence[x509.CertificateRevocationList],
    now: datetime,
) -> list[PdfSignatureFacts | PdfSignatureError]:
    """The facts of every ``/Sig`` signature of ``data``, in document order (empty: none).

    Raises :class:`~ecard.errors.BadInputError` if the PDF cannot be read; a signature that
    cannot be processed is a :class:`PdfSignatureError`, never an exception.
    """
    from asn1crypto import crl as asn1_crl
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
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
        with _pyhanko_log() as reading:
            reader = PdfFileReader(io.BytesIO(data), strict=False)
            all_sigs = list(reader.embedded_signatures)
            sigs = [s for s in all_sigs if s.sig_object_type == "/Sig"]
            doc_ts = any(s.sig_object_type == "/DocTimeStamp" for s in all_sigs)
    except Exception as exc:
        raise BadInputError(f"cannot read the PDF ({type(exc).__name__}: {exc})") from None
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
    out: list[PdfSignatureFacts | PdfSignatureError] = []
    for n, sig in enumerate(sigs, 1):
        name = str(sig.field_name or n)
        with _pyhanko_log() as log:
            try:
                facts = _one(name, sig, spec, timing, roots, crls, doc_ts)
                out.append(dataclasses.replace(facts, log=(*reading, *log)))
            except Exception as exc:  # never raise for bad input
                out.append(PdfSignatureError(name, f"{type(exc).__name__}: {exc}"))
    return out


def _one(
    name: str,
    sig: Any,
    spec: Any,
    timing: Any,
    roots: Sequence[x509.Certificate],
    crls: Sequence[x509.CertificateRevocationList],
    doc_timestamps: bool,
) -> PdfSignatureFacts:
    from pyhanko.sign.ades.report import AdESStatus
    from pyhanko.sign.validation import ades

    tst = _tst_time(sig.signer_info)
    validation = spec.signature_validation_spec
    if tst is None:
        # no signature time-stamp: pyHanko's §5.5/§5.6 processes demand one
        # (SIG_CONSTRAINTS_FAILURE); a B-B signature gets the basic validation of §5.3
        result = run_sync(
            lambda: ades.ades_basic_validation(
                sig.signed_data, validation, timing_info=timing, raw_digest=sig.compute_digest()
            )
        )
    elif not doc_timestamps:
        # B-T / B-LT: validation with time (§5.5), the signature time-stamp as POE
        result = run_sync(
            lambda: ades.ades_with_time_validation(
                sig.signed_data, validation, timing_info=timing, raw_digest=sig.compute_digest()
            )
        )
    else:
        # B-LTA: long-term validation (§5.6.3) with the document time-stamp chain
        result = run_sync(lambda: ades.ades_lta_validation(sig, spec, timing_info=timing))
    statuses: dict[Any, Status] = {
        AdESStatus.PASSED: "PASSED",
        AdESStatus.FAILED: "FAILED",
        AdESStatus.INDETERMINATE: "INDETERMINATE",
    }
    status = statuses[result.ades_subindic.status]
    sub = None if status == "PASSED" else str(getattr(result.ades_subindic, "name", ""))
    api = result.api_status
    signer_cert = x509.load_der_x509_certificate(sig.signer_cert.dump())
    embedded = [x509.load_der_x509_certificate(c.dump()) for c in sig.other_embedded_certs]
    path = _chain(signer_cert, [*embedded, *roots])
    used: list[x509.CertificateRevocationList] = []
    for issuer in path[1:]:
        used.extend(c for c in issuer_crls(issuer, crls) if c not in used)
    claimed = sig.self_reported_timestamp
    covered, whole = "unknown", None
    try:
        from pyhanko.sign.validation.status import SignatureCoverageLevel

        level = sig.evaluate_signature_coverage()
        whole = level == SignatureCoverageLevel.ENTIRE_FILE
        covered = (
            f"byte ranges {list(sig.byte_range)} ({level.name}; "
            f"{'the whole file' if whole else 'not the whole file: later revisions follow'})"
        )
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
    return PdfSignatureFacts(
        field=name,
        status=status,
        sub_indication=sub,
        failure=result.failure_msg or "",
        signer=signer_cert,
        path=tuple(path),
        algorithm=f"{algo} ({sig.md_algorithm})",
        claimed=None if claimed is None else _aware(claimed),
        timestamp=tst,
        intact=None if api is None else bool(getattr(api, "intact", False)),
        valid=None if api is None else bool(getattr(api, "valid", False)),
        crls=tuple(used),
        revocation=path_revocation(path, crls),
        covered=covered,
        whole_file=whole,
        later_revisions=later,
    )


__all__ = ["PYHANKO_LOGGERS", "PdfSignatureError", "PdfSignatureFacts", "Status", "validate_pdf"]
