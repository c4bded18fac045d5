"""What an audit finding is: the verdict on one signature and the facts of the checks that ran.

A finding does not hold evidence written by hand: it holds *facts* (did the signature value
verify, was a certificate path validated and to which root, was revocation checked and with
which CRLs, what the signature covers) and :mod:`ecard.audit.evidence` writes the evidence text
and the Art. 13 conditions from them. So a check that did not run cannot be reported as passed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from cryptography import x509

from ecard.audit.indications import PASSED


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat()


@dataclass(frozen=True)
class CrlFact:
    """One CRL a revocation check consulted: its issuer and its update times."""

    issuer: str
    this_update: datetime
    next_update: datetime | None

    @classmethod
    def of(cls, crl: x509.CertificateRevocationList) -> CrlFact:
        """The facts of ``crl``."""
        return cls(crl.issuer.rfc4514_string(), crl.last_update_utc, crl.next_update_utc)


@dataclass(frozen=True)
class RevocationFacts:
    """What is known of the revocation of the signer's certificate path.

    ``checked`` is true only when the certificates below the trust anchor were looked up in
    CRLs (``crls``); ``not_checked_because`` says why not otherwise. ``revoked`` names the
    earliest revoked certificate, ``revoked_at`` when, ``before`` whether that is at or before
    ``reference`` (the moment the signature is judged at: ``"signing"`` for the claimed signing
    time, ``"the time-stamp"``, ``"the validation time"``). ``compromised_at`` is a trust list's
    mark that the key is compromised.
    """

    checked: bool
    crls: tuple[CrlFact, ...] = ()
    not_checked_because: str | None = None
    revoked: str | None = None
    revoked_at: datetime | None = None
    before: bool | None = None
    reference: str = "signing"
    compromised_at: datetime | None = None

    def text(self) -> str:
        """The evidence: what was checked and what it showed."""
        if self.compromised_at is not None and self.before:
            return f"key marked compromised at {self.compromised_at.isoformat()} (trust list), before {self.reference}"
        if not self.checked:
            return f"not checked: {self.not_checked_because or 'no revocation data'}"
        crls = "; ".join(
            f"CRL of {c.issuer}, thisUpdate {c.this_update.isoformat()}"
            + ("" if c.next_update is None else f", nextUpdate {c.next_update.isoformat()}")
            for c in self.crls
        )
        if self.revoked_at is None:
            return f"not revoked per the supplied CRLs ({crls or 'none'})"
        when = "before" if self.before else "after"
        return (
            f"{self.revoked} revoked at {self.revoked_at.isoformat()}, {when} {self.reference} "
            f"({crls or 'per the path validation'})"
        )


@dataclass(frozen=True)
class PathFacts:
    """The signer's certificate path as checked: ``validated`` when a path to a trust anchor
    was validated (``certificates`` leaf first); ``trusted_directly`` when the signer's own
    certificate is the trust anchor (a bare ``--trust`` certificate, nothing above it)."""

    validated: bool
    certificates: tuple[str, ...] = ()
    trusted_directly: bool = False


@dataclass(frozen=True)
class Check:
    """One check as it ran, for the report: its name, outcome and the evidence text."""

    name: str
    outcome: Literal["passed", "failed", "not checked", "unknown"]
    evidence: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {"check": self.name, "outcome": self.outcome, "evidence": self.evidence}


@dataclass(frozen=True)
class Art13Condition:
    """One condition of Art. 13 of the Electronic Signature Law (电子签名法第十三条)."""

    number: int
    status: Literal["met", "not_met", "unknown"]
    evidence: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {"condition": self.number, "status": self.status, "evidence": self.evidence}


@dataclass(frozen=True)
class AuditFinding:
    """The verdict on one signature (or one unreadable input) and the facts behind it.

    ``signature_verified`` is ``True`` when the signature value verified under the signer's
    key, ``False`` when it did not or could not be read, ``None`` when it was not checked;
    ``data_unchanged`` is ``False`` when the signed data's digest does not match.
    ``revocation_at_signing``, ``checks`` and ``art13`` are written from the facts.
    """

    source: str
    kind: str  # qr-text | qr-image | pdf | trust-list | revocation-list | unknown
    indication: str
    sub_indication: str | None = None
    detail: str = ""
    signer: str | None = None
    kid: str | None = None
    algorithm: str | None = None
    signing_time_claimed: datetime | None = None
    timestamp_time: datetime | None = None
    signature_verified: bool | None = None
    data_unchanged: bool | None = None
    path: PathFacts = field(default_factory=lambda: PathFacts(False))
    revocation: RevocationFacts = field(
        default_factory=lambda: RevocationFacts(False, not_checked_because="no signature checked")
    )
    covered: str = ""
    covers_whole_file: bool | None = None
    #: What later revisions do (PDF, pyHanko difference analysis): ``"LTA_UPDATES"`` means they
    #: only add validation data and time-stamps; ``None`` when there are none or unknown.
    later_revisions: str | None = None
    credential_status: str | None = None
    #: the list's sequence and next update, for signed lists
    list_state: str | None = None
    own_checks: tuple[str, ...] = ()
    checks: tuple[Check, ...] = ()
    art13: tuple[Art13Condition, ...] = ()

    @property
    def certificate_path(self) -> tuple[str, ...]:
        """The signer's certificate path, leaf first (the trusted certificate alone when it is
        trusted directly)."""
        return self.path.certificates

    @property
    def revocation_at_signing(self) -> str:
        """The revocation status, as evidence written from :attr:`revocation`."""
        return self.revocation.text()

    @property
    def passed(self) -> bool:
        """True for TOTAL-PASSED."""
        return self.indication == PASSED

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
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
            "path_validated": self.path.validated,
            "signing_time": {
                "claimed": _iso(self.signing_time_claimed),
                "timestamp": _iso(self.timestamp_time),
            },
            "revocation_at_signing": self.revocation_at_signing,
            "revocation_checked": self.revocation.checked,
            "covered": self.covered,
            "covers_whole_file": self.covers_whole_file,
            "later_revisions": self.later_revisions,
            "credential_status": self.credential_status,
            "own_checks": list(self.own_checks),
            "checks": [c.to_dict() for c in self.checks],
            "art13": [c.to_dict() for c in self.art13],
        }


__all__ = [
    "Art13Condition",
    "AuditFinding",
    "Check",
    "CrlFact",
    "PathFacts",
    "RevocationFacts",
]
