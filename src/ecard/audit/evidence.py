"""Evidence written from the facts of a finding: the list of checks that ran and the four
conditions of Art. 13 of the Electronic Signature Law (docs/audit.md, "Art. 13 checklist").

Every sentence here is derived from a fact recorded by the check that established it
(:class:`~ecard.audit.findings.AuditFinding`): nothing is claimed that was not checked.
"""

from __future__ import annotations

import dataclasses

from ecard.audit.findings import Art13Condition, AuditFinding, Check


def _checks(f: AuditFinding) -> tuple[Check, ...]:
    out: list[Check] = []
    if f.signature_verified is True:
        out.append(
            Check("signature", "passed", "the signature value verified under the signer's key")
        )
    elif f.signature_verified is False:
        out.append(
            Check("signature", "failed", f"the signature does not verify ({f.sub_indication})")
        )
    else:
        out.append(Check("signature", "not checked", "the signature value was not checked"))
    if f.path.validated:
        out.append(
            Check("certificate path", "passed", "validated: " + " <- ".join(f.path.certificates))
        )
    elif f.path.trusted_directly:
        out.append(
            Check(
                "certificate path",
                "not checked",
                "the signer's certificate is trusted directly, without a path to a root",
            )
        )
    else:
        out.append(
            Check(
                "certificate path",
                "not checked" if not f.path.certificates else "failed",
                "no certificate path was validated",
            )
        )
    rev = f.revocation
    if rev.checked or rev.compromised_at is not None:
        outcome = "failed" if rev.before else "passed"
        out.append(Check("revocation", outcome, rev.text()))  # type: ignore[arg-type]
    else:
        out.append(Check("revocation", "not checked", rev.text()))
    if f.list_state is not None:
        out.append(Check("list header", "passed", f.list_state))
        out.append(
            Check(
                "rollback",
                "not checked",
                "the audit keeps no list state: a lower "
                "sequence than one accepted before is not detected here",
            )
        )
    return tuple(out)


def _art13(f: AuditFinding) -> tuple[Art13Condition, ...]:
    if f.signer is not None and f.path.validated and f.passed:
        c1 = Art13Condition(
            1,
            "met",
            f"certificate issued to {f.signer}, path {' <- '.join(f.path.certificates)} "
            f"validated; revocation: {f.revocation.text()}; whether the key is held in an HSM "
            "is not recorded in the signature (unknown)",
        )
    elif f.path.trusted_directly:
        c1 = Art13Condition(
            1,
            "unknown",
            f"the certificate of {f.signer} is trusted directly: no validated certificate path "
            "binds the key to a signer, and its revocation was not checked",
        )
    elif f.path.validated:
        c1 = Art13Condition(
            1,
            "unknown",
            f"the certificate path validated, but the signature is {f.indication}"
            + (f" / {f.sub_indication}" if f.sub_indication else "")
            + f"; revocation: {f.revocation.text()}",
        )
    else:
        c1 = Art13Condition(1, "unknown", "no validated certificate path binds the key to a signer")
    c2 = Art13Condition(
        2,
        "unknown",
        "sole control at signing cannot be proven from the signature; it is the operator's "
        "duty (key custody, HSM access control, issuance journal)",
    )
    if f.signature_verified is False:
        c3 = Art13Condition(3, "not_met", f"the signature does not verify ({f.sub_indication})")
    elif f.signature_verified:
        c3 = Art13Condition(3, "met", "the signature value verified under the signer's key")
    else:
        c3 = Art13Condition(3, "unknown", "the signature could not be checked")
    if f.data_unchanged is False:
        c4 = Art13Condition(4, "not_met", "the signed data was changed (digest mismatch)")
    elif f.signature_verified and f.covers_whole_file is not False:
        c4 = Art13Condition(4, "met", f"signature covers {f.covered}")
    elif f.signature_verified and f.later_revisions in ("NONE", "LTA_UPDATES"):
        c4 = Art13Condition(
            4,
            "met",
            f"signature covers {f.covered}; difference analysis shows the later revisions only "
            "add validation data and time-stamps",
        )
    elif f.signature_verified and f.later_revisions not in (None, "FORM_FILLING", "ANNOTATIONS"):
        c4 = Art13Condition(
            4,
            "not_met",
            f"signature covers {f.covered}; a later revision changes the document "
            f"({f.later_revisions})",
        )
    elif f.signature_verified:
        c4 = Art13Condition(
            4, "unknown", f"signature covers {f.covered}; later revisions are not covered"
        )
    else:
        c4 = Art13Condition(4, "unknown", "the signature could not be checked")
    return (c1, c2, c3, c4)


def with_evidence(finding: AuditFinding) -> AuditFinding:
    """``finding`` with its checks and Art. 13 conditions written from its facts."""
    return dataclasses.replace(finding, checks=_checks(finding), art13=_art13(finding))


__all__ = ["with_evidence"]
