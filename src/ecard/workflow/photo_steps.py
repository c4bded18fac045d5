"""The ID photo steps: the separate consent, storing the photo encrypted
(:func:`ecard.workflow.photos.seal_photo`, bound to the application), a clerk's reading (an
event), and the purge after the retention."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import func, select

from ecard._time import utc
from ecard.workflow.context import CONSENT_PHOTO, StepContext
from ecard.workflow.errors import WorkflowCode, refuse
from ecard.workflow.photo_metadata import strip_metadata
from ecard.workflow.photos import Photo, check_photo, open_photo, seal_photo
from ecard.workflow.store import ApplicationRow, EventRow, PhotoRow


class PhotoSteps(StepContext):
    """ID photos: consent, storage, reading, purge."""

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
        """Keep the application's ID photo without its metadata (EXIF with GPS, XMP, ICC,
        text; pixels unchanged, :mod:`ecard.workflow.photo_metadata`), encrypted (AES-256-GCM
        under ``photo_key``, bound to the application); a second photo replaces the first. Only before issuance (the
        application submitted or approved) and only with the ``id_photo`` consent.

        Raises:
            WorkflowError: ``PHOTO_TOO_LARGE``, ``PHOTO_INVALID``, ``PHOTO_BOMB``,
                ``CONSENT_REQUIRED``, ``WRONG_STEP`` (no key, wrong state), ``NOT_FOUND``.
        """
        key = self._require_photo_key()
        check_photo(photo)
        clean = strip_metadata(bytes(photo))
        now = self._now()
        with self.store.transaction() as session:
            app = self._app(session, application_id, lock=True)
            if CONSENT_PHOTO not in json.loads(app.consents):
                raise refuse(WorkflowCode.CONSENT_REQUIRED, "the separate ID photo consent")
            if app.state not in ("submitted", "approved"):
                raise refuse(WorkflowCode.WRONG_STEP, f"state {app.state}")
            blob = seal_photo(key, app.id, clean)
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
        :attr:`Settings.photo_retention` ago, and of applications abandoned that long (no
        decision, and no event on them since: no code, no check, no new photo); ``now``
        defaults to the clock. Return how many. Each deletion is an event (``purge_photo``,
        detail ``decided`` or ``abandoned``)."""
        now = self._now() if now is None else utc(now, "the purge time")
        limit = int((now - self.settings.photo_retention).timestamp())
        last_activity = (
            select(func.max(EventRow.at))
            .where(EventRow.application_id == ApplicationRow.id)
            .correlate(ApplicationRow)
            .scalar_subquery()
        )
        with self.store.transaction() as session:
            decided = session.execute(
                select(PhotoRow, ApplicationRow)
                .join(ApplicationRow, ApplicationRow.id == PhotoRow.application_id)
                .where(ApplicationRow.decided_at.is_not(None), ApplicationRow.decided_at <= limit)
            ).all()
            abandoned = session.execute(
                select(PhotoRow, ApplicationRow)
                .join(ApplicationRow, ApplicationRow.id == PhotoRow.application_id)
                .where(
                    ApplicationRow.decided_at.is_(None),
                    PhotoRow.stored_at <= limit,
                    func.coalesce(last_activity, ApplicationRow.submitted_at) <= limit,
                )
            ).all()
            for why, rows in (("decided", decided), ("abandoned", abandoned)):
                for photo, app in rows:
                    session.delete(photo)
                    self._event(session, now, actor, "purge_photo", app=app, detail=why)
        return len(decided) + len(abandoned)


__all__ = ["PhotoSteps"]
