"""Signed heads of the workflow's event log: what an auditor keeps outside the database.

The event log is a hash chain (:mod:`ecard.workflow.eventlog`), so a row edited, removed or
moved behind the workflow's back is found; but whoever may rewrite the whole table and its
head row can recompute every link. A *checkpoint* closes that: the operator's list signer
signs ``(count, head digest)`` now and then (with each revocation list it publishes, say), the
signed bytes go out of the database (to the auditors, a WORM store), and
:func:`expected_digests` turns the checkpoints an auditor kept into positions the chain must
still pass through: a rebuilt or shortened log no longer does.

Contract: a checkpoint is the issuance journal's signed-head format
(:mod:`ecard.journal.heads`) with its own type ``"ecard-workflow-events-head"``, so a journal
head never passes for an event-log head nor the other way round. :func:`sign_checkpoint`
certifies only an intact chain and only while the list signer's certificate is valid;
:func:`expected_digests` refuses, with ``CHECKPOINT_INVALID``, bytes that are not such a head,
a head not signed by the certificate given, and two heads that disagree about one position.
Neither reads or writes anything but the event tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Final

from cryptography import x509
from sqlalchemy.orm import Session

from ecard.errors import EcardError
from ecard.formats.cose import kid_for_certificate
from ecard.journal.heads import SignedHead
from ecard.journal.headsign import check_head_signer, sign_head
from ecard.signing.signers import Signer
from ecard.workflow.errors import WorkflowCode, refuse
from ecard.workflow.eventlog import verify_chain

#: Key 1 of a checkpoint's payload.
CHECKPOINT_TYPE: Final = "ecard-workflow-events-head"


def sign_checkpoint(
    session: Session,
    signer: Signer,
    certificate: x509.Certificate,
    clock: Callable[[], datetime],
) -> SignedHead:
    """Sign the head of the (intact) event log in ``session``.

    Raises:
        WorkflowError: ``EVENTS_TAMPERED`` (a broken chain is not certified),
            ``CHECKPOINT_INVALID`` for a log with no events yet.
        BadKeyError: ``signer`` does not hold ``certificate``'s key.
        BadCertificateError: ``certificate`` is not valid now.
    """
    kid, now = check_head_signer(signer, certificate, clock)
    count, digest = verify_chain(session)
    if count == 0:
        raise refuse(WorkflowCode.CHECKPOINT_INVALID, "the event log is empty: no head to sign")
    return sign_head(signer, kid, count, bytes.fromhex(digest), now, CHECKPOINT_TYPE)


def load_checkpoint(data: bytes) -> SignedHead:
    """Parse a checkpoint's bytes (its signature is checked by :func:`expected_digests`).

    Raises:
        WorkflowError: ``CHECKPOINT_INVALID`` if ``data`` is not an event-log head.
    """
    try:
        return SignedHead.from_cose(data, CHECKPOINT_TYPE)
    except EcardError:
        raise refuse(WorkflowCode.CHECKPOINT_INVALID, "not an event log checkpoint") from None


def expected_digests(
    checkpoints: Iterable[bytes | SignedHead], certificate: x509.Certificate
) -> dict[int, str]:
    """Position → digest the chain must have there, from checkpoints signed with
    ``certificate``'s key (the auditor's copy of the list signer certificate; whether to trust
    it is the auditor's business), for :func:`~ecard.workflow.eventlog.verify_chain`.

    Raises:
        WorkflowError: ``CHECKPOINT_INVALID`` (malformed, another kind of head, another
            signer, a bad signature, or two checkpoints that disagree).
    """
    kid = kid_for_certificate(certificate)
    expect: dict[int, str] = {}
    for item in checkpoints:
        head = item if isinstance(item, SignedHead) else load_checkpoint(item)
        if head.kid != kid:
            raise refuse(WorkflowCode.CHECKPOINT_INVALID, "signed under another kid")
        try:
            valid = head.verify(certificate)
        except EcardError:
            valid = False
        if not valid:
            raise refuse(WorkflowCode.CHECKPOINT_INVALID, f"head {head.seq}: bad signature")
        digest = head.record_hash.hex()
        if expect.setdefault(head.seq, digest) != digest:
            raise refuse(WorkflowCode.CHECKPOINT_INVALID, f"two heads disagree at {head.seq}")
    return expect


__all__ = ["CHECKPOINT_TYPE", "expected_digests", "load_checkpoint", "sign_checkpoint"]
