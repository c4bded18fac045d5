"""The journal record (format ``ecard-journal/1``): its fields, their one canonical stored text,
the strict parse of a stored row, and the record hash.

Contract: a stored row either parses into a :class:`JournalRecord` whose every value is in
canonical form, or it is refused with the reason (:class:`Malformed`, never the value of an ID
number: the journal holds none). The record hash is::

    record_hash = SHA-256( CBOR([ "ecard-journal/1", seq, kind, credential_id, holder,
                                  kid, recorded_at, operator, content_hash, prev_hash ]) )

with the hex columns (``holder``, ``kid``, ``content_hash``, ``prev_hash``) as byte strings,
``holder`` ``null`` for lists, and ``prev_hash`` of record 1 = 32 zero bytes (deterministic
CBOR, :func:`ecard.formats.cbor.encode`). Nothing here holds or needs a key.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

from ecard._time import utc
from ecard.errors import BadInputError
from ecard.formats import cbor
from ecard.formats.cose import KID_SIZE
from ecard.formats.cwt import MAX_CTI, MIN_CTI

#: Format name: the first element of every hashed record and the ``journal_meta`` value.
FORMAT: Final = "ecard-journal/1"
#: ``prev_hash`` of record 1.
GENESIS_HASH: Final = bytes(32)
#: Longest operator id.
MAX_OPERATOR: Final = 128
#: ``seq`` (and a list's sequence number) is below this: a signed 64-bit integer in SQL.
INT64: Final = 2**63

#: The stored columns of a record, in order.
RECORD_COLUMNS: Final = (
    "seq",
    "kind",
    "credential_id",
    "holder",
    "kid",
    "recorded_at",
    "operator",
    "content_hash",
    "prev_hash",
    "record_hash",
)

#: The sizes (in bytes) the hex columns may have.
HASH_SIZE: Final = range(32, 33)
KID_SIZES: Final = range(KID_SIZE, KID_SIZE + 1)
CTI_SIZES: Final = range(MIN_CTI, MAX_CTI + 1)


class RecordKind(StrEnum):
    """What a journal record is about."""

    CARD = "card"
    TRUST_LIST = "trust-list"
    REVOCATION_LIST = "revocation-list"


_KIND_VALUES: Final = frozenset(k.value for k in RecordKind)


class Malformed(ValueError):
    """A stored value is not in the journal's canonical form (the message says which and why,
    never repeating the value)."""


_HEX_RE: Final = re.compile(r"(?:[0-9a-f]{2})+")
_DECIMAL_RE: Final = re.compile(r"0|[1-9][0-9]{0,18}")
_TIME_RE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


def format_time(value: datetime) -> str:
    """The journal's time text: UTC, whole seconds, ``2026-03-01T08:00:00Z``."""
    return utc(value, "time").strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: object, name: str) -> datetime:
    """The aware UTC time of a stored time text; :class:`Malformed` unless it is canonical."""
    if type(value) is not str or not _TIME_RE.fullmatch(value):
        raise Malformed(f"{name} is not a UTC time like 2026-03-01T08:00:00Z")
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise Malformed(f"{name} is not a valid date and time") from None


def parse_hex(value: object, name: str, sizes: range) -> bytes:
    """The bytes of a stored lower-case hex text of one of ``sizes`` bytes; else
    :class:`Malformed`."""
    if type(value) is not str or not _HEX_RE.fullmatch(value) or len(value) // 2 not in sizes:
        lengths = f"{sizes.start}" if len(sizes) == 1 else f"{sizes.start}..{sizes.stop - 1}"
        raise Malformed(f"{name} must be {lengths} bytes in lower-case hex")
    return bytes.fromhex(value)


def check_operator(value: object) -> str:
    """``value`` if it is a valid operator id (1..:data:`MAX_OPERATOR` characters, no control
    characters, no surrounding spaces); else :class:`Malformed`."""
    if type(value) is not str or not 1 <= len(value) <= MAX_OPERATOR:
        raise Malformed(f"operator must be a text of 1..{MAX_OPERATOR} characters")
    if value != value.strip() or any(unicodedata.category(c)[0] == "C" for c in value):
        raise Malformed("operator has control characters or surrounding spaces")
    return value


@dataclass(frozen=True, slots=True)
class JournalRecord:
    """One journal record. ``holder`` is the pseudonym (hex) or ``None`` for lists."""

    seq: int
    kind: RecordKind
    #: ``cti`` in lower-case hex for a card; the list's sequence number in decimal for a list.
    credential_id: str
    holder: str | None
    kid: bytes
    recorded_at: datetime
    operator: str
    #: SHA-256 of the signed bytes (the COSE_Sign1 message).
    content_hash: bytes
    prev_hash: bytes
    record_hash: bytes

    def hash_input(self) -> bytes:
        """The deterministic CBOR bytes :attr:`record_hash` is the SHA-256 of."""
        return cbor.encode(
            [
                FORMAT,
                self.seq,
                self.kind.value,
                self.credential_id,
                None if self.holder is None else bytes.fromhex(self.holder),
                self.kid,
                format_time(self.recorded_at),
                self.operator,
                self.content_hash,
                self.prev_hash,
            ]
        )

    def computed_hash(self) -> bytes:
        """SHA-256 of :meth:`hash_input`: equals :attr:`record_hash` for an intact record."""
        return hashlib.sha256(self.hash_input()).digest()

    def to_row(self) -> tuple[int, str, str, str | None, str, str, str, str, str, str]:
        """The stored row, in :data:`RECORD_COLUMNS` order."""
        return (
            self.seq,
            self.kind.value,
            self.credential_id,
            self.holder,
            self.kid.hex(),
            format_time(self.recorded_at),
            self.operator,
            self.content_hash.hex(),
            self.prev_hash.hex(),
            self.record_hash.hex(),
        )

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready values (the stored text forms)."""
        return dict(zip(RECORD_COLUMNS, self.to_row(), strict=True))

    @classmethod
    def from_row(cls, row: Sequence[object]) -> JournalRecord:
        """Parse a stored row strictly; :class:`~ecard.errors.BadInputError` if any value is
        not in canonical form."""
        try:
            return parse_record_row(row)
        except Malformed as exc:
            raise BadInputError(f"journal record: {exc}") from None


def parse_record_row(row: Sequence[object]) -> JournalRecord:
    """Parse a stored row (:data:`RECORD_COLUMNS` order) strictly; :class:`Malformed` with the
    first problem found. The stored ``record_hash`` is taken as it is, not checked."""
    if len(row) != len(RECORD_COLUMNS):
        raise Malformed(f"expected {len(RECORD_COLUMNS)} columns")
    seq, kind, credential_id, holder, kid, recorded_at, operator, content, prev, record = row
    if type(seq) is not int or not 1 <= seq < INT64:
        raise Malformed("seq must be a positive integer")
    if type(kind) is not str or kind not in _KIND_VALUES:
        raise Malformed(f"kind must be one of {', '.join(k.value for k in RecordKind)}")
    record_kind = RecordKind(kind)
    if record_kind is RecordKind.CARD:
        parse_hex(credential_id, "credential_id (cti)", CTI_SIZES)
        parse_hex(holder, "holder pseudonym", HASH_SIZE)
    else:
        if type(credential_id) is not str or not _DECIMAL_RE.fullmatch(credential_id):
            raise Malformed("credential_id of a list must be its sequence number in decimal")
        if holder is not None:
            raise Malformed("a list record has no holder")
    assert isinstance(credential_id, str)
    assert holder is None or isinstance(holder, str)
    return JournalRecord(
        seq=seq,
        kind=record_kind,
        credential_id=credential_id,
        holder=holder,
        kid=parse_hex(kid, "kid", KID_SIZES),
        recorded_at=parse_time(recorded_at, "recorded_at"),
        operator=check_operator(operator),
        content_hash=parse_hex(content, "content_hash", HASH_SIZE),
        prev_hash=parse_hex(prev, "prev_hash", HASH_SIZE),
        record_hash=parse_hex(record, "record_hash", HASH_SIZE),
    )


def build_record(
    *,
    seq: int,
    kind: RecordKind | str,
    credential_id: str,
    holder: str | None,
    kid: bytes,
    recorded_at: datetime,
    operator: str,
    content_hash: bytes,
    prev_hash: bytes,
) -> JournalRecord:
    """A new record with its :attr:`~JournalRecord.record_hash`, every field checked.

    The building block of :class:`~ecard.journal.store.Journal`'s appends, public for
    deployments that write the journal through another database driver (see
    ``docs/journal.md``). Raises :class:`~ecard.errors.BadInputError` for a value outside the
    format.
    """
    try:
        draft = parse_record_row(
            (
                seq,
                str(kind),
                credential_id,
                holder,
                kid.hex() if isinstance(kid, bytes) else kid,
                format_time(recorded_at),
                operator,
                content_hash.hex() if isinstance(content_hash, bytes) else content_hash,
                prev_hash.hex() if isinstance(prev_hash, bytes) else prev_hash,
                GENESIS_HASH.hex(),
            )
        )
    except Malformed as exc:
        raise BadInputError(f"journal record: {exc}") from None
    return dataclasses.replace(draft, record_hash=draft.computed_hash())


__all__ = [
    "CTI_SIZES",
    "FORMAT",
    "GENESIS_HASH",
    "HASH_SIZE",
    "INT64",
    "KID_SIZES",
    "MAX_OPERATOR",
    "RECORD_COLUMNS",
    "JournalRecord",
    "Malformed",
    "RecordKind",
    "build_record",
    "check_operator",
    "format_time",
    "parse_hex",
    "parse_record_row",
    "parse_time",
]
