"""Signing revocation lists (the format is :mod:`ecard.formats.revocation`).

A revocation list names credentials by ``(kid, cti)``: the ``kid`` of the document signer that
signed the credential and the credential's ``cti``. Only their :func:`revocation_hash` goes on
the list (:func:`~ecard.formats.revocation.revocation_hash`). It is signed like the trust list (:func:`~ecard.signing.lists.sign_list`), by a
certificate with the list-signing extended key usage.

:func:`sign_revocation_list` signs a full list, :func:`sign_revocation_delta` the same change
as a small delta for verifiers that hold the previous list, and :func:`read_own_list` reads
back a full list this signer published. The everyday operation that reads the current list and
signs the next (``ecard revoke``) is :func:`ecard.publish.revocation.revoke`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cryptography import x509

from ecard.errors import BadInputError, BadListError
from ecard.formats.lists import REVOCATION_LIST, ListInfo
from ecard.formats.revocation import (
    Entries,
    RevocationSet,
    build_delta_body,
    build_revocation_body,
    decode_revocation_body,
    entry_set,
)
from ecard.signing.lists import list_info, read_own_signed_list, sign_list
from ecard.signing.signers import Signer


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
    :data:`~ecard.crypto.x509.ECARD_LIST_SIGNING_EKU`), ``chain`` the CA certificates above it.
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
    info, body = read_own_signed_list(data, certificate, REVOCATION_LIST)
    parsed = decode_revocation_body(body)
    if parsed.is_delta:
        raise BadListError("the existing list is a delta; a full list is needed")
    return info, parsed.hashes


__all__ = ["read_own_list", "sign_revocation_delta", "sign_revocation_list"]
