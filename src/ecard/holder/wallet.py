"""Enrolment, the holder's clock and the ``EC2:`` presentation builder.

The device never trusts its own wall clock (the user can set it): :class:`HolderClock` keeps
the offset between the server's time, learnt at enrolment or at the last sync, and
``time.monotonic()``, which the user cannot move. A :class:`Presenter` signs a presentation of
the bound card for one purpose and re-signs it every :data:`REFRESH_SECONDS` (sooner when the
counter's challenge changes), so a screenshot is stale within the verifier's window.

>>> from datetime import UTC, datetime
>>> clock = HolderClock.synced(datetime(2026, 3, 1, 8, 0, tzinfo=UTC))
>>> abs(clock.now() - 1772352000) <= 1
True
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from ecard._time import utc
from ecard.errors import BadInputError, BadKeyError
from ecard.formats.cose import assemble_sign1, parse_sign1, sig_structure
from ecard.formats.cosekey import DeviceKey
from ecard.formats.cwt import decode_claims
from ecard.formats.presentation import (
    MAX_CNONCE,
    PURPOSES,
    assemble_presentation,
    encode_text,
    enrolment_parts,
    presentation_payload,
    presentation_protected,
)
from ecard.formats.qrtext import decode as decode_card_text
from ecard.holder.keys import DeviceSigner

#: How often a presentation is signed anew (seconds).
REFRESH_SECONDS: Final = 30


def enrolment_request(signer: DeviceSigner, nonce: bytes) -> bytes:
    """The proof of possession the issuer asks for: the device key and ``nonce``, signed."""
    key = DeviceKey.from_public_key(signer.public_key())
    protected, payload = enrolment_parts(key, bytes(nonce))
    return assemble_sign1(protected, payload, signer.sign(sig_structure(protected, payload)))


@dataclass(frozen=True)
class HolderClock:
    """Server time as the device knows it: ``server_time - monotonic`` at the last sync."""

    offset: float
    monotonic: Callable[[], float] = time.monotonic

    @classmethod
    def synced(
        cls, server_time: datetime, monotonic: Callable[[], float] = time.monotonic
    ) -> HolderClock:
        """A clock set from the server's time (aware) read just now."""
        return cls(utc(server_time, "server_time").timestamp() - monotonic(), monotonic)

    def now(self) -> int:
        """Seconds since the epoch, from the stored offset and the monotonic clock."""
        return int(self.offset + self.monotonic())


class Presenter:
    """Makes ``EC2:`` presentations of one bound card with its device key.

    ``card`` is the bound card's ``EC1:`` text or COSE bytes as issued; it must be bound to
    ``signer``'s key (:class:`~ecard.errors.BadKeyError` otherwise).
    """

    def __init__(self, card: str | bytes, signer: DeviceSigner, clock: HolderClock) -> None:
        cose = decode_card_text(card) if isinstance(card, str) else bytes(card)
        claims = decode_claims(parse_sign1(cose).payload)  # the holder reads its own card
        if claims.cnf is None:
            raise BadKeyError("the card is not bound to a device key")
        if claims.cnf != DeviceKey.from_public_key(signer.public_key()):
            raise BadKeyError("the card is bound to another device key")
        self.card = cose
        self.claims = claims
        self._signer = signer
        self._clock = clock
        self._protected = presentation_protected(signer.algorithm.cose_id, cose)
        self._current: tuple[str, bytes | None, int, str] | None = None

    def present(self, purpose: str, *, challenge: str | None = None, at: int | None = None) -> str:
        """A freshly signed presentation text for ``purpose`` (answering ``challenge``)."""
        if purpose not in PURPOSES:
            raise BadInputError(f"purpose must be one of {sorted(PURPOSES)}")
        cnonce = None
        if challenge is not None:
            cnonce = challenge.strip().encode("ascii", "replace")
            if not 1 <= len(cnonce) <= MAX_CNONCE:
                raise BadInputError(f"a challenge has 1..{MAX_CNONCE} characters")
        iat = self._clock.now() if at is None else at
        payload = presentation_payload(purpose, iat, cnonce)
        signature = self._signer.sign(sig_structure(self._protected, payload))
        return encode_text(assemble_presentation(self._protected, payload, signature))

    def current(self, purpose: str, *, challenge: str | None = None) -> tuple[str, int]:
        """The presentation to show now and the seconds it has left before the next refresh:
        re-signed when :data:`REFRESH_SECONDS` have passed or the purpose or challenge changed."""
        now = self._clock.now()
        cnonce = None if challenge is None else challenge.encode("ascii", "replace")
        cached = self._current
        if cached is None or cached[:2] != (purpose, cnonce) or now - cached[2] >= REFRESH_SECONDS:
            cached = (purpose, cnonce, now, self.present(purpose, challenge=challenge, at=now))
            self._current = cached
        return cached[3], REFRESH_SECONDS - (now - cached[2])


__all__ = ["REFRESH_SECONDS", "HolderClock", "Presenter", "enrolment_request"]
