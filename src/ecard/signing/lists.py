"""Signing trust lists and revocation lists.

A list is a COSE_Sign1 whose protected header carries ``alg``, ``kid`` and ``x5chain``
(RFC 9360: the list signer's certificate, then the CA certificates above it), so a verifier
holding only the root can validate the signer's path. The list signer's certificate must carry
the extended key usage :data:`~ecard.crypto.x509.ECARD_LIST_SIGNING_EKU`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from ecard._time import utc
from ecard.crypto.algorithms import certificate_public_key, get_algorithm
from ecard.crypto.x509 import list_signing_unfitness
from ecard.errors import BadCertificateError, BadInputError, BadListError, EcardError
from ecard.formats.cose import HEADER_X5CHAIN, kid_for_certificate, parse_sign1
from ecard.formats.lists import MAX_LIST_SIZE, ListInfo, decode_list, encode_list
from ecard.signing.cose import build_sign1
from ecard.signing.signers import Signer, require_certified_key


def _timestamp(value: datetime, name: str) -> int:
    return math.floor(utc(value, name).timestamp())


def list_info(
    list_type: str, sequence: int, issued_at: datetime, next_update: datetime
) -> ListInfo:
    """The header of a list about to be signed; :class:`~ecard.errors.BadInputError` if the
    times are naive or the values out of range."""
    try:
        return ListInfo(
            type=list_type,
            sequence=sequence,
            issued_at=_timestamp(issued_at, "issued_at"),
            next_update=_timestamp(next_update, "next_update"),
        )
    except BadListError as exc:
        raise BadInputError(exc.detail) from None


def read_own_signed_list(
    data: bytes, certificate: x509.Certificate, expected_type: str
) -> tuple[ListInfo, Any]:
    """The header and body of a list of ``expected_type`` this signer published before, its
    signature checked against ``certificate``'s key (no path validation: the publisher's own
    file, e.g. to continue its sequence).

    :class:`~ecard.errors.BadListError` if it is not such a list signed with that key.
    """
    try:
        msg = parse_sign1(data, max_size=MAX_LIST_SIZE)
        verify = get_algorithm(msg.alg).bind(certificate_public_key(certificate))
    except EcardError as exc:
        raise BadListError(f"{exc.code.value}: {exc.detail}") from None
    if not verify(msg.signature, msg.to_be_signed()):
        raise BadListError("the existing list is not signed by this list signer's key")
    return decode_list(msg.payload, expected_type)


def sign_list(
    info: ListInfo,
    body: Any,
    signer: Signer,
    certificate: x509.Certificate,
    chain: Sequence[x509.Certificate] = (),
) -> bytes:
    """Sign a list: the COSE_Sign1 bytes over :func:`~ecard.formats.lists.encode_list`.

    ``chain`` holds the CA certificates above ``certificate`` (nearest first, root optional).
    A list larger than verifiers read (:data:`~ecard.formats.lists.MAX_LIST_SIZE`) is a
    :class:`~ecard.errors.BadInputError`, not a file nobody can open; a certificate that may
    not sign lists (:func:`~ecard.crypto.x509.list_signing_unfitness`: a document signer's, a
    CA's) is a :class:`~ecard.errors.BadCertificateError`, and a key that is not the
    certificate's a :class:`~ecard.errors.BadKeyError`: both would otherwise give a list every
    counter refuses.
    """
    unfit = list_signing_unfitness(certificate)
    if unfit:
        raise BadCertificateError(unfit)
    require_certified_key(signer, certificate, "list-signing key")
    ders = [c.public_bytes(Encoding.DER) for c in (certificate, *chain)]
    x5chain: bytes | list[bytes] = ders[0] if len(ders) == 1 else ders
    data = build_sign1(
        encode_list(info, body),
        signer,
        kid_for_certificate(certificate),
        extra_headers={HEADER_X5CHAIN: x5chain},
    )
    if len(data) > MAX_LIST_SIZE:
        raise BadInputError(f"signed list of {len(data)} bytes exceeds {MAX_LIST_SIZE}")
    return data


__all__ = ["list_info", "read_own_signed_list", "sign_list"]
