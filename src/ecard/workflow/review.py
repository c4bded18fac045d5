"""Applications and their review: :meth:`ReviewSteps.submit` (either channel, every check
of the document, the name, the phone, the region, the consents and who may apply),
:meth:`ReviewSteps.review_online` (the online channel's automatic rules),
:meth:`ReviewSteps.review` (a clerk's decision: never one's own case, a reason for a
rejection) and :meth:`ReviewSteps.overdue_applications` (the per-region review deadlines).
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

from ecard._time import utc
from ecard.documents import DocumentType, check_document_in_force, parse_document
from ecard.identifiers import normalize_name, normalize_region_code
from ecard.workflow.context import CONSENT_GUARDIAN, CONSENT_PERSONAL, CONSENT_PHOTO, StepContext
from ecard.workflow.errors import WorkflowCode, refuse
from ecard.workflow.store import ApplicationRow

Channel = Literal["online", "window"]
Relation = Literal["self", "guardian", "family"]
#: The actor the online channel's automatic review records.
AUTO_REVIEWER: Final = "auto-rules"


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


def e164_mobile(phone: object) -> str | None:
    """The E.164 form of a mainland China mobile number, or ``None`` for anything else (at
    most 20 characters are parsed). The one check of the workflow and of the service's
    accounts; each raises its own refusal."""
    if not isinstance(phone, str) or len(phone) > 20:
        return None
    try:
        number = phonenumbers.parse(phone, "CN")
    except phonenumbers.NumberParseException:
        return None
    if (
        number.country_code != 86
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE
    ):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _mobile(phone: object) -> str:
    """The E.164 form of a mainland mobile number, or ``PHONE_INVALID``."""
    mobile = e164_mobile(phone)
    if mobile is None:
        raise refuse(WorkflowCode.PHONE_INVALID)
    return mobile


class ReviewSteps(StepContext):
    """Submission, review and review deadlines."""

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


__all__ = [
    "AUTO_REVIEWER",
    "Channel",
    "OverdueApplication",
    "Relation",
    "ReviewSteps",
    "e164_mobile",
]
