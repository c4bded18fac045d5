"""The steps from application to card and back, as methods of :class:`Registry` over a
:class:`~ecard.workflow.store.Store`.

Online: :meth:`~Registry.submit` (channel ``online``) → :meth:`~Registry.send_code` →
:meth:`~Registry.check_code` → :meth:`~Registry.record_liveness` →
:meth:`~Registry.review_online` (automatic rules) → :meth:`~Registry.issue`.
Window: :meth:`~Registry.submit` (channel ``window``, by a clerk) → :meth:`~Registry.review`
(another clerk) → :meth:`~Registry.issue`. Then :meth:`~Registry.set_pin`,
:meth:`~Registry.query` (code + PIN) and the status changes (:meth:`~Registry.change`,
:meth:`~Registry.replace`, :meth:`~Registry.lapse_temporary_losses`). ID photos:
:meth:`~Registry.record_photo_consent`, :meth:`~Registry.store_photo` (encrypted, see
:mod:`ecard.workflow.photos`), :meth:`~Registry.read_photo`,
:meth:`~Registry.purge_expired_photos` (retention after the decision). Review deadlines:
:meth:`~Registry.overdue_applications` (per-region days in :class:`Settings`).

Each step is one store transaction and writes one event row (actor, action, time,
application, card, the subject's pseudonym, never a name or document number). A status change
that makes the card's credential unusable signs the next revocation list (through
:func:`ecard.publish.revocation.next_revocation_list`) inside the same transaction, records it
in the issuance journal, and keeps it for publication (:meth:`~Registry.revocation_list`).
"""

from __future__ import annotations

from collections.abc import Iterable

from cryptography import x509
from sqlalchemy import select

from ecard.journal.heads import SignedHead
from ecard.workflow.checkpoints import expected_digests, sign_checkpoint
from ecard.workflow.codes import CardView, CodeSteps
from ecard.workflow.context import CONSENT_GUARDIAN, CONSENT_PERSONAL, CONSENT_PHOTO, ListSigner
from ecard.workflow.enrolment import PROFILES, EnrolmentSteps
from ecard.workflow.errors import WorkflowCode, refuse
from ecard.workflow.eventlog import verify_chain
from ecard.workflow.issuance import IssuanceSteps
from ecard.workflow.photo_steps import PhotoSteps
from ecard.workflow.review import AUTO_REVIEWER, Channel, OverdueApplication, Relation, ReviewSteps
from ecard.workflow.settings import Settings
from ecard.workflow.store import EventRow


class Registry(ReviewSteps, CodeSteps, PhotoSteps, IssuanceSteps, EnrolmentSteps):
    """The workflow of one operator: a store, an issuer, an issuance journal, a list signer.

    ``clock`` returns the current aware time; every step reads it once. ``pseudonym_key``
    (at least 16 bytes) keys the subject pseudonyms and the code HMACs; ``photo_key`` (32
    bytes, AES-256) encrypts the ID photos (without it the photo steps refuse). The steps
    come from their families over one :class:`~ecard.workflow.context.StepContext`:
    submission and review (:class:`~ecard.workflow.review.ReviewSteps`), codes, liveness, PIN
    and query (:class:`~ecard.workflow.codes.CodeSteps`), ID photos
    (:class:`~ecard.workflow.photo_steps.PhotoSteps`), issuance and status changes
    (:class:`~ecard.workflow.issuance.IssuanceSteps`) and device enrolment
    (:class:`~ecard.workflow.enrolment.EnrolmentSteps`).
    """

    def events(self, application_id: str | None = None) -> list[EventRow]:
        """The event log (of one application), oldest first."""
        with self.store.session() as session:
            stmt = select(EventRow).order_by(EventRow.id)
            if application_id is not None:
                stmt = stmt.where(EventRow.application_id == application_id)
            return list(session.scalars(stmt).all())

    def verify_events(
        self,
        checkpoints: Iterable[bytes | SignedHead] = (),
        certificate: x509.Certificate | None = None,
    ) -> tuple[int, str]:
        """Check the event log's hash chain (:mod:`ecard.workflow.eventlog`): ``(count, head
        digest)`` if intact. With ``checkpoints`` (from :meth:`sign_events_head`, kept outside
        the database), the chain must also still pass through each of them; they are checked
        against ``certificate`` (default: this registry's list signer certificate; an auditor
        passes their own copy).

        Raises:
            WorkflowError: ``EVENTS_TAMPERED`` with the first event id where it breaks,
                ``CHECKPOINT_INVALID`` for a checkpoint that is not one or not signed so.
        """
        kept = list(checkpoints)
        expect = {}
        if kept:
            if certificate is None and self.list_signer is None:
                raise refuse(WorkflowCode.CHECKPOINT_INVALID, "no certificate to check it with")
            certificate = certificate or self.list_signer.certificate
            expect = expected_digests(kept, certificate)
        with self.store.session() as session:
            return verify_chain(session, expect)

    def sign_events_head(self) -> SignedHead:
        """A checkpoint (:mod:`ecard.workflow.checkpoints`): the event log's head signed now
        by the list signer. Copy its :attr:`~ecard.journal.heads.SignedHead.cose` bytes out of
        the database; :meth:`verify_events` takes them back.

        Raises:
            WorkflowError: ``EVENTS_TAMPERED``, or ``CHECKPOINT_INVALID`` for an empty log.
            BadCertificateError: the list signer certificate is not valid now.
        """
        if self.list_signer is None:  # a registry opened only to read has none
            raise refuse(WorkflowCode.CHECKPOINT_INVALID, "no list signer to sign with")
        with self.store.session() as session:
            return sign_checkpoint(
                session, self.list_signer.signer(), self.list_signer.certificate, self.clock
            )


__all__ = [
    "AUTO_REVIEWER",
    "CONSENT_GUARDIAN",
    "CONSENT_PERSONAL",
    "CONSENT_PHOTO",
    "PROFILES",
    "CardView",
    "Channel",
    "ListSigner",
    "OverdueApplication",
    "Registry",
    "Relation",
    "Settings",
]
