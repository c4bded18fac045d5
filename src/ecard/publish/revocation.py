"""The everyday revocation operation (what ``ecard revoke`` runs): read the current full list,
add or take out credentials, sign the next sequence.

The previous list is read either as this signer's own file (its signature checked against the
signer's certificate) or, after a list-signer key rollover, as any full revocation list valid
under a :class:`~ecard.verify.paths.PathValidator`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from cryptography import x509

from ecard._time import system_clock
from ecard.errors import BadInputError
from ecard.formats.revocation import Entries, RevocationSet, entry_set
from ecard.signing.revocation import read_own_list, sign_revocation_list
from ecard.signing.signers import Signer
from ecard.verify.paths import PathValidator
from ecard.verify.revocation import RevocationList

#: How long a list made by :func:`revoke` is valid when no ``next_update`` is given.
DEFAULT_VALIDITY: Final = timedelta(days=1)


@dataclass(frozen=True)
class RevocationUpdate:
    """The next signed revocation list and what changed against the current one."""

    #: The signed list.
    data: bytes
    #: Its sequence number.
    sequence: int
    #: Credentials newly on the list.
    added: int
    #: Credentials asked to be revoked that the list already named (a no-op, not "+1").
    already: int
    #: Credentials taken off the list.
    removed: int
    #: Credentials on the new list.
    total: int


def next_revocation_list(
    existing: bytes | None,
    entries: Entries,
    *,
    signer: Signer,
    certificate: x509.Certificate,
    chain: Sequence[x509.Certificate] = (),
    unrevoke: Entries = (),
    issued_at: datetime | None = None,
    next_update: datetime | None = None,
    validator: PathValidator | None = None,
) -> RevocationUpdate:
    """As :func:`revoke`, and say what changed: how many credentials were added, were already
    on the list, or were taken off."""
    if existing is None:
        sequence, current = 1, RevocationSet()
    elif validator is not None:
        previous = RevocationList.load(existing, validator=validator)
        sequence, current = previous.sequence + 1, previous.hashes
    else:
        info, current = read_own_list(existing, certificate)
        sequence = info.sequence + 1
    add, rem = entry_set(entries), entry_set(unrevoke)
    if any(h in rem for h in add):
        raise BadInputError("a credential cannot be both revoked and un-revoked")
    missing = sum(1 for h in rem if h not in current)
    if missing:
        raise BadInputError(f"{missing} credential(s) to un-revoke are not on the list")
    new = [h for h in add if h not in current]
    updated = current.apply_delta(new, rem)
    issued = system_clock() if issued_at is None else issued_at
    due = issued + DEFAULT_VALIDITY if next_update is None else next_update
    data = sign_revocation_list(
        updated,
        sequence=sequence,
        issued_at=issued,
        next_update=due,
        signer=signer,
        certificate=certificate,
        chain=chain,
    )
    return RevocationUpdate(
        data=data,
        sequence=sequence,
        added=len(new),
        already=len(add) - len(new),
        removed=len(rem),
        total=len(updated),
    )


def revoke(
    existing: bytes | None,
    entries: Entries,
    *,
    signer: Signer,
    certificate: x509.Certificate,
    chain: Sequence[x509.Certificate] = (),
    unrevoke: Entries = (),
    issued_at: datetime | None = None,
    next_update: datetime | None = None,
    validator: PathValidator | None = None,
) -> bytes:
    """The next full revocation list: ``existing`` (signed bytes, or ``None`` to start) with
    ``entries`` (``(kid, cti)`` pairs) added and ``unrevoke`` taken out, sequence + 1 (1 for
    the first list).

    Revoking an already-revoked credential is a no-op; un-revoking one that is not on the list
    is a :class:`~ecard.errors.BadInputError`. ``existing`` must be a full list signed with
    ``certificate``'s key, or, if ``validator`` is given, any full revocation list valid under
    it (after a list-signer key rollover). ``issued_at`` defaults to now, ``next_update`` to
    ``issued_at`` + :data:`DEFAULT_VALIDITY`.
    """
    return next_revocation_list(
        existing,
        entries,
        signer=signer,
        certificate=certificate,
        chain=chain,
        unrevoke=unrevoke,
        issued_at=issued_at,
        next_update=next_update,
        validator=validator,
    ).data


__all__ = ["DEFAULT_VALIDITY", "RevocationUpdate", "next_revocation_list", "revoke"]
