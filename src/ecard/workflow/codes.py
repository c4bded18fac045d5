"""The holder's proofs: one-time codes to the phone (:meth:`CodeSteps.send_code`,
:meth:`CodeSteps.check_code`, :meth:`CodeSteps.send_card_code`), the face liveness verdict
through its port, the service PIN and the query (code + PIN) that shows the masked card.

Codes are 6 CSPRNG digits kept only as an HMAC bound to the application, single use, with the
lifetime, tries, resend interval and daily cap of :class:`~ecard.workflow.secrets.CodeRules`;
the PIN is kept as scrypt and locks after
:data:`~ecard.workflow.secrets.PIN_MAX_FAILURES` wrong tries. A failed check is committed
(the try counts) before the refusal is raised.
"""

from __future__ import annotations

from dataclasses import dataclass

from ecard.workflow.context import StepContext
from ecard.workflow.errors import WorkflowCode, WorkflowError, refuse
from ecard.workflow.lifecycle import CardState
from ecard.workflow.secrets import (
    check_code_format,
    check_pin_rules,
    code_digest,
    hash_pin,
    new_code,
)
from ecard.workflow.store import CodeRow


@dataclass(frozen=True)
class CardView:
    """What a query shows: masked data and the status."""

    card_number: str
    state: CardState
    masked: dict[str, str]


class CodeSteps(StepContext):
    """Codes, liveness, PIN and query."""

    def send_code(self, application_id: str, *, actor: str = "online") -> None:
        """Send a fresh code to the application's phone (through the SMS port).

        Raises:
            WorkflowError: ``RESEND_TOO_SOON`` (60 s), ``DAILY_CAP``, ``NOT_FOUND``,
                ``CONFLICT`` (another send won the race).
        """
        rules = self.settings.codes
        now = self._now()
        ts, day = int(now.timestamp()), self._today(now).isoformat()
        with self.store.transaction() as session:
            app = self._app(session, application_id)
            row = session.get(CodeRow, application_id)
            sent_today = 0
            if row is not None:
                if ts - row.sent_at < rules.resend_after.total_seconds():
                    raise refuse(WorkflowCode.RESEND_TOO_SOON)
                sent_today = row.sent_today if row.day == day else 0
                if sent_today >= rules.daily_cap:
                    raise refuse(WorkflowCode.DAILY_CAP)
            code = new_code()
            digest = code_digest(self._key, application_id, code)
            if row is None:
                session.add(
                    CodeRow(
                        application_id=application_id,
                        digest=digest,
                        sent_at=ts,
                        tries=0,
                        used=False,
                        day=day,
                        sent_today=1,
                    )
                )
            else:
                row.digest, row.sent_at, row.tries, row.used = digest, ts, 0, False
                row.day, row.sent_today = day, sent_today + 1
            self._event(session, now, actor, "send_code", app=app)
            session.flush()  # a racing send fails here, before the message leaves
            self.sms.send_code(app.phone, code, application_id=application_id)

    def send_card_code(self, card_number: str, *, actor: str = "online") -> None:
        """Send a fresh code to the phone of the card's application (for :meth:`query` and
        :meth:`~ecard.workflow.enrolment.EnrolmentSteps.enrolment_challenge`), with the same
        rules and refusals as :meth:`send_code`.

        Raises:
            WorkflowError: ``NOT_FOUND``, ``RESEND_TOO_SOON``, ``DAILY_CAP``, ``CONFLICT``.
        """
        with self.store.session() as session:
            application_id = self._card(session, card_number).application_id
        self.send_code(application_id, actor=actor)

    def check_code(self, application_id: str, code: str, *, actor: str = "online") -> None:
        """Check the code the applicant read on the phone; binds the phone.

        Raises:
            WorkflowError: ``CODE_FORMAT``, ``CODE_WRONG`` (the try is counted),
                ``CODE_EXPIRED``, ``CODE_USED``, ``CODE_TRIES_EXCEEDED``.
        """
        check_code_format(code)
        now = self._now()
        failure: WorkflowError | None = None
        with self.store.transaction() as session:
            app = self._app(session, application_id)
            try:
                self._use_code(session, app, code, now)
            except WorkflowError as exc:  # the counted try must be committed
                failure = exc
                self._event(session, now, actor, "check_code", app=app, detail=exc.workflow_code)
            else:
                app.phone_verified = True
                self._event(session, now, actor, "check_code", app=app, detail="ok")
        if failure is not None:
            raise failure

    def record_liveness(
        self, application_id: str, evidence: bytes, *, actor: str = "online"
    ) -> None:
        """Ask the liveness port; record only its verdict and reference (no face image).

        Raises:
            WorkflowError: ``LIVENESS_FAILED``.
        """
        passed, reference = self.liveness.check(application_id, evidence)
        now = self._now()
        with self.store.transaction() as session:
            app = self._app(session, application_id)
            if passed:
                app.liveness = reference[:128]
            self._event(
                session, now, actor, "liveness", app=app, detail="pass" if passed else "fail"
            )
        if not passed:
            raise refuse(WorkflowCode.LIVENESS_FAILED)

    def set_pin(self, card_number: str, pin: str, *, actor: str = "online") -> None:
        """Set the card's 6-digit service PIN (stored as scrypt).

        Raises:
            WorkflowError: ``PIN_WEAK`` (a sequence, a repeat, part of the document number).
        """
        now = self._now()
        with self.store.transaction() as session:
            row = self._card(session, card_number)
            app = self._app(session, row.application_id)
            check_pin_rules(pin, app.document_number)
            row.pin_hash, row.pin_failures = hash_pin(pin), 0
            self._event(session, now, actor, "set_pin", card=row)

    def query(self, card_number: str, code: str, pin: str, *, actor: str = "online") -> CardView:
        """The holder proves possession of the phone (a code sent by :meth:`send_code` or
        :meth:`send_card_code` for the card's application) and knows the PIN; returns the
        masked card and its status.

        Raises:
            WorkflowError: the code's refusals, ``PIN_WRONG`` (counted), ``PIN_LOCKED``.
        """
        check_code_format(code)
        now = self._now()
        failure: WorkflowError | None = None
        with self.store.transaction() as session:
            row = self._card(session, card_number)
            app = self._app(session, row.application_id)
            try:
                self._prove_holder(session, row, app, code, pin, now)
            except WorkflowError as exc:
                failure = exc
                self._event(session, now, actor, "query", card=row, detail=exc.workflow_code)
            else:
                self._event(session, now, actor, "query", card=row, detail="ok")
                masked = self._card_model(app, row, now).masked()
                masked.pop("issued"), masked.pop("expires"), masked.pop("status")
                view = CardView(row.card_number, CardState(row.state), masked)
        if failure is not None:
            raise failure
        return view


__all__ = ["CardView", "CodeSteps"]
