"""Building and signing revocation lists (the format is described in
:mod:`ecard.verify.revocation`).

A revocation list names credentials by ``(kid, cti)``: the ``kid`` of the document signer that
signed the credential and the credential's ``cti``. Only their :func:`revocation_hash` goes on
the list. It is signed like the trust list (:func:`~ecard.signing.lists.sign_list`), by a
certificate with the list-signing extended key usage.

:func:`revoke` is the everyday operation (what ``ecard revoke`` runs): read the current full
list, add credentials, sign the next sequence. :func:`sign_revocation_delta` and
:func:`revocation_delta` publish the same change as a small delta for verifiers that hold the
previous list.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from cryptography import x509

from ecard.errors import BadInputError, BadListError, EcardError
from ecard.formats.cwt import MAX_CTI, MIN_CTI
from ecard.formats.lists import MAX_LIST_SIZE, REVOCATION_LIST, ListInfo, decode_list
from ecard.signing.algorithms import certificate_public_key, get_algorithm
from ecard.signing.cose import KID_SIZE, parse_sign1
from ecard.signing.lists import list_info, sign_list
from ecard.signing.signers import Signer
from ecard.verify.paths import PathValidator
from ecard.verify.revocation import (
    BODY_BASE_SEQUENCE,
    BODY_HASHES,
    BODY_REMOVED,
    RevocationList,
    RevocationSet,
    decode_revocation_body,
    revocation_hash,
)

#: How long a list made by :func:`revoke` is valid when no ``next_update`` is given.
DEFAULT_VALIDITY: Final = timedelta(days=1)

Entries = Iterable[tuple[bytes, bytes]] | RevocationSet


def entry_hash(kid: bytes, cti: bytes) -> bytes:
    """:func:`revocation_hash` of one credential, after checking the inputs have the sizes
    ecard credentials use (``kid`` 8 bytes, ``cti`` 8 to 64 bytes); otherwise
    :class:`~ecard.errors.BadInputError`."""
    if type(kid) is not bytes or len(kid) != KID_SIZE:
        raise BadInputError(f"kid must be {KID_SIZE} bytes")
    if type(cti) is not bytes or not MIN_CTI <= len(cti) <= MAX_CTI:
        raise BadInputError(f"cti must be {MIN_CTI} to {MAX_CTI} bytes")
    return revocation_hash(kid, cti)


def entry_set(entries: Entries) -> RevocationSet:
    """A :class:`RevocationSet` of ``(kid, cti)`` pairs (checked by :func:`entry_hash`); a
    :class:`RevocationSet` is returned as is."""
    if isinstance(entries, RevocationSet):
        return entries
    return RevocationSet.from_hashes(entry_hash(kid, cti) for kid, cti in entries)


def _as_set(hashes: RevocationSet | Iterable[bytes]) -> RevocationSet:
    return hashes if isinstance(hashes, RevocationSet) else RevocationSet.from_hashes(hashes)


def build_revocation_body(hashes: RevocationSet | Iterable[bytes]) -> dict[int, Any]:
    """The body of a full revocation list: ``{1: concatenated sorted hashes}``."""
    return {BODY_HASHES: _as_set(hashes).to_bytes()}


def build_delta_body(
    added: RevocationSet | Iterable[bytes],
    removed: RevocationSet | Iterable[bytes],
    base_sequence: int,
) -> dict[int, Any]:
    """The body of a delta list: ``{1: added, 2: removed, 3: base_sequence}``."""
    if type(base_sequence) is not int or not 0 <= base_sequence < 2**63:
        raise BadInputError("base_sequence must be a non-negative integer")
    add, rem = _as_set(added), _as_set(removed)
    both = [h for h in add if h in rem] if len(add) <= len(rem) else [h for h in rem if h in add]
    if both:
        raise BadInputError(f"{len(both)} hash(es) both added and removed")
    return {
        BODY_HASHES: add.to_bytes(),
        BODY_REMOVED: rem.to_bytes(),
        BODY_BASE_SEQUENCE: base_sequence,
    }


def revocation_delta(old: RevocationSet, new: RevocationSet) -> tuple[RevocationSet, RevocationSet]:
    """``(added, removed)`` turning ``old`` into ``new``."""
    added: list[bytes] = []
    removed: list[bytes] = []
    a, b = iter(old), iter(new)
    x, y = next(a, None), next(b, None)
    while True:
        if x is None:
            if y is None:
                break
            added.append(y)
            y = next(b, None)
        elif y is None or x < y:
            removed.append(x)
            x = next(a, None)
        elif y < x:
            added.append(y)
            y = next(b, None)
        else:
            x, y = next(a, None), next(b, None)
    return RevocationSet.from_hashes(added), RevocationSet.from_hashes(removed)


def sign_revocation_list(
    entries: Entries,
    *,
    sequence: int,
    issued_at: datetime,
    next_update: datetime,
    signer: Signer,
    certificate: x509.Certificate,
    chain: Sequence[x509.Certificate] = (),
) -> bytes:
    """Sign a full revocation list of ``entries`` (``(kid, cti)`` pairs, or the hashes as a
    :class:`RevocationSet`).

    ``certificate`` is the list signer's (extended key usage
    :data:`~ecard.signing.pki.ECARD_LIST_SIGNING_EKU`), ``chain`` the CA certificates above it.
    Times must be timezone-aware; ``next_update`` after ``issued_at``.
    """
    info = list_info(REVOCATION_LIST, sequence, issued_at, next_update)
    return sign_list(info, build_revocation_body(entry_set(entries)), signer, certificate, chain)


def sign_revocation_delta(
    added: Entries,
    removed: Entries = (),
    *,
    base_sequence: int,
    sequence: int,
    issued_at: datetime,
    next_update: datetime,
    signer: Signer,
    certificate: x509.Certificate,
    chain: Sequence[x509.Certificate] = (),
) -> bytes:
    """Sign a delta list turning the list ``base_sequence`` into the list ``sequence``
    (``sequence > base_sequence``); see :func:`sign_revocation_list` for the other arguments.
    """
    if type(base_sequence) is not int or type(sequence) is not int or sequence <= base_sequence:
        raise BadInputError("a delta's sequence must be greater than its base_sequence")
    info = list_info(REVOCATION_LIST, sequence, issued_at, next_update)
    body = build_delta_body(entry_set(added), entry_set(removed), base_sequence)
    return sign_list(info, body, signer, certificate, chain)


def read_own_list(data: bytes, certificate: x509.Certificate) -> tuple[ListInfo, RevocationSet]:
    """Read a full revocation list this signer published before, checking its signature
    against ``certificate``'s key (no path validation: the issuer's own file).

    :class:`~ecard.errors.BadListError` if it is not a full revocation list signed with that
    key.
    """
    try:
        msg = parse_sign1(data, max_size=MAX_LIST_SIZE)
        verify = get_algorithm(msg.alg).bind(certificate_public_key(certificate))
    except EcardError as exc:
        raise BadListError(f"{exc.code.value}: {exc.detail}") from None
    if not verify(msg.signature, msg.to_be_signed()):
        raise BadListError("the existing list is not signed by this list signer's key")
    info, body = decode_list(msg.payload, REVOCATION_LIST)
    parsed = decode_revocation_body(body)
    if parsed.is_delta:
        raise BadListError("the existing list is a delta; a full list is needed")
    return info, parsed.hashes


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
    updated = current.apply_delta([h for h in add if h not in current], rem)
    issued = datetime.now(UTC) if issued_at is None else issued_at
    due = issued + DEFAULT_VALIDITY if next_update is None else next_update
    return sign_revocation_list(
        updated,
        sequence=sequence,
        issued_at=issued,
        next_update=due,
        signer=signer,
        certificate=certificate,
        chain=chain,
    )


__all__ = [
    "DEFAULT_VALIDITY",
    "Entries",
    "build_delta_body",
    "build_revocation_body",
    "entry_hash",
    "entry_set",
    "read_own_list",
    "revocation_delta",
    "revoke",
    "sign_revocation_delta",
    "sign_revocation_list",
]
