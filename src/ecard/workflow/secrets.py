"""One-time codes and service PINs: generation, rules and hashing.

* Codes: 6 digits from the operating system's CSPRNG (:mod:`secrets`), stored only as an HMAC
  (never in clear), checked in constant time. Lifetime, tries, resend spacing and daily cap are
  :class:`CodeRules` (NIST SP 800-63B is the anchor: single use, short-lived, rate limited).
* PINs: 6 digits, not an ascending or descending run, not one digit repeated, not 6
  consecutive characters of the holder's document number; hashed with scrypt
  (:func:`hashlib.scrypt`, a memory-hard KDF) under a random salt.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from ecard.workflow.errors import WorkflowCode, refuse

#: Digits in a one-time code and in a PIN.
CODE_DIGITS: Final = 6
PIN_DIGITS: Final = 6
#: Wrong PINs before the PIN locks.
PIN_MAX_FAILURES: Final = 6
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


@dataclass(frozen=True)
class CodeRules:
    """The one-time code rules (defaults: 5 minutes, 5 tries, 60 s between sends, 10 a day)."""

    lifetime: timedelta = timedelta(minutes=5)
    max_tries: int = 5
    resend_after: timedelta = timedelta(seconds=60)
    daily_cap: int = 10


def new_code() -> str:
    """A fresh 6-digit code from the CSPRNG."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_digest(key: bytes, application_id: str, code: str) -> str:
    """What the store keeps of a code: HMAC-SHA-256 bound to the application."""
    return hmac.new(key, f"{application_id}:{code}".encode(), hashlib.sha256).hexdigest()


def check_code_format(code: object) -> str:
    """``code`` if it is 6 ASCII digits; else ``CODE_FORMAT``."""
    if not isinstance(code, str) or len(code) != CODE_DIGITS or not code.isascii():
        raise refuse(WorkflowCode.CODE_FORMAT)
    if not code.isdigit():
        raise refuse(WorkflowCode.CODE_FORMAT)
    return code


def check_pin_rules(pin: object, document_number: str) -> str:
    """``pin`` if it is an acceptable new PIN; else ``PIN_WEAK`` saying which rule."""
    if not isinstance(pin, str) or len(pin) != PIN_DIGITS or not (pin.isascii() and pin.isdigit()):
        raise refuse(WorkflowCode.PIN_WEAK, "6 digits")
    steps = {int(b) - int(a) for a, b in itertools.pairwise(pin)}
    if steps in ({1}, {-1}):
        raise refuse(WorkflowCode.PIN_WEAK, "a sequence")
    if steps == {0}:
        raise refuse(WorkflowCode.PIN_WEAK, "one digit repeated")
    if pin in document_number:
        raise refuse(WorkflowCode.PIN_WEAK, "taken from the document number")
    return pin


def hash_pin(pin: str) -> str:
    """``scrypt$N$r$p$salt$hash`` (hex) of ``pin`` under a fresh 16-byte salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


def pin_matches(pin: str, stored: str) -> bool:
    """Whether ``pin`` is the one :func:`hash_pin` produced ``stored`` for (constant time)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(pin.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p))
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)


__all__ = [
    "CODE_DIGITS",
    "PIN_DIGITS",
    "PIN_MAX_FAILURES",
    "CodeRules",
    "check_code_format",
    "check_pin_rules",
    "code_digest",
    "hash_pin",
    "new_code",
    "pin_matches",
]
