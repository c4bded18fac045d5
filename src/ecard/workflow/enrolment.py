"""Device enrolment: the holder's phone gets the card's credentials, each bound to its own
device key (``cnf``).

1. :meth:`EnrolmentSteps.enrolment_challenge`: the holder proves the phone (a code from
   :meth:`~ecard.workflow.codes.CodeSteps.send_card_code`) and the PIN, exactly as a query
   does (same refusals, a wrong PIN counted); the card must be normal. One fresh nonce per
   profile (:func:`ecard.signing.binding.new_nonce`) comes back; the store keeps only its
   HMAC, bound to the card and the profile, for :attr:`Settings.enrolment_lifetime` (5 min).
   A new challenge replaces the open one.
2. The device answers each nonce with an enrolment request signed by a fresh key
   (:func:`ecard.holder.wallet.enrolment_request`).
3. :meth:`EnrolmentSteps.enrol_device`: every request is checked against its stored nonce,
   which is consumed whether the enrolment succeeds or not; the proof of possession is checked
   and the bound credentials signed (:func:`ecard.signing.binding.issue_profiles`), recorded
   in ``credentials`` with the device key's thumbprint, and journaled. The card's earlier
   credentials (a previous phone, a bearer credential) are superseded and listed in the next
   signed revocation list in the same transaction.

A device key is never accepted twice (not for two profiles, not for two enrolments): two
credentials sharing a key would be linkable.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from ecard.errors import BadHolderSignatureError, EcardError, HolderAlgNotAllowedError
from ecard.formats.credential import IssuedCard
from ecard.formats.presentation import EnrolmentRequest, parse_enrolment
from ecard.signing.binding import issue_profiles, new_nonce
from ecard.workflow.context import StepContext
from ecard.workflow.errors import WorkflowCode, WorkflowError, refuse
from ecard.workflow.lifecycle import CardState
from ecard.workflow.secrets import check_code_format
from ecard.workflow.store import CardRow, CredentialRow, EnrolmentNonceRow

#: The profiles a card is enrolled for: the full card and the counter profile.
PROFILES: Final = ("full", "counter")
#: Largest enrolment request accepted (bytes).
MAX_ENROLMENT_REQUEST: Final = 1024


def _profiles(profiles: object) -> list[str]:
    if isinstance(profiles, str | bytes) or not isinstance(profiles, Sequence | Mapping):
        raise refuse(WorkflowCode.ENROL_PROFILE_UNKNOWN, "a list of profiles")
    chosen = list(profiles)
    if not chosen or any(p not in PROFILES for p in chosen) or len(set(chosen)) != len(chosen):
        raise refuse(WorkflowCode.ENROL_PROFILE_UNKNOWN)
    return chosen


class EnrolmentSteps(StepContext):
    """Enrolment challenges and device enrolment."""

    def _nonce_digest(self, card_number: str, profile: str, nonce: bytes) -> str:
        message = b"ecard-workflow-enrolment:" + f"{card_number}:{profile}:".encode() + nonce
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def enrolment_challenge(
        self,
        card_number: str,
        code: str,
        pin: str,
        *,
        profiles: Sequence[str] = PROFILES,
        actor: str = "online",
    ) -> dict[str, bytes]:
        """The nonces the holder's device answers, one per profile, after the holder proved
        the phone (code) and the PIN on a normal card.

        Raises:
            WorkflowError: ``ENROL_PROFILE_UNKNOWN``, the code's refusals, ``PIN_WRONG``
                (counted), ``PIN_LOCKED``, ``ENROL_CARD_NOT_NORMAL``, ``NOT_FOUND``.
        """
        chosen = _profiles(profiles)
        check_code_format(code)
        now = self._now()
        failure: WorkflowError | None = None
        nonces: dict[str, bytes] = {}
        with self.store.transaction() as session:
            row = self._card(session, card_number)
            app = self._app(session, row.application_id)
            try:
                self._prove_holder(session, row, app, code, pin, now)
                if row.state != CardState.NORMAL.value:
                    raise refuse(WorkflowCode.ENROL_CARD_NOT_NORMAL)
            except WorkflowError as exc:  # the counted try and the used code are committed
                failure = exc
                self._event(
                    session, now, actor, "enrolment_challenge", card=row, detail=exc.workflow_code
                )
            else:
                for profile in chosen:
                    nonce = nonces[profile] = new_nonce()
                    digest = self._nonce_digest(row.card_number, profile, nonce)
                    open_row = session.get(EnrolmentNonceRow, (row.card_number, profile))
                    if open_row is None:
                        session.add(
                            EnrolmentNonceRow(
                                card_number=row.card_number,
                                profile=profile,
                                digest=digest,
                                created_at=int(now.timestamp()),
                                used=False,
                            )
                        )
                    else:
                        open_row.digest, open_row.used = digest, False
                        open_row.created_at = int(now.timestamp())
                self._event(
                    session, now, actor, "enrolment_challenge", card=row, detail=",".join(chosen)
                )
        if failure is not None:
            raise failure
        return nonces

    def _check_requests(
        self, session: Session, row: CardRow, requests: Mapping[str, bytes], now: datetime
    ) -> dict[str, EnrolmentRequest]:
        """Consume every request's nonce, then check them all (the caller commits the
        consumption even when this raises)."""
        parsed: dict[str, EnrolmentRequest] = {}
        failure: WorkflowError | None = None
        lifetime = self.settings.enrolment_lifetime.total_seconds()
        for profile, request in requests.items():
            stored = session.get(EnrolmentNonceRow, (row.card_number, profile))
            was_used = stored is None or stored.used
            if stored is not None:
                stored.used = True
            try:
                if not isinstance(request, bytes) or len(request) > MAX_ENROLMENT_REQUEST:
                    raise refuse(WorkflowCode.ENROL_REQUEST_INVALID, "at most 1024 bytes")
                try:
                    parsed[profile] = one = parse_enrolment(request)
                except EcardError:
                    raise refuse(WorkflowCode.ENROL_REQUEST_INVALID) from None
                if stored is None:
                    raise refuse(WorkflowCode.ENROL_NONCE_WRONG, "no challenge was made")
                digest = self._nonce_digest(row.card_number, profile, one.nonce)
                if not hmac.compare_digest(stored.digest, digest):
                    raise refuse(WorkflowCode.ENROL_NONCE_WRONG)
                if was_used:
                    raise refuse(WorkflowCode.ENROL_NONCE_USED)
                if int(now.timestamp()) - stored.created_at > lifetime:
                    raise refuse(WorkflowCode.ENROL_NONCE_EXPIRED)
            except WorkflowError as exc:
                failure = failure or exc
        if failure is not None:
            raise failure
        checked = parsed
        thumbprints = [r.key.thumbprint.hex() for r in checked.values()]
        if len(set(thumbprints)) != len(thumbprints):
            raise refuse(WorkflowCode.ENROL_SAME_KEY)
        known = session.scalars(
            select(CredentialRow.cti).where(CredentialRow.device_key.in_(thumbprints))
        ).first()
        if known is not None:
            raise refuse(WorkflowCode.ENROL_SAME_KEY, "a device key already enrolled")
        if row.state != CardState.NORMAL.value:
            raise refuse(WorkflowCode.ENROL_CARD_NOT_NORMAL)
        return checked

    def enrol_device(
        self, card_number: str, requests: Mapping[str, bytes], *, actor: str = "online"
    ) -> dict[str, IssuedCard]:
        """Issue the card's bound credentials, one per profile of ``requests`` (profile →
        enrolment request answering that profile's nonce from :meth:`enrolment_challenge`).
        Every nonce named is consumed, success or not; the card's earlier credentials are
        superseded and listed in the next signed revocation list.

        Raises:
            WorkflowError: ``ENROL_PROFILE_UNKNOWN``, ``ENROL_REQUEST_INVALID``,
                ``ENROL_NONCE_WRONG``, ``ENROL_NONCE_USED``, ``ENROL_NONCE_EXPIRED``,
                ``ENROL_SAME_KEY``, ``ENROL_PROOF_INVALID``, ``ENROL_CARD_NOT_NORMAL``,
                ``NOT_FOUND``, ``CONFLICT`` (two enrolments at once).
        """
        if not isinstance(requests, Mapping):
            raise refuse(WorkflowCode.ENROL_PROFILE_UNKNOWN, "a mapping of profile to request")
        _profiles(list(requests))
        now = self._now()
        failure: WorkflowError | None = None
        issued: dict[str, IssuedCard] = {}
        with self.store.transaction() as session:
            row = self._card(session, card_number)
            try:
                checked = self._check_requests(session, row, requests, now)
                app = self._app(session, row.application_id)
                card = self._card_model(app, row, now)
                enrolments = {p: (bytes(requests[p]), r.nonce) for p, r in checked.items()}
                try:
                    issued = issue_profiles(self.issuer, card, enrolments, iat=now)
                except (BadHolderSignatureError, HolderAlgNotAllowedError) as exc:
                    code = (
                        WorkflowCode.ENROL_PROOF_INVALID
                        if isinstance(exc, BadHolderSignatureError)
                        else WorkflowCode.ENROL_REQUEST_INVALID
                    )
                    raise refuse(code) from None
            except WorkflowError as exc:  # the consumed nonces are committed
                failure = exc
                self._event(session, now, actor, "enrol", card=row, detail=exc.workflow_code)
            else:
                # the card row's version moves: a status change racing this enrolment (which
                # lists the card's credentials it sees) makes one of the two CONFLICT, so no
                # credential of a card that stopped being normal escapes the list
                flag_modified(row, "state")
                earlier = [
                    c
                    for c in self._credentials(session, row.card_number)
                    if c.superseded_at is None
                ]
                for c in earlier:
                    c.superseded_at = int(now.timestamp())
                self._publish(session, now, [c for c in earlier if c.revoked_at is None], [], actor)
                for profile, credential in issued.items():
                    self._record_credential(
                        session, row, credential, now, actor, profile=profile,
                        device_key=checked[profile].key.thumbprint,
                    )  # fmt: skip
                self._event(session, now, actor, "enrol", card=row, detail=",".join(sorted(issued)))
        if failure is not None:
            raise failure
        return issued


__all__ = ["MAX_ENROLMENT_REQUEST", "PROFILES", "EnrolmentSteps"]
