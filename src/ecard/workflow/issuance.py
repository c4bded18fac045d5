"""Issuance and the card lifecycle: :meth:`IssuanceSteps.issue` (a new card and, unless
:attr:`~ecard.workflow.settings.Settings.require_binding`, its bearer credential),
:meth:`IssuanceSteps.activate`, the status changes of the transition table
(:meth:`IssuanceSteps.change`, :meth:`IssuanceSteps.replace`,
:meth:`IssuanceSteps.lapse_temporary_losses`) and the signed revocation lists they produce.

A status change that makes the card unusable lists all its live credentials in the next
revocation list (signed in the same transaction, journaled); a change back to ``normal``
takes back those not superseded by a later enrolment.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecard.formats.credential import IssuedCard
from ecard.workflow.context import StepContext
from ecard.workflow.errors import WorkflowCode, refuse
from ecard.workflow.lifecycle import (
    ACTIVE_STATES,
    CardEvent,
    CardState,
    invalidates,
    next_state,
    restores,
)
from ecard.workflow.store import ApplicationRow, CardRow, RevocationRow

_CARD_ALPHABET: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"


class IssuanceSteps(StepContext):
    """Issuance, activation, status changes, revocation lists."""

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

    def replaced_by(self, card_number: str) -> str | None:
        """The number of the card that replaced ``card_number`` (``None`` if not replaced):
        what :meth:`replace` made, also when it signed no credential
        (:attr:`~ecard.workflow.settings.Settings.require_binding`).

        Raises:
            WorkflowError: ``NOT_FOUND``.
        """
        with self.store.session() as session:
            return self._card(session, card_number).replaced_by


__all__ = ["IssuanceSteps"]
