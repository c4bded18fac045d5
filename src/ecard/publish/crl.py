"""The next CRL of a CA, continued from the one it published before.

Re-making a CRL from scratch is how revocations get lost: a refresh that forgets a certificate
un-revokes it, and one that repeats it without its original date moves the revocation to now,
so cards signed with a compromised key between the two dates verify again. :func:`next_crl`
starts from the previous CRL instead:

- every certificate it revoked stays revoked, with its original date and reason; a repeated
  revocation keeps the earlier of the two dates (a later one would reopen a window);
- each new revocation has its own time and reason;
- the CRL number goes up: one more than the previous by default, and an explicit number must be
  higher; ``thisUpdate`` may not go back before the previous CRL's;
- the previous CRL must be this CA's own: issued under its name and signed with its key.

Verifiers refuse a CRL older than one they have seen through their state file (see
:class:`ecard.verify.lists.ListState`), so numbers that only go up are what makes a CRL
refresh safe to distribute.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography import x509

from ecard._time import system_clock, utc
from ecard.crypto.crl import crl_number
from ecard.crypto.x509sig import is_signed_by
from ecard.errors import BadCertificateError, BadInputError
from ecard.signing.crl import Revocation, create_crl
from ecard.signing.pki import CertifiedKey

#: Largest CRL number RFC 5280 allows (20 octets).
MAX_CRL_NUMBER = (1 << 159) - 1


@dataclass(frozen=True)
class CrlUpdate:
    """The next CRL and what changed against the previous one."""

    crl: x509.CertificateRevocationList
    #: The new CRL's number.
    number: int
    #: Serial numbers revoked for the first time by this CRL.
    added: tuple[int, ...]
    #: Serial numbers asked to be revoked that the previous CRL already revoked (kept, with the
    #: earlier of the two dates).
    already: tuple[int, ...]
    #: Serial numbers carried over from the previous CRL.
    kept: tuple[int, ...]


def _reason(entry: x509.RevokedCertificate) -> x509.ReasonFlags:
    try:
        return entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    except x509.ExtensionNotFound:
        return x509.ReasonFlags.unspecified


def next_crl(
    ca: CertifiedKey,
    previous: x509.CertificateRevocationList | None,
    revoke: Iterable[Revocation] = (),
    *,
    this_update: dt.datetime | None = None,
    next_update: dt.datetime | None = None,
    days: int = 7,
    number: int | None = None,
) -> CrlUpdate:
    """The CRL that follows ``previous`` (``None`` for the CA's first), adding ``revoke``.

    ``revoke`` holds ``(certificate or serial, revocation time[, reason])``, each with its own
    time. ``this_update`` defaults to now, ``next_update`` to ``this_update + days``.

    Raises :class:`~ecard.errors.BadCertificateError` if ``previous`` is not this CA's CRL, and
    :class:`~ecard.errors.BadInputError` for a number that does not go up, a ``thisUpdate``
    before the previous one, or a revocation dated after ``this_update``.
    """
    start = system_clock() if this_update is None else utc(this_update, "this_update")
    entries: dict[int, tuple[int, dt.datetime, x509.ReasonFlags]] = {}
    last = 0
    if previous is not None:
        if previous.issuer != ca.certificate.subject or not is_signed_by(previous, ca.certificate):
            raise BadCertificateError(
                "the previous CRL was not issued by this CA (other name or other key)"
            )
        last = crl_number(previous) or 0
        if start < previous.last_update_utc:
            raise BadInputError(
                f"this update {start.isoformat()} is before the previous CRL's "
                f"{previous.last_update_utc.isoformat()}"
            )
        for entry in previous:
            entries[entry.serial_number] = (
                entry.serial_number,
                entry.revocation_date_utc,
                _reason(entry),
            )
    kept = tuple(entries)
    added: list[int] = []
    already: list[int] = []
    for item in revoke:
        subject, when = item[0], utc(item[1], "revocation time")
        reason = item[2] if len(item) == 3 else x509.ReasonFlags.unspecified
        serial = subject.serial_number if isinstance(subject, x509.Certificate) else subject
        if when > start:
            raise BadInputError(
                f"revocation time {when.isoformat()} is after this update {start.isoformat()}"
            )
        if serial in entries:
            already.append(serial)
            old = entries[serial]
            if when < old[1]:  # earlier is stricter; a later date would reopen a window
                entries[serial] = (serial, when, reason)
        else:
            added.append(serial)
            entries[serial] = (serial, when, reason)
    if number is None:
        number = last + 1
    elif isinstance(number, bool) or not isinstance(number, int) or number <= last:
        raise BadInputError(f"CRL number must be higher than the previous one ({last})")
    if number > MAX_CRL_NUMBER:
        raise BadInputError("CRL number is larger than 20 octets (RFC 5280)")
    crl = create_crl(
        ca,
        entries.values(),
        this_update=start,
        next_update=next_update,
        days=days,
        number=number,
    )
    return CrlUpdate(crl=crl, number=number, added=tuple(added), already=tuple(already), kept=kept)


__all__ = ["MAX_CRL_NUMBER", "CrlUpdate", "crl_number", "next_crl"]
