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

import json
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final, Literal

import phonenumbers
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecard._time import utc
from ecard.documents import DocumentType, check_document_in_force, parse_document
from ecard.formats.credential import IssuedCard
from ecard.identifiers import normalize_name, normalize_region_code
from ecard.workflow.codes import CardView, CodeSteps
from ecard.workflow.enrolment import PROFILES, EnrolmentSteps
from ecard.workflow.errors import WorkflowCode, refuse
from ecard.workflow.lifecycle import (
    ACTIVE_STATES,
    CardEvent,
    CardState,
    invalidates,
    next_state,
    restores,
)
from ecard.workflow.photos import Photo, check_photo, open_photo, seal_photo
from ecard.workflow.settings import Settings
from ecard.workflow.store import (
    ApplicationRow,
    CardRow,
    EventRow,
    PhotoRow,
    RevocationRow,
)

Channel = Literal["online", "window"]
Relation = Literal["self", "guardian", "family"]

#: The actor the online channel's automatic review records.
AUTO_REVIEWER: Final = "auto-rules"
#: Consents: personal information (always), ID photo (sensitive, online), guardian (under 14).
CONSENT_PERSONAL: Final = "personal_information"
CONSENT_PHOTO: Final = "id_photo"
CONSENT_GUARDIAN: Final = "guardian"
_CARD_ALPHABET: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"


@dataclass(frozen=True)
class OverdueApplication:
    """An application waiting for review past its deadline: no personal data."""

    application_id: str
    channel: str
    region: str
    submitted: datetime
    due: datetime


def _age(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _mobile(phone: object) -> str:
    """The E.164 form of a mainland mobile number, or ``PHONE_INVALID``."""
    if not isinstance(phone, str) or len(phone) > 20:
        raise refuse(WorkflowCode.PHONE_INVALID)
    try:
        number = phonenumbers.parse(phone, "CN")
    except phonenumbers.NumberParseException:
        raise refuse(WorkflowCode.PHONE_INVALID) from None
    if (
        number.country_code != 86
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE
    ):
        raise refuse(WorkflowCode.PHONE_INVALID)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class Registry(CodeSteps, EnrolmentSteps):
    """The workflow of one operator: a store, an issuer, an issuance journal, a list signer.

    ``clock`` returns the current aware time; every step reads it once. ``pseudonym_key``
    (at least 16 bytes) keys the subject pseudonyms and the code HMACs; ``photo_key`` (32
    bytes, AES-256) encrypts the ID photos (without it the photo steps refuse). The steps
    come from their families: codes, liveness, PIN and query (:class:`CodeSteps`), device
    enrolment (:class:`EnrolmentSteps`) and the ones below.
    """

    # -- submit

    def submit(
        self,
        *,
        channel: Channel,
        document_type: DocumentType | int | str,
        document_number: str,
        name: str,
        phone: str,
        region: str,
        actor: str,
        consents: Collection[str] = (),
        relation: Relation = "self",
        applicant_document: tuple[DocumentType | int | str, str] | None = None,
        proof_of_relationship: bool = False,
        birth_date: date | None = None,
        document_issued: date | None = None,
        document_expires: date | None = None,
    ) -> str:
        """Record an application; return its id.

        ``actor`` is the clerk at a window, or the applicant's account online. A guardian or
        family member gives ``applicant_document``; a subject under 16 needs a guardian with
        ``proof_of_relationship``, under 14 also the ``guardian`` consent. ``birth_date`` is
        needed where the document number holds none.

        Raises:
            DocumentError: the document number (each kind of bad number) or the document is
                not in force (temporary ID past 3 months, expired).
            WorkflowError: ``NAME_INVALID``, ``PHONE_INVALID``, ``GUARDIAN_REQUIRED``,
                ``CONSENT_REQUIRED``, ``FAMILY_LIMIT``, ``WRONG_STEP`` (bad channel/relation).
        """
        now = self._now()
        today = self._today(now)
        if channel not in ("online", "window") or relation not in ("self", "guardian", "family"):
            raise refuse(WorkflowCode.WRONG_STEP, "channel or relation unknown")
        try:
            clean_name = normalize_name(name)
        except ValueError as exc:
            raise refuse(WorkflowCode.NAME_INVALID, str(exc)) from None
        doc = parse_document(
            document_type, document_number, issued=document_issued, expires=document_expires
        )
        check_document_in_force(doc, today)
        mobile = _mobile(phone)
        try:
            region_code = normalize_region_code(region)
        except ValueError as exc:
            raise refuse(WorkflowCode.WRONG_STEP, str(exc)) from None
        birth = doc.birth_date or birth_date
        if birth is None:
            raise refuse(WorkflowCode.WRONG_STEP, "this document needs the birth date")
        given = set(consents)
        if CONSENT_PERSONAL not in given or (channel == "online" and CONSENT_PHOTO not in given):
            raise refuse(WorkflowCode.CONSENT_REQUIRED, "personal information and ID photo")
        subject = self.subject_pseudonym(doc)
        age = _age(birth, today)
        if relation == "self":
            if age < 16:
                raise refuse(WorkflowCode.GUARDIAN_REQUIRED)
            applicant = subject
        else:
            if applicant_document is None:
                raise refuse(WorkflowCode.GUARDIAN_REQUIRED, "the applicant's document")
            applicant_doc = parse_document(*applicant_document)
            applicant = self.subject_pseudonym(applicant_doc)
            if applicant == subject:
                raise refuse(WorkflowCode.WRONG_STEP, "a person applies for themselves as self")
            if age < 16 and (relation != "guardian" or not proof_of_relationship):
                raise refuse(WorkflowCode.GUARDIAN_REQUIRED)
            if age < 14 and CONSENT_GUARDIAN not in given:
                raise refuse(WorkflowCode.CONSENT_REQUIRED, "guardian consent (under 14)")
        app_id = secrets.token_hex(16)
        with self.store.transaction() as session:
            if relation == "family":
                count = session.scalar(
                    select(func.count(func.distinct(ApplicationRow.subject))).where(
                        ApplicationRow.applicant == applicant,
                        ApplicationRow.relation == "family",
                        ApplicationRow.subject != subject,
                    )
                )
                if (count or 0) >= self.settings.family_limit:
                    raise refuse(WorkflowCode.FAMILY_LIMIT)
            app = ApplicationRow(
                id=app_id,
                channel=channel,
                document_type=doc.type.value,
                document_number=doc.number,
                name=clean_name,
                phone=mobile,
                region=region_code,
                subject=subject,
                relation=relation,
                applicant=applicant,
                consents=json.dumps(sorted(given)),
                state="submitted",
                submitted_by=actor,
                submitted_at=int(now.timestamp()),
                phone_verified=False,
            )
            session.add(app)
            self._event(session, now, actor, "submit", app=app, after="submitted", detail=channel)
        return app_id

    # -- review

    def review_online(self, application_id: str) -> None:
        """The online channel's automatic rules: phone bound by code and liveness passed.

        Raises:
            WorkflowError: ``WRONG_STEP`` (not online, not submitted, a check missing).
        """
        now = self._now()
        with self.store.transaction() as session:
            app = self._app(session, application_id, lock=True)
            if app.channel != "online" or app.state != "submitted":
                raise refuse(WorkflowCode.WRONG_STEP, f"state {app.state}, channel {app.channel}")
            if not app.phone_verified or app.liveness is None:
                raise refuse(WorkflowCode.WRONG_STEP, "phone code and liveness check first")
            app.state, app.reviewed_by = "approved", AUTO_REVIEWER
            app.decided_at = int(now.timestamp())
            self._event(
                session, now, AUTO_REVIEWER, "review", app=app, before="submitted", after="approved"
            )

    def review(
        self, application_id: str, *, reviewer: str, approve: bool, reason: str | None = None
    ) -> None:
        """A clerk's decision. Nobody decides a case they submitted or their own; a rejection
        needs a reason.

        Raises:
            WorkflowError: ``REASON_REQUIRED``, ``OWN_CASE``, ``WRONG_STEP`` (already
                decided), ``CONFLICT`` (another clerk decided at the same moment).
        """
        if not approve and (reason is None or not reason.strip()):
            raise refuse(WorkflowCode.REASON_REQUIRED)
        now = self._now()
        with self.store.transaction() as session:
            app = self._app(session, application_id, lock=True)
            if reviewer in (app.submitted_by, app.subject, app.applicant):
                raise refuse(WorkflowCode.OWN_CASE)
            if app.state != "submitted":
                raise refuse(WorkflowCode.WRONG_STEP, f"already {app.state}")
            app.state = "approved" if approve else "rejected"
            app.reviewed_by, app.reason = reviewer, reason
            app.decided_at = int(now.timestamp())
            self._event(
                session, now, reviewer, "review", app=app, before="submitted", after=app.state,
                detail=reason,
            )  # fmt: skip

    # -- ID photos

    def _require_photo_key(self) -> bytes:
        if self._photo_key is None:
            raise refuse(WorkflowCode.WRONG_STEP, "no photo key is configured")
        return self._photo_key

    def record_photo_consent(self, application_id: str, *, actor: str) -> None:
        """Record the applicant's separate consent to the ID photo (``id_photo``; the online
        channel asks for it at :meth:`submit`, a window records it here)."""
        now = self._now()
        with self.store.transaction() as session:
            app = self._app(session, application_id, lock=True)
            given = set(json.loads(app.consents)) | {CONSENT_PHOTO}
            app.consents = json.dumps(sorted(given))
            self._event(session, now, actor, "photo_consent", app=app, detail=CONSENT_PHOTO)

    def store_photo(self, application_id: str, photo: bytes, *, actor: str) -> None:
        """Keep the application's ID photo, encrypted (AES-256-GCM under ``photo_key``, bound
        to the application); a second photo replaces the first. Only before issuance (the
        application submitted or approved) and only with the ``id_photo`` consent.

        Raises:
            WorkflowError: ``PHOTO_TOO_LARGE``, ``PHOTO_INVALID``, ``PHOTO_BOMB``,
                ``CONSENT_REQUIRED``, ``WRONG_STEP`` (no key, wrong state), ``NOT_FOUND``.
        """
        key = self._require_photo_key()
        check_photo(photo)
        now = self._now()
        with self.store.transaction() as session:
            app = self._app(session, application_id, lock=True)
            if CONSENT_PHOTO not in json.loads(app.consents):
                raise refuse(WorkflowCode.CONSENT_REQUIRED, "the separate ID photo consent")
            if app.state not in ("submitted", "approved"):
                raise refuse(WorkflowCode.WRONG_STEP, f"state {app.state}")
            blob = seal_photo(key, app.id, bytes(photo))
            row = session.get(PhotoRow, app.id)
            if row is None:
                session.add(
                    PhotoRow(application_id=app.id, blob=blob, stored_at=int(now.timestamp()))
                )
            else:
                row.blob, row.stored_at = blob, int(now.timestamp())
            self._event(session, now, actor, "store_photo", app=app)

    def read_photo(self, application_id: str, *, actor: str) -> Photo:
        """The application's ID photo, decrypted, for a clerk (the reading is an event).

        Raises:
            WorkflowError: ``NOT_FOUND`` (no application, no photo or purged),
                ``PHOTO_UNREADABLE`` (another key, a changed or moved blob), ``WRONG_STEP``.
        """
        key = self._require_photo_key()
        now = self._now()
        with self.store.transaction() as session:
            app = self._app(session, application_id)
            row = session.get(PhotoRow, app.id)
            if row is None:
                raise refuse(WorkflowCode.NOT_FOUND, "no ID photo is stored")
            photo = open_photo(key, app.id, row.blob)
            self._event(session, now, actor, "read_photo", app=app)
        return photo

    def purge_expired_photos(self, now: datetime | None = None, *, actor: str = "scheduler") -> int:
        """Delete the ID photos of applications decided at least
        :attr:`Settings.photo_retention` ago (``now`` defaults to the clock); return how
        many. Each deletion is an event."""
        now = self._now() if now is None else utc(now, "the purge time")
        limit = int((now - self.settings.photo_retention).timestamp())
        with self.store.transaction() as session:
            rows = session.execute(
                select(PhotoRow, ApplicationRow)
                .join(ApplicationRow, ApplicationRow.id == PhotoRow.application_id)
                .where(ApplicationRow.decided_at.is_not(None), ApplicationRow.decided_at <= limit)
            ).all()
            for photo, app in rows:
                session.delete(photo)
                self._event(session, now, actor, "purge_photo", app=app)
        return len(rows)

    # -- review deadlines

    def overdue_applications(
        self, now: datetime | None = None, region: str | None = None
    ) -> list[OverdueApplication]:
        """Applications still waiting for a decision (state ``submitted``, either channel)
        whose review deadline (submission + the region's review days) has passed by ``now``
        (defaults to the clock), most overdue first; only ``region`` if given. Ids,
        channel, region and times only: no personal data."""
        now = self._now() if now is None else utc(now, "the deadline time")
        stmt = select(
            ApplicationRow.id,
            ApplicationRow.channel,
            ApplicationRow.region,
            ApplicationRow.submitted_at,
        ).where(ApplicationRow.state == "submitted")
        if region is not None:
            try:
                region = normalize_region_code(region)
            except ValueError as exc:
                raise refuse(WorkflowCode.WRONG_STEP, str(exc)) from None
            stmt = stmt.where(ApplicationRow.region == region)
        found: list[OverdueApplication] = []
        with self.store.session() as session:
            for app_id, channel, app_region, submitted_at in session.execute(stmt):
                submitted = datetime.fromtimestamp(submitted_at, tz=UTC)
                due = submitted + timedelta(days=self.settings.review_deadline_days(app_region))
                if due <= now:
                    found.append(OverdueApplication(app_id, channel, app_region, submitted, due))
        return sorted(found, key=lambda a: (a.due, a.application_id))

    # -- issue

    def _new_card(
        self, session: Session, app: ApplicationRow, now: datetime, actor: str, *, sealed: bool
    ) -> tuple[CardRow, IssuedCard | None]:
        active = session.scalars(
            select(CardRow).where(
                CardRow.subject == app.subject,
                CardRow.region == app.region,
                CardRow.state.in_([s.value for s in ACTIVE_STATES]),
            )
        ).first()
        if active is not None:
            raise refuse(WorkflowCode.ACTIVE_CARD_EXISTS)
        number = "".join(secrets.choice(_CARD_ALPHABET) for _ in range(9))
        row = CardRow(
            card_number=number,
            application_id=app.id,
            subject=app.subject,
            region=app.region,
            state=(CardState.SEALED if sealed else CardState.NORMAL).value,
            state_since=int(now.timestamp()),
            listed=False,
            pin_failures=0,
            issued_at=int(now.timestamp()),
        )
        session.add(row)
        app.card_number = number
        session.flush()  # the card row first: its credentials refer to it
        issued = None if sealed else self._sign(session, row, app, now, actor)
        return row, issued

    def _sign(
        self, session: Session, row: CardRow, app: ApplicationRow, now: datetime, actor: str
    ) -> IssuedCard | None:
        """The card's bearer credential, recorded and journaled; ``None`` when
        :attr:`Settings.require_binding` leaves the credentials to the device enrolment."""
        if self.settings.require_binding:
            return None
        issued = self.issuer.issue(self._card_model(app, row, now), iat=now)
        row.kid, row.cti = issued.kid.hex(), issued.cti.hex()
        self._record_credential(session, row, issued, now, actor)
        return issued

    def issue(self, application_id: str, *, actor: str, sealed: bool = False) -> IssuedCard | None:
        """Make the card of an approved application and sign its e-SSC credential (level 1),
        journaled; ``sealed`` makes it 封存 (no credential until :meth:`activate`). With
        :attr:`Settings.require_binding` no credential is signed here (``None``): the
        holder's :meth:`enrol_device` makes the bound ones.

        Raises:
            WorkflowError: ``WRONG_STEP`` (not approved), ``ACTIVE_CARD_EXISTS``.
        """
        now = self._now()
        with self.store.transaction() as session:
            app = self._app(session, application_id, lock=True)
            if app.state != "approved":
                raise refuse(WorkflowCode.WRONG_STEP, f"state {app.state}")
            row, issued = self._new_card(session, app, now, actor, sealed=sealed)
            app.state = "issued"
            self._event(session, now, actor, "issue", app=app, card=row, after=row.state)
        return issued

    def activate(self, card_number: str, *, actor: str) -> IssuedCard | None:
        """Enable a sealed card: 封存 → 正常, signing its credential (none with
        :attr:`Settings.require_binding`: the holder enrols a device)."""
        now = self._now()
        with self.store.transaction() as session:
            row = self._card(session, card_number)
            before = CardState(row.state)
            row.state = next_state(before, CardEvent.ACTIVATE).value
            row.state_since = int(now.timestamp())
            issued = self._sign(session, row, self._app(session, row.application_id), now, actor)
            self._event(session, now, actor, "activate", card=row, before=before, after=row.state)
        return issued

    # -- status changes

    def _move(
        self,
        session: Session,
        row: CardRow,
        event: CardEvent,
        now: datetime,
        actor: str,
        reason: str | None,
    ) -> CardState:
        """Apply ``event``; a change that invalidates the card lists all its live
        credentials in the next signed list, one that restores it takes them off again
        (never the superseded ones)."""
        before = CardState(row.state)
        after = next_state(before, event)
        policy = self.settings.use_during_temporary_loss
        row.state, row.state_since = after.value, int(now.timestamp())
        if invalidates(before, after, use_during_temporary_loss=policy):
            live = [c for c in self._credentials(session, row.card_number) if c.revoked_at is None]
            self._publish(session, now, live, [], actor)
            row.listed = row.listed or bool(live)
        elif restores(before, after, use_during_temporary_loss=policy) and row.listed:
            listed = [
                c
                for c in self._credentials(session, row.card_number)
                if c.revoked_at is not None and c.superseded_at is None
            ]
            self._publish(session, now, [], listed, actor)
            row.listed = False
        self._event(
            session, now, actor, event.value, card=row, before=before, after=after, detail=reason
        )
        return after

    def change(
        self, card_number: str, event: CardEvent, *, actor: str, reason: str | None = None
    ) -> CardState:
        """Apply a status change from the transition table (report loss, lift, formal loss,
        freeze, unfreeze, cancel); a cancellation needs a reason. Replacement is
        :meth:`replace`.

        Raises:
            WorkflowError: ``TRANSITION_REFUSED``, ``REASON_REQUIRED``, ``CONFLICT``.
        """
        if event in (CardEvent.REPLACE, CardEvent.ACTIVATE):
            raise refuse(WorkflowCode.WRONG_STEP, "use replace() or activate()")
        if event is CardEvent.CANCEL and (reason is None or not reason.strip()):
            raise refuse(WorkflowCode.REASON_REQUIRED)
        now = self._now()
        with self.store.transaction() as session:
            return self._move(session, self._card(session, card_number), event, now, actor, reason)

    def replace(self, card_number: str, *, actor: str, reason: str) -> IssuedCard | None:
        """Replace a card (补换): the old one is 已补换 and all its credentials listed, a new
        card with a new credential follows it (with :attr:`Settings.require_binding`, no
        credential: ``None``, the holder enrols the new card). A reason is required.

        Raises:
            WorkflowError: ``REASON_REQUIRED``, ``TRANSITION_REFUSED``.
        """
        if not isinstance(reason, str) or not reason.strip():
            raise refuse(WorkflowCode.REASON_REQUIRED)
        now = self._now()
        with self.store.transaction() as session:
            old = self._card(session, card_number)
            app = self._app(session, old.application_id)
            self._move(session, old, CardEvent.REPLACE, now, actor, reason)
            session.flush()
            new, issued = self._new_card(session, app, now, actor, sealed=False)
            old.replaced_by = new.card_number
            new.pin_hash = old.pin_hash
            self._event(
                session, now, actor, "issue_replacement", card=new, after=new.state, detail=reason
            )
        return issued

    def lapse_temporary_losses(self, *, actor: str = "scheduler") -> int:
        """Temporary loss reports older than the configured days lapse back to normal (their
        credentials come off the list); return how many."""
        now = self._now()
        limit = int(now.timestamp()) - self.settings.temporary_loss_days * 86400
        with self.store.transaction() as session:
            rows = session.scalars(
                select(CardRow).where(
                    CardRow.state == CardState.TEMPORARY_LOSS.value, CardRow.state_since <= limit
                )
            ).all()
            for row in rows:
                self._move(session, row, CardEvent.LOSS_LAPSED, now, actor, None)
        return len(rows)

    def refresh_revocation_list(self, *, actor: str = "scheduler") -> bytes:
        """Sign the next revocation list with the same content (sequence + 1, a new validity
        window): run it before the current list's next update, or counters stop accepting
        cards (``REVOCATION_LIST_STALE``). Returns the new list."""
        now = self._now()
        with self.store.transaction() as session:
            self._publish(session, now, [], [], actor, force=True)
            self._event(session, now, actor, "publish_list")
        data = self.revocation_list()
        assert data is not None
        return data

    # -- reading

    def revocation_list(self) -> bytes | None:
        """The latest signed revocation list (what the counters download), or ``None``."""
        with self.store.session() as session:
            last = session.scalars(
                select(RevocationRow).order_by(RevocationRow.sequence.desc())
            ).first()
            return last.data if last else None

    def card_state(self, card_number: str) -> CardState:
        """The card's current status."""
        with self.store.session() as session:
            return CardState(self._card(session, card_number).state)

    def events(self, application_id: str | None = None) -> list[EventRow]:
        """The event log (of one application), oldest first."""
        with self.store.session() as session:
            stmt = select(EventRow).order_by(EventRow.id)
            if application_id is not None:
                stmt = stmt.where(EventRow.application_id == application_id)
            return list(session.scalars(stmt).all())


__all__ = [
    "AUTO_REVIEWER",
    "CONSENT_GUARDIAN",
    "CONSENT_PERSONAL",
    "CONSENT_PHOTO",
    "PROFILES",
    "CardView",
    "OverdueApplication",
    "Registry",
    "Settings",
]
