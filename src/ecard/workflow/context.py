"""What every workflow step shares: the store, the clock, the keys, the ports, the journal,
and the few internals more than one step family uses (the event row, row lookups, the card
model, the holder's proof by code and PIN, credential records, signing the next revocation
list).

:class:`StepContext` holds them; each step family (:mod:`ecard.workflow.codes`,
:mod:`ecard.workflow.enrolment`, …) is a subclass adding its steps, and
:class:`ecard.workflow.steps.Registry` combines them into the one public façade. Nothing here
is a step: no method of this module commits a transaction of its own.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from cryptography import x509
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecard._time import utc
from ecard.card import CHINA_TZ, Card, Holder
from ecard.documents import DocumentType, IdentityDocument
from ecard.formats.credential import IssuedCard
from ecard.journal.store import Journal
from ecard.publish.revocation import next_revocation_list
from ecard.signing.issuer import Issuer
from ecard.signing.pki import CertifiedKey
from ecard.signing.signers import Signer, require_certified_key
from ecard.workflow.errors import WorkflowCode, refuse
from ecard.workflow.eventlog import add_event
from ecard.workflow.eventlog import install as install_event_chain
from ecard.workflow.photos import check_photo_key
from ecard.workflow.ports import DeviceBinding, LivenessCheck, SmsGateway
from ecard.workflow.secrets import PIN_MAX_FAILURES, code_digest, pin_matches
from ecard.workflow.settings import Settings
from ecard.workflow.store import (
    ApplicationRow,
    CardRow,
    CodeRow,
    CredentialRow,
    EventRow,
    RevocationRow,
    Store,
)

#: Consents: personal information (always), ID photo (sensitive, online), guardian (under 14).
CONSENT_PERSONAL: Final = "personal_information"
CONSENT_PHOTO: Final = "id_photo"
CONSENT_GUARDIAN: Final = "guardian"


@dataclass(frozen=True)
class ListSigner:
    """A revocation-list signer whose key need not be in memory: any
    :class:`~ecard.signing.signers.Signer` (a key on a PKCS#11 token,
    :class:`ecard.signing.pkcs11.Pkcs11Signer`), the list signer certificate it belongs to and
    the CA certificates above it (nearest first). The key is checked against the certificate
    here."""

    key: Signer
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()

    def __post_init__(self) -> None:
        require_certified_key(self.key, self.certificate, "list signer key")
        object.__setattr__(self, "chain", tuple(self.chain))

    def signer(self) -> Signer:
        """The signer (as :meth:`CertifiedKey.signer <ecard.signing.pki.CertifiedKey.signer>`)."""
        return self.key

    def __repr__(self) -> str:
        return f"ListSigner({self.certificate.subject.rfc4514_string()})"


class StepContext:
    """The workflow of one operator: a store, an issuer, an issuance journal, a list signer.

    ``clock`` returns the current aware time; every step reads it once. ``pseudonym_key``
    (at least 16 bytes) keys the subject pseudonyms and the code HMACs; ``photo_key`` (32
    bytes, AES-256) encrypts the ID photos (without it the photo steps refuse).
    ``list_signer`` is a :class:`~ecard.signing.pki.CertifiedKey`, a :class:`ListSigner`, or
    a bare :class:`~ecard.signing.signers.Signer` (a PKCS#11 key) with its certificate as
    ``list_certificate`` (and ``list_chain``).
    """

    def __init__(
        self,
        store: Store,
        *,
        issuer: Issuer,
        list_signer: CertifiedKey | ListSigner | Signer,
        pseudonym_key: bytes,
        sms: SmsGateway,
        liveness: LivenessCheck,
        clock: Callable[[], datetime],
        journal: Journal | None = None,
        settings: Settings | None = None,
        device_binding: DeviceBinding | None = None,
        photo_key: bytes | None = None,
        list_certificate: x509.Certificate | None = None,
        list_chain: Sequence[x509.Certificate] = (),
    ) -> None:
        if not isinstance(pseudonym_key, bytes) or len(pseudonym_key) < 16:
            raise ValueError("pseudonym_key must be at least 16 bytes")
        if list_certificate is not None:
            if isinstance(list_signer, CertifiedKey | ListSigner):
                raise ValueError("list_certificate goes with a bare signer only")
            list_signer = ListSigner(list_signer, list_certificate, tuple(list_chain))
        elif not isinstance(list_signer, CertifiedKey | ListSigner) and isinstance(
            list_signer, Signer
        ):
            raise ValueError("a bare list signer needs its list_certificate")
        self._photo_key = None if photo_key is None else check_photo_key(photo_key)
        self.store = store
        self.issuer = issuer
        self.list_signer: CertifiedKey | ListSigner = list_signer
        self._key = pseudonym_key
        self.sms = sms
        self.liveness = liveness
        self.clock = clock
        self.journal = journal
        self.settings = settings or Settings()
        self.device_binding = device_binding
        install_event_chain(store.sessions)

    # -- time and pseudonyms

    def _now(self) -> datetime:
        return utc(self.clock(), "the workflow clock")

    def _today(self, now: datetime) -> date:
        return now.astimezone(CHINA_TZ).date()

    def subject_pseudonym(self, doc: IdentityDocument) -> str:
        """HMAC-SHA-256 of the document type and number: finds a person's records without
        holding their number in the event log. A resident and a temporary resident ID of one
        person give the same pseudonym."""
        # a temporary resident ID carries the citizen ID: the same person, the same pseudonym
        temporary = doc.type is DocumentType.TEMPORARY_RESIDENT_ID
        kind = DocumentType.RESIDENT_ID if temporary else doc.type
        message = f"ecard-workflow-subject:{kind.value}:{doc.number}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    # -- rows

    def _event(
        self,
        session: Session,
        now: datetime,
        actor: str,
        action: str,
        *,
        app: ApplicationRow | None = None,
        card: CardRow | None = None,
        before: str | None = None,
        after: str | None = None,
        detail: str | None = None,
    ) -> None:
        add_event(
            session,
            EventRow(
                at=int(now.timestamp()),
                actor=actor,
                action=action,
                application_id=app.id if app else (card.application_id if card else None),
                card_number=card.card_number if card else None,
                subject=app.subject if app else (card.subject if card else None),
                before=before,
                after=after,
                detail=detail,
            ),
        )

    @staticmethod
    def _app(session: Session, application_id: str, *, lock: bool = False) -> ApplicationRow:
        stmt = select(ApplicationRow).where(ApplicationRow.id == application_id)
        row = session.scalars(stmt.with_for_update() if lock else stmt).first()
        if row is None:
            raise refuse(WorkflowCode.NOT_FOUND)
        return row

    @staticmethod
    def _card(session: Session, card_number: str) -> CardRow:
        if not isinstance(card_number, str):
            raise refuse(WorkflowCode.NOT_FOUND)
        row = session.get(CardRow, card_number)
        if row is None:
            raise refuse(WorkflowCode.NOT_FOUND)
        return row

    # -- the card model

    def _card_model(self, app: ApplicationRow, row: CardRow, now: datetime) -> Card:
        """The card as printed: issued on the day it was made (today for cards made before
        the issue time was kept), valid :attr:`Settings.card_years`."""
        made = now if row.issued_at is None else datetime.fromtimestamp(row.issued_at, CHINA_TZ)
        issued = self._today(made)
        expires = date(issued.year + self.settings.card_years, issued.month, min(issued.day, 28))
        card = Card(
            holder=Holder(
                name=app.name, document=DocumentType(app.document_type), ssn=app.document_number
            ),
            card_number=row.card_number,
            region=app.region,
            issued=issued,
            expires=expires,
        )
        if self.device_binding is not None:
            card = self.device_binding.bind(card, app.id)
        return card

    # -- the holder's proof: a code sent to the phone and the PIN

    def _use_code(self, session: Session, app: ApplicationRow, code: str, now: datetime) -> None:
        rules = self.settings.codes
        row = session.get(CodeRow, app.id)
        if row is None:
            raise refuse(WorkflowCode.CODE_WRONG, "no code was sent")
        if row.used:
            raise refuse(WorkflowCode.CODE_USED)
        if row.tries >= rules.max_tries:
            raise refuse(WorkflowCode.CODE_TRIES_EXCEEDED)
        if int(now.timestamp()) - row.sent_at > rules.lifetime.total_seconds():
            raise refuse(WorkflowCode.CODE_EXPIRED)
        if not hmac.compare_digest(row.digest, code_digest(self._key, app.id, code)):
            row.tries += 1
            raise refuse(WorkflowCode.CODE_WRONG)
        row.used = True

    def _prove_holder(
        self,
        session: Session,
        row: CardRow,
        app: ApplicationRow,
        code: str,
        pin: str,
        now: datetime,
    ) -> None:
        """Check the code (consumed) and the PIN (a failure counted, locked at
        :data:`~ecard.workflow.secrets.PIN_MAX_FAILURES`); the caller commits either way."""
        if row.pin_hash is None or row.pin_failures >= PIN_MAX_FAILURES:
            raise refuse(WorkflowCode.PIN_LOCKED if row.pin_hash else WorkflowCode.WRONG_STEP)
        self._use_code(session, app, code, now)
        if not isinstance(pin, str) or not pin_matches(pin, row.pin_hash):
            row.pin_failures += 1
            raise refuse(
                WorkflowCode.PIN_LOCKED
                if row.pin_failures >= PIN_MAX_FAILURES
                else WorkflowCode.PIN_WRONG
            )
        row.pin_failures = 0

    # -- credentials and revocation lists

    def _record_credential(
        self,
        session: Session,
        row: CardRow,
        issued: IssuedCard,
        now: datetime,
        actor: str,
        *,
        profile: str = "full",
        device_key: bytes | None = None,
    ) -> None:
        """Keep a credential of the card and journal it."""
        session.add(
            CredentialRow(
                cti=issued.cti.hex(),
                kid=issued.kid.hex(),
                card_number=row.card_number,
                profile=profile,
                device_key=None if device_key is None else device_key.hex(),
                issued_at=int(now.timestamp()),
                revoked_at=None,
                superseded_at=None,
            )
        )
        if self.journal is not None:
            self.journal.append_card(issued, operator=actor)

    @staticmethod
    def _credentials(session: Session, card_number: str) -> list[CredentialRow]:
        """Every credential of a card, oldest first."""
        return list(
            session.scalars(
                select(CredentialRow)
                .where(CredentialRow.card_number == card_number)
                .order_by(CredentialRow.issued_at, CredentialRow.cti)
            ).all()
        )

    def _publish(
        self,
        session: Session,
        now: datetime,
        add: Sequence[CredentialRow],
        remove: Sequence[CredentialRow],
        actor: str,
        *,
        force: bool = False,
    ) -> None:
        """Sign the next revocation list: ``add`` listed, ``remove`` taken off (in the same
        transaction, journaled); nothing if both are empty unless ``force``."""
        if not add and not remove and not force:
            return
        last = session.scalars(
            select(RevocationRow).order_by(RevocationRow.sequence.desc())
        ).first()
        update = next_revocation_list(
            last.data if last else None,
            [(bytes.fromhex(c.kid), bytes.fromhex(c.cti)) for c in add],
            unrevoke=[(bytes.fromhex(c.kid), bytes.fromhex(c.cti)) for c in remove],
            signer=self.list_signer.signer(),
            certificate=self.list_signer.certificate,
            chain=self.list_signer.chain,
            issued_at=now,
            next_update=now + self.settings.list_validity,
        )
        session.add(
            RevocationRow(
                sequence=update.sequence, data=update.data, published_at=int(now.timestamp())
            )
        )
        for c in add:
            c.revoked_at = int(now.timestamp())
        for c in remove:
            c.revoked_at = None
        if self.journal is not None:
            self.journal.append_list(update.data, operator=actor)


__all__ = [
    "CONSENT_GUARDIAN",
    "CONSENT_PERSONAL",
    "CONSENT_PHOTO",
    "ListSigner",
    "StepContext",
]
