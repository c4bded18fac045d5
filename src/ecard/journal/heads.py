"""The signed head of the journal: its payload format, parsing a signed head, checking its
signature with a certificate.

Contract: a signed head is a COSE_Sign1 over ``{1: type, 2: 1, 3: seq, 4: record_hash,
5: signed_at}`` (deterministic CBOR); the type is ``"ecard-journal-head"`` for the issuance
journal, and other hash chains (the workflow's event log) name their own, so a head of one
chain never passes for a head of another. :meth:`SignedHead.from_cose` refuses anything else,
and any other type than the one asked for, with :class:`~ecard.errors.BadInputError`. This module holds no key and imports
nothing of ``ecard.signing``: verification needs the format, only
:func:`ecard.journal.headsign.sign_head` needs a key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from cryptography import x509

from ecard.crypto.algorithms import certificate_public_key, get_algorithm
from ecard.errors import BadInputError, EcardError
from ecard.formats import cbor
from ecard.formats.cose import KID_SIZE, parse_sign1
from ecard.journal.records import INT64, format_time

#: ``type`` (key 1) of a signed head's payload.
HEAD_TYPE: Final = "ecard-journal-head"
HEAD_VERSION: Final = 1
#: ``signed_at`` is a NumericDate below this (10000-01-01T00:00:00Z).
_MAX_NUMERIC_DATE: Final = 253402300800


def encode_head_payload(
    seq: int, record_hash: bytes, signed_at: int, head_type: str = HEAD_TYPE
) -> bytes:
    """The payload of a signed head: ``{1: head_type, 2: 1, 3: seq, 4: record_hash,
    5: signed_at}`` (deterministic CBOR, ``signed_at`` a NumericDate).

    Key 1 names the type, as in signed lists, so a head can never pass for a list, a card or
    the head of another chain.
    """
    return cbor.encode(
        {1: head_type, 2: HEAD_VERSION, 3: seq, 4: record_hash, 5: signed_at},
    )


@dataclass(frozen=True, slots=True)
class SignedHead:
    """A signed statement "record ``seq`` of the journal has hash ``record_hash``"."""

    seq: int
    record_hash: bytes
    signed_at: datetime
    #: ``kid`` of the head-signing certificate.
    kid: bytes
    #: The COSE_Sign1 message: what auditors keep outside the database.
    cose: bytes

    @classmethod
    def from_cose(cls, data: bytes, head_type: str = HEAD_TYPE) -> SignedHead:
        """Parse a signed head of type ``head_type`` WITHOUT checking its signature (see
        :meth:`verify`).

        :class:`~ecard.errors.BadInputError` if it is not a well-formed signed head of that type.
        """
        if not isinstance(data, bytes):
            raise BadInputError("a signed head is bytes")
        try:
            msg = parse_sign1(data)
            payload = cbor.decode(msg.payload, max_depth=2)
        except EcardError as exc:
            raise BadInputError(f"not a signed {head_type}: {exc.detail}") from None
        if type(payload) is not dict or payload.keys() != {1, 2, 3, 4, 5}:
            raise BadInputError(f"not a signed {head_type}: payload keys must be 1..5")
        if payload[1] != head_type or payload[2] != HEAD_VERSION:
            raise BadInputError(f"not a signed {head_type}: type {payload[1]!r} {payload[2]!r}")
        seq, record_hash, signed_at = payload[3], payload[4], payload[5]
        if type(seq) is not int or not 1 <= seq < INT64:
            raise BadInputError("signed head: seq must be a positive integer")
        if type(record_hash) is not bytes or len(record_hash) != 32:
            raise BadInputError("signed head: record_hash must be 32 bytes")
        if type(signed_at) is not int or not 0 <= signed_at < _MAX_NUMERIC_DATE:
            raise BadInputError("signed head: signed_at must be a NumericDate")
        if len(msg.kid) != KID_SIZE:
            raise BadInputError(f"signed head: kid must be {KID_SIZE} bytes")
        return cls(
            seq=seq,
            record_hash=record_hash,
            signed_at=datetime.fromtimestamp(signed_at, UTC),
            kid=msg.kid,
            cose=data,
        )

    def verify(self, certificate: x509.Certificate) -> bool:
        """True if the signature verifies with ``certificate``'s key (through the algorithm
        registry). Raises an :class:`~ecard.errors.EcardError` if the algorithm is unknown or
        does not fit the key. The certificate's own trust is the caller's business."""
        msg = parse_sign1(self.cose)
        verify = get_algorithm(msg.alg).bind(certificate_public_key(certificate))
        return verify(msg.signature, msg.to_be_signed())

    def to_dict(self) -> dict[str, Any]:
        """The head as JSON-ready values (without the COSE bytes)."""
        return {
            "seq": self.seq,
            "record_hash": self.record_hash.hex(),
            "signed_at": format_time(self.signed_at),
            "kid": self.kid.hex(),
        }


__all__ = ["HEAD_TYPE", "HEAD_VERSION", "SignedHead", "encode_head_payload"]
