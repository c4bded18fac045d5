"""The payload shared by signed lists (trust lists and revocation lists).

A signed list is a COSE_Sign1 (see :mod:`ecard.signing.lists`) over this deterministic CBOR map::

    1  type         text   "ecard-trust-list" or "ecard-revocation-list"
    2  version      uint   format version, 1
    3  sequence     uint   grows with every list the authority publishes; verifiers refuse to go back
    4  issued_at    uint   NumericDate
    5  next_update  uint   NumericDate by which a newer list will be published
    6  body                the list's content, defined by its type

No keys and no trust decisions here: bytes <-> :class:`ListInfo` and body.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from ecard.errors import BadCborError, BadListError
from ecard.formats import cbor
from ecard.formats.cose import Sign1Message, parse_sign1

TRUST_LIST: Final = "ecard-trust-list"
REVOCATION_LIST: Final = "ecard-revocation-list"
LIST_TYPES: Final = frozenset({TRUST_LIST, REVOCATION_LIST})
FORMAT_VERSION: Final = 1
#: Largest signed list accepted (a revocation list of 10 million entries is about 80 MB).
MAX_LIST_SIZE: Final = 256 * 1024 * 1024
#: Most CBOR data items in a list payload.
MAX_LIST_ITEMS: Final = 8_000_000

_TYPE, _VERSION, _SEQUENCE, _ISSUED_AT, _NEXT_UPDATE, _BODY = 1, 2, 3, 4, 5, 6
_KEYS: Final = frozenset({1, 2, 3, 4, 5, 6})


@dataclass(frozen=True, slots=True)
class ListInfo:
    """The header of a signed list. Times are integer seconds since the epoch (UTC)."""

    type: str
    sequence: int
    issued_at: int
    next_update: int
    version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        if self.type not in LIST_TYPES:
            raise BadListError(f"unknown list type {self.type!r}")
        if self.version != FORMAT_VERSION:
            raise BadListError(f"unsupported list format version {self.version}")
        for name in ("sequence", "issued_at", "next_update"):
            value = getattr(self, name)
            if type(value) is not int or value < 0 or value >= 2**63:
                raise BadListError(f"{name} must be a non-negative integer")
        if self.next_update <= self.issued_at:
            raise BadListError("next_update must be after issued_at")


def encode_list(info: ListInfo, body: Any) -> bytes:
    """The deterministic CBOR payload of a list."""
    return cbor.encode(
        {
            _TYPE: info.type,
            _VERSION: info.version,
            _SEQUENCE: info.sequence,
            _ISSUED_AT: info.issued_at,
            _NEXT_UPDATE: info.next_update,
            _BODY: body,
        }
    )


def decode_list(payload: bytes, expected_type: str | None = None) -> tuple[ListInfo, Any]:
    """Parse a list payload; :class:`~ecard.errors.BadListError` unless it is a well-formed list
    of ``expected_type`` (``None``: of any type in :data:`LIST_TYPES`)."""
    try:
        data = cbor.decode(payload, max_depth=8, max_items=MAX_LIST_ITEMS)
    except BadCborError as exc:
        raise BadListError(f"payload: {exc.detail}") from None
    if type(data) is not dict or data.keys() != _KEYS:
        raise BadListError("payload must be a map with exactly the keys 1..6")
    if expected_type is None:
        if data[_TYPE] not in LIST_TYPES:
            raise BadListError(f"neither a trust list nor a revocation list (type {data[_TYPE]!r})")
    elif data[_TYPE] != expected_type:
        raise BadListError(f"expected a {expected_type}, got {data[_TYPE]!r}")
    info = ListInfo(
        type=data[_TYPE],
        version=data[_VERSION],
        sequence=data[_SEQUENCE],
        issued_at=data[_ISSUED_AT],
        next_update=data[_NEXT_UPDATE],
    )
    return info, data[_BODY]


def read_unverified_list(data: bytes) -> tuple[Sign1Message, ListInfo, Any]:
    """The COSE envelope, header and body of a signed list of any type, **without** checking
    its signature or its signer: for showing, journaling or auditing a list, never for trusting
    it (that is :func:`ecard.verify.lists.open_list`).

    :class:`~ecard.errors.BadCoseError` / :class:`~ecard.errors.BadCborError` for a bad
    envelope, :class:`~ecard.errors.BadListError` for a payload that is not a list.
    """
    msg = parse_sign1(data, max_size=MAX_LIST_SIZE)
    info, body = decode_list(msg.payload)
    return msg, info, body


__all__ = [
    "FORMAT_VERSION",
    "LIST_TYPES",
    "MAX_LIST_ITEMS",
    "MAX_LIST_SIZE",
    "REVOCATION_LIST",
    "TRUST_LIST",
    "ListInfo",
    "decode_list",
    "encode_list",
    "read_unverified_list",
]
