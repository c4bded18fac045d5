"""The ports an integrator fills: SMS delivery, face liveness, level-2 (bank) issuance and
device binding. Each is a :class:`typing.Protocol`; the local implementations here serve
development and tests (a real gateway, liveness vendor or bank plugs in the same way).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from ecard.card import Card


class SmsGateway(Protocol):
    """Delivers a one-time code to a mobile number (E.164 text)."""

    def send_code(self, phone: str, code: str, *, application_id: str) -> None:
        """Send ``code``; raise to report a delivery failure (nothing is then recorded)."""


@dataclass
class OutboxMessage:
    """One message the local outbox holds."""

    phone: str
    code: str
    application_id: str
    sent_at: datetime


@dataclass
class LocalOutbox:
    """An :class:`SmsGateway` that keeps messages in memory (development, tests)."""

    clock: object = None
    messages: list[OutboxMessage] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def send_code(self, phone: str, code: str, *, application_id: str) -> None:
        """Keep the message."""
        now = self.clock() if callable(self.clock) else datetime.min
        with self._lock:
            self.messages.append(OutboxMessage(phone, code, application_id, now))

    def last_code(self, application_id: str) -> str:
        """The last code sent for ``application_id`` (what the applicant reads on the phone)."""
        with self._lock:
            for message in reversed(self.messages):
                if message.application_id == application_id:
                    return message.code
        raise LookupError("no code was sent for this application")

    def __repr__(self) -> str:
        return f"LocalOutbox({len(self.messages)} messages)"


class LivenessCheck(Protocol):
    """An outside face liveness service: says whether the person present matches the
    document's photo. Returns only a verdict and a reference; face images stay with it."""

    def check(self, application_id: str, evidence: bytes) -> tuple[bool, str]:
        """``(passed, reference)`` for the liveness evidence of an application."""


@dataclass
class FixedLiveness:
    """A :class:`LivenessCheck` that returns a fixed verdict (development, tests)."""

    passed: bool = True

    def check(self, application_id: str, evidence: bytes) -> tuple[bool, str]:
        """The fixed verdict, with a reference naming the application."""
        return self.passed, f"local:{application_id}"


class BankPort(Protocol):
    """Level 2 issuance (payment, linked to the card's bank account): a bank integration
    fills it. Level 1 (query and proof of identity) needs nothing from it."""

    def open_account(self, card_number: str, region: str) -> str:
        """Link a bank account to the card; return the bank's reference."""


class DeviceBinding(Protocol):
    """The holder's device key for a bound card (``cnf``): called at issuance when given.

    The hook returns the card to sign (unchanged for an unbound card); binding to a device key
    plugs in here when the holder side lands."""

    def bind(self, card: Card, application_id: str) -> Card:
        """The card to sign for ``application_id``."""


__all__ = [
    "BankPort",
    "DeviceBinding",
    "FixedLiveness",
    "LivenessCheck",
    "LocalOutbox",
    "OutboxMessage",
    "SmsGateway",
]
