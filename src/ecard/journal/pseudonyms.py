"""Keyed pseudonyms of ID numbers: what the journal stores instead of the holder's identity.

Contract: a pseudonym is ``HMAC-SHA-256(key, "ecard-journal-holder:" + normalized ID)`` in
lower-case hex; a key shorter than :data:`MIN_PSEUDONYM_KEY` bytes is refused with
:class:`~ecard.errors.BadKeyError`. No error raised here repeats an ID number or a key.
"""

from __future__ import annotations

import hmac
from typing import Final

from ecard.documents import DocumentType, normalize_document_number
from ecard.errors import BadInputError, BadKeyError
from ecard.identifiers import normalize_citizen_id

#: Prefix of the HMAC input for holder pseudonyms (domain separation).
PSEUDONYM_CONTEXT: Final = b"ecard-journal-holder:"
#: Shortest pseudonym key accepted (32 random bytes are recommended).
MIN_PSEUDONYM_KEY: Final = 16


def check_pseudonym_key(key: object) -> bytes:
    """``key`` if it is a usable pseudonym key (bytes, at least :data:`MIN_PSEUDONYM_KEY`
    long); else :class:`~ecard.errors.BadKeyError`."""
    if not isinstance(key, bytes) or len(key) < MIN_PSEUDONYM_KEY:
        raise BadKeyError(f"the pseudonym key must be at least {MIN_PSEUDONYM_KEY} bytes")
    return key


def holder_pseudonym(
    key: bytes, citizen_id: str, document: DocumentType = DocumentType.RESIDENT_ID
) -> str:
    """The holder pseudonym: HMAC-SHA-256 under ``key`` of ``"ecard-journal-holder:"`` + the
    normalized 18-character citizen ID (ASCII), in lower-case hex.

    A holder with another identity document (``document``, :mod:`ecard.documents`) has
    ``"ecard-journal-holder:"`` + the type's number + ``":"`` + the normalized document number;
    a temporary resident ID carries the citizen ID, so its holder has the resident pseudonym.

    Without the key the pseudonym reveals nothing (ID numbers are far too few to withstand a
    plain hash); with it the operator finds a holder's records. :class:`~ecard.errors.BadKeyError`
    for a key shorter than :data:`MIN_PSEUDONYM_KEY`, :class:`~ecard.errors.BadInputError` for
    an invalid ID number (the message does not repeat it).
    """
    check_pseudonym_key(key)
    if document in CITIZEN_ID_DOCUMENTS:
        try:
            normalized = normalize_citizen_id(citizen_id)
        except (ValueError, TypeError) as exc:
            raise BadInputError(str(exc)) from None
    else:
        normalized = normalize_document_number(document, citizen_id)
    return card_holder_pseudonym(key, normalized, document)


#: The documents whose holder is pseudonymised by the citizen ID number itself.
CITIZEN_ID_DOCUMENTS: Final = frozenset(
    {DocumentType.RESIDENT_ID, DocumentType.TEMPORARY_RESIDENT_ID}
)


def holder_identity(number: str, document: DocumentType) -> bytes:
    """Who a holder is, as the pseudonym and a batch row's identity name them: the citizen ID
    for a (temporary) resident ID card, else ``TYPE:NUMBER`` (the document type's number and
    the document number); ``number`` as the card's validation normalized it."""
    if document in CITIZEN_ID_DOCUMENTS:
        return number.encode("ascii")
    return f"{document.value}:{number}".encode("ascii")


def card_holder_pseudonym(key: bytes, number: str, document: DocumentType) -> str:
    """:func:`holder_pseudonym` of a validated card's holder (``holder.ssn``,
    ``holder.document``): the number is as the card's validation normalized it, so it is not
    checked again (a batch computes one a row). ``key`` must have passed
    :func:`check_pseudonym_key`."""
    message = PSEUDONYM_CONTEXT + holder_identity(number, document)
    return hmac.digest(key, message, "sha256").hex()  # one C call, unlike hmac.new(...)


def pseudonym_key_from_hex(text: str) -> bytes:
    """Decode a pseudonym key given in hex (e.g. from an environment variable);
    :class:`~ecard.errors.BadKeyError`, never echoing the text, if it is not hex or too short."""
    try:
        key = bytes.fromhex(text.strip())
    except (ValueError, AttributeError):
        raise BadKeyError("the pseudonym key must be given in hex") from None
    return check_pseudonym_key(key)


__all__ = [
    "CITIZEN_ID_DOCUMENTS",
    "MIN_PSEUDONYM_KEY",
    "PSEUDONYM_CONTEXT",
    "card_holder_pseudonym",
    "check_pseudonym_key",
    "holder_identity",
    "holder_pseudonym",
    "pseudonym_key_from_hex",
]
