"""The issuance journal: an append-only, hash-chained record of everything ecard signs.

Every issuance (a card, a trust list, a revocation list) appends one record: what was signed
(its SHA-256), under which ``kid``, when, by which operator, which credential id and, for a
card, a *pseudonym* of the holder (HMAC-SHA-256 under a key the operator keeps; never the plain
ID number or the name). Each record's hash covers the previous record's hash, so removing,
reordering, inserting or changing a record breaks the chain; the head of the chain is signed
periodically (:meth:`Journal.sign_head`), so a rewrite of the whole chain up to a signed head
is detected too. :func:`verify_journal` checks a journal with only the database file and the
head-signing certificate, and reports precisely what is wrong.

The format (``ecard-journal/1``) is specified in ``docs/journal.md``; the record hash is::

    record_hash = SHA-256( CBOR([ "ecard-journal/1", seq, kind, credential_id, holder,
                                  kid, recorded_at, operator, content_hash, prev_hash ]) )

with the hex columns (``holder``, ``kid``, ``content_hash``, ``prev_hash``) as byte strings,
``holder`` ``null`` for lists, and ``prev_hash`` of record 1 = 32 zero bytes.

SQLite is the embedded store; the schema uses portable types, and :func:`verify_connection`
reads the same tables through any DB-API connection (PostgreSQL in a real deployment).

>>> journal = Journal.open(":memory:", pseudonym_key=bytes(range(32)))
>>> journal.pseudonym("11010519491231002X")[:16]
'4c9e7f5c8b906894'
>>> journal.head()
(0, b'')
>>> journal.close()
"""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import hashlib
import hmac
import os
import re
import sqlite3
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, Protocol

from cryptography import x509

from ecard._time import utc
from ecard.crypto.algorithms import certificate_public_key, get_algorithm
from ecard.errors import (
    BadCertificateError,
    BadInputError,
    BadKeyError,
    BadListError,
    EcardError,
)
from ecard.formats import cbor
from ecard.formats.cose import KID_SIZE, kid_for_certificate, parse_sign1
from ecard.formats.credential import IssuedCard
from ecard.formats.cwt import MAX_CTI, MIN_CTI
from ecard.formats.lists import (
    REVOCATION_LIST,
    TRUST_LIST,
    read_unverified_list,
)
from ecard.identifiers import normalize_citizen_id
from ecard.signing.cose import build_sign1
from ecard.signing.signers import Signer, require_certified_key

#: Format name: the first element of every hashed record and the ``journal_meta`` value.
FORMAT: Final = "ecard-journal/1"
#: ``type`` (key 1) of a signed head's payload.
HEAD_TYPE: Final = "ecard-journal-head"
HEAD_VERSION: Final = 1
#: ``prev_hash`` of record 1.
GENESIS_HASH: Final = bytes(32)
#: Prefix of the HMAC input for holder pseudonyms (domain separation).
PSEUDONYM_CONTEXT: Final = b"ecard-journal-holder:"
#: Shortest pseudonym key accepted (32 random bytes are recommended).
MIN_PSEUDONYM_KEY: Final = 16
#: Longest operator id.
MAX_OPERATOR: Final = 128
#: Most findings a report lists (consecutive ones are merged into ranges first).
MAX_FINDINGS: Final = 1000
#: Most records with a wrong hash that verification tries to explain (moved or altered).
MAX_CLASSIFIED: Final = 10_000

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
HEAD_COLUMNS: Final = ("seq", "kid", "record_hash", "signed_at", "cose")

_RECORD_SELECT: Final = f"SELECT {', '.join(RECORD_COLUMNS)} FROM journal_records"  # noqa: S608
_HEAD_SELECT: Final = f"SELECT {', '.join(HEAD_COLUMNS)} FROM journal_heads"  # noqa: S608

#: The SQLite schema. PostgreSQL: see docs/journal.md (BIGINT, BYTEA, plpgsql triggers).
SQLITE_SCHEMA: Final = (
    """CREATE TABLE IF NOT EXISTS journal_meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS journal_records (
    seq           INTEGER PRIMARY KEY CHECK (seq >= 1),
    kind          TEXT NOT NULL CHECK (kind IN ('card', 'trust-list', 'revocation-list')),
    credential_id TEXT NOT NULL,
    holder        TEXT,
    kid           TEXT NOT NULL,
    recorded_at   TEXT NOT NULL,
    operator      TEXT NOT NULL,
    content_hash  TEXT NOT NULL,
    prev_hash     TEXT NOT NULL,
    record_hash   TEXT NOT NULL UNIQUE
)""",
    "CREATE INDEX IF NOT EXISTS journal_records_holder ON journal_records (holder)",
    "CREATE INDEX IF NOT EXISTS journal_records_credential ON journal_records (credential_id)",
    """CREATE TABLE IF NOT EXISTS journal_heads (
    seq         INTEGER NOT NULL,
    kid         TEXT NOT NULL,
    record_hash TEXT NOT NULL,
    signed_at   TEXT NOT NULL,
    cose        BLOB NOT NULL,
    PRIMARY KEY (seq, kid)
)""",
    *(
        f"""CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table}
BEGIN SELECT RAISE(ABORT, 'the ecard journal is append-only'); END"""
        for table in ("journal_meta", "journal_records", "journal_heads")
        for op in ("UPDATE", "DELETE")
    ),
)


class RecordKind(StrEnum):
    """What a journal record is about."""

    CARD = "card"
    TRUST_LIST = "trust-list"
    REVOCATION_LIST = "revocation-list"


_KIND_VALUES: Final = frozenset(k.value for k in RecordKind)
_LIST_KINDS: Final = {
    TRUST_LIST: RecordKind.TRUST_LIST,
    REVOCATION_LIST: RecordKind.REVOCATION_LIST,
}


class JournalIntegrityError(BadInputError):
    """The journal is damaged where an operation needs it intact (appending after a tampered
    last record, signing a head over a broken chain). Run :func:`verify_journal` for the
    full picture."""


# -- values and their canonical text ---------------------------------------------------------


class _Malformed(ValueError):
    """A stored value is not in the journal's canonical form."""


_HEX_RE: Final = re.compile(r"(?:[0-9a-f]{2})+")
_DECIMAL_RE: Final = re.compile(r"0|[1-9][0-9]{0,18}")
_TIME_RE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
_INT64: Final = 2**63


def format_time(value: datetime) -> str:
    """The journal's time text: UTC, whole seconds, ``2026-03-01T08:00:00Z``."""
    return utc(value, "time").strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: object, name: str) -> datetime:
    if type(value) is not str or not _TIME_RE.fullmatch(value):
        raise _Malformed(f"{name} is not a UTC time like 2026-03-01T08:00:00Z")
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise _Malformed(f"{name} is not a valid date and time") from None


def _hex(value: object, name: str, sizes: range) -> bytes:
    if type(value) is not str or not _HEX_RE.fullmatch(value) or len(value) // 2 not in sizes:
        lengths = f"{sizes.start}" if len(sizes) == 1 else f"{sizes.start}..{sizes.stop - 1}"
        raise _Malformed(f"{name} must be {lengths} bytes in lower-case hex")
    return bytes.fromhex(value)


def _check_operator(value: object) -> str:
    if type(value) is not str or not 1 <= len(value) <= MAX_OPERATOR:
        raise _Malformed(f"operator must be a text of 1..{MAX_OPERATOR} characters")
    if value != value.strip() or any(unicodedata.category(c)[0] == "C" for c in value):
        raise _Malformed("operator has control characters or surrounding spaces")
    return value


_HASH_SIZE: Final = range(32, 33)
_KID_SIZES: Final = range(KID_SIZE, KID_SIZE + 1)
_CTI_SIZES: Final = range(MIN_CTI, MAX_CTI + 1)


# -- records -----------------------------------------------------------------------------------


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
            return _parse_record_row(row)
        except _Malformed as exc:
            raise BadInputError(f"journal record: {exc}") from None


def _parse_record_row(row: Sequence[object]) -> JournalRecord:
    if len(row) != len(RECORD_COLUMNS):
        raise _Malformed(f"expected {len(RECORD_COLUMNS)} columns")
    seq, kind, credential_id, holder, kid, recorded_at, operator, content, prev, record = row
    if type(seq) is not int or not 1 <= seq < _INT64:
        raise _Malformed("seq must be a positive integer")
    if type(kind) is not str or kind not in _KIND_VALUES:
        raise _Malformed(f"kind must be one of {', '.join(k.value for k in RecordKind)}")
    record_kind = RecordKind(kind)
    if record_kind is RecordKind.CARD:
        _hex(credential_id, "credential_id (cti)", _CTI_SIZES)
        _hex(holder, "holder pseudonym", _HASH_SIZE)
    else:
        if type(credential_id) is not str or not _DECIMAL_RE.fullmatch(credential_id):
            raise _Malformed("credential_id of a list must be its sequence number in decimal")
        if holder is not None:
            raise _Malformed("a list record has no holder")
    assert isinstance(credential_id, str)
    assert holder is None or isinstance(holder, str)
    return JournalRecord(
        seq=seq,
        kind=record_kind,
        credential_id=credential_id,
        holder=holder,
        kid=_hex(kid, "kid", _KID_SIZES),
        recorded_at=_parse_time(recorded_at, "recorded_at"),
        operator=_check_operator(operator),
        content_hash=_hex(content, "content_hash", _HASH_SIZE),
        prev_hash=_hex(prev, "prev_hash", _HASH_SIZE),
        record_hash=_hex(record, "record_hash", _HASH_SIZE),
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

    The building block of :class:`Journal`'s appends, public for deployments that write the
    journal through another database driver (see ``docs/journal.md``). Raises
    :class:`~ecard.errors.BadInputError` for a value outside the format.
    """
    try:
        draft = _parse_record_row(
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
    except _Malformed as exc:
        raise BadInputError(f"journal record: {exc}") from None
    return dataclasses.replace(draft, record_hash=draft.computed_hash())


def holder_pseudonym(key: bytes, citizen_id: str) -> str:
    """The holder pseudonym: HMAC-SHA-256 under ``key`` of ``"ecard-journal-holder:"`` + the
    normalized 18-character citizen ID (ASCII), in lower-case hex.

    Without the key the pseudonym reveals nothing (ID numbers are far too few to withstand a
    plain hash); with it the operator finds a holder's records. :class:`~ecard.errors.BadKeyError`
    for a key shorter than :data:`MIN_PSEUDONYM_KEY`, :class:`~ecard.errors.BadInputError` for
    an invalid ID number (the message does not repeat it).
    """
    if not isinstance(key, bytes) or len(key) < MIN_PSEUDONYM_KEY:
        raise BadKeyError(f"the pseudonym key must be at least {MIN_PSEUDONYM_KEY} bytes")
    try:
        normalized = normalize_citizen_id(citizen_id)
    except (ValueError, TypeError) as exc:
        raise BadInputError(str(exc)) from None
    message = PSEUDONYM_CONTEXT + normalized.encode("ascii")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def pseudonym_key_from_hex(text: str) -> bytes:
    """Decode a pseudonym key given in hex (e.g. from an environment variable);
    :class:`~ecard.errors.BadKeyError`, never echoing the text, if it is not hex or too short."""
    try:
        key = bytes.fromhex(text.strip())
    except (ValueError, AttributeError):
        raise BadKeyError("the pseudonym key must be given in hex") from None
    if len(key) < MIN_PSEUDONYM_KEY:
        raise BadKeyError(f"the pseudonym key must be at least {MIN_PSEUDONYM_KEY} bytes")
    return key


# -- signed heads ------------------------------------------------------------------------------


def encode_head_payload(seq: int, record_hash: bytes, signed_at: int) -> bytes:
    """The payload of a signed head: ``{1: "ecard-journal-head", 2: 1, 3: seq,
    4: record_hash, 5: signed_at}`` (deterministic CBOR, ``signed_at`` a NumericDate).

    Key 1 names the type, as in signed lists, so a head can never pass for a list or a card.
    """
    return cbor.encode(
        {1: HEAD_TYPE, 2: HEAD_VERSION, 3: seq, 4: record_hash, 5: signed_at},
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
    def from_cose(cls, data: bytes) -> SignedHead:
        """Parse a signed head WITHOUT checking its signature (see :meth:`verify`).

        :class:`~ecard.errors.BadInputError` if it is not a well-formed signed head.
        """
        if not isinstance(data, bytes):
            raise BadInputError("a signed head is bytes")
        try:
            msg = parse_sign1(data)
            payload = cbor.decode(msg.payload, max_depth=2)
        except EcardError as exc:
            raise BadInputError(f"not a signed journal head: {exc.detail}") from None
        if type(payload) is not dict or payload.keys() != {1, 2, 3, 4, 5}:
            raise BadInputError("not a signed journal head: payload keys must be 1..5")
        if payload[1] != HEAD_TYPE or payload[2] != HEAD_VERSION:
            raise BadInputError(f"not a signed journal head: type {payload[1]!r} {payload[2]!r}")
        seq, record_hash, signed_at = payload[3], payload[4], payload[5]
        if type(seq) is not int or not 1 <= seq < _INT64:
            raise BadInputError("signed head: seq must be a positive integer")
        if type(record_hash) is not bytes or len(record_hash) != 32:
            raise BadInputError("signed head: record_hash must be 32 bytes")
        if type(signed_at) is not int or not 0 <= signed_at < 253402300800:
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
        return {
            "seq": self.seq,
            "record_hash": self.record_hash.hex(),
            "signed_at": format_time(self.signed_at),
            "kid": self.kid.hex(),
        }


# -- the journal -------------------------------------------------------------------------------


def _sqlite_target(target: str | os.PathLike[str]) -> str:
    """A filesystem path (or ``:memory:``) from a path or a ``sqlite:///`` URL."""
    text = os.fspath(target)
    lowered = text.lower()
    if lowered.startswith(("postgres:", "postgresql:")):
        raise BadInputError(
            "the built-in journal store is SQLite; for PostgreSQL create the schema of "
            "docs/journal.md, append with build_record() and audit with verify_connection()"
        )
    if lowered.startswith("sqlite:"):
        if not lowered.startswith("sqlite:///"):
            raise BadInputError(
                "a SQLite URL looks like sqlite:///relative.db or sqlite:////abs.db"
            )
        text = text[len("sqlite:///") :]
        if not text:
            raise BadInputError("the SQLite URL names no file")
    if "\x00" in text:
        raise BadInputError("the journal path contains a NUL character")
    return text


def _connect_error(path: str, exc: BaseException) -> BadInputError:
    return BadInputError(f"cannot use journal {path!r}: {exc}")


class Journal:
    """An issuance journal in a SQLite file. Use :meth:`open`; close it (or use ``with``).

    ``pseudonym_key`` is needed to append cards and to look holders up (:meth:`pseudonym`);
    appending lists and signing heads work without it. Appends are transactions
    (``BEGIN IMMEDIATE``): any number of threads (one ``Journal`` is shareable) and processes
    may append to the same file; each gets the next ``seq`` and chains onto the record before.
    """

    def __init__(
        self,
        connection: sqlite3.Connection,
        *,
        name: str,
        pseudonym_key: bytes | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if pseudonym_key is not None and (
            not isinstance(pseudonym_key, bytes) or len(pseudonym_key) < MIN_PSEUDONYM_KEY
        ):
            raise BadKeyError(f"the pseudonym key must be at least {MIN_PSEUDONYM_KEY} bytes")
        self._conn = connection
        self._name = name
        self._pseudonym_key = pseudonym_key
        self._clock = clock
        self._lock = threading.RLock()

    @classmethod
    def open(
        cls,
        target: str | os.PathLike[str],
        *,
        pseudonym_key: bytes | None = None,
        clock: Callable[[], datetime] | None = None,
        timeout: float = 30.0,
    ) -> Journal:
        """Open (creating if needed, mode 0600) the journal at a path or ``sqlite:///`` URL.

        ``clock`` returns the current aware time (default: the system clock); ``timeout`` is
        how long an append waits for another writer. :class:`~ecard.errors.BadInputError` if
        the file cannot be opened or holds another format.
        """
        path = _sqlite_target(target)
        if path != ":memory:":
            try:
                os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
            except OSError as exc:
                raise BadInputError(f"cannot open journal {path!r}: {exc.strerror}") from None
        try:
            conn = sqlite3.connect(
                path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise _connect_error(path, exc) from None
        journal = cls(conn, name=path, pseudonym_key=pseudonym_key, clock=clock)
        try:
            journal._create_schema()
        except BaseException:
            conn.close()
            raise
        return journal

    def _create_schema(self) -> None:
        with self._transaction() as conn:
            for statement in SQLITE_SCHEMA:
                conn.execute(statement)
            conn.execute(
                "INSERT OR IGNORE INTO journal_meta (name, value) VALUES ('format', ?)", (FORMAT,)
            )
            row = conn.execute("SELECT value FROM journal_meta WHERE name = 'format'").fetchone()
            if row is None or row[0] != FORMAT:
                raise BadInputError(f"{self._name!r} holds another format ({row and row[0]!r})")

    # -- plumbing

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise _connect_error(self._name, exc) from None
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise _connect_error(self._name, exc) from None

    def _query(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise _connect_error(self._name, exc) from None

    def _now(self) -> datetime:
        now = datetime.now(UTC) if self._clock is None else self._clock()
        return utc(now, "the journal clock").replace(microsecond=0)

    @property
    def connection(self) -> sqlite3.Connection:
        """The underlying connection (reads only: writes bypass the chain)."""
        return self._conn

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        key = "set" if self._pseudonym_key is not None else "none"
        return f"Journal({self._name!r}, pseudonym_key={key})"

    # -- writing

    def pseudonym(self, citizen_id: str) -> str:
        """The holder pseudonym of a citizen ID number (see :func:`holder_pseudonym`)."""
        if self._pseudonym_key is None:
            raise BadKeyError("this journal was opened without its pseudonym key")
        return holder_pseudonym(self._pseudonym_key, citizen_id)

    def _append(
        self,
        kind: RecordKind,
        credential_id: str,
        holder: str | None,
        kid: bytes,
        content_hash: bytes,
        operator: str,
    ) -> JournalRecord:
        try:
            _check_operator(operator)
        except _Malformed as exc:
            raise BadInputError(str(exc)) from None
        with self._transaction() as conn:
            now = self._now()  # under the lock: with one clock, times follow seq
            last = conn.execute(f"{_RECORD_SELECT} ORDER BY seq DESC LIMIT 1").fetchone()
            if last is None:
                seq, prev = 1, GENESIS_HASH
            else:
                try:
                    tail = _parse_record_row(last)
                except _Malformed as exc:
                    raise JournalIntegrityError(
                        f"the last record is malformed ({exc}): nothing can chain onto it; "
                        "run `ecard journal verify`"
                    ) from None
                if tail.computed_hash() != tail.record_hash:
                    raise JournalIntegrityError(
                        f"the last record ({tail.seq}) does not match its hash: nothing can "
                        "chain onto it; run `ecard journal verify`"
                    )
                seq, prev = tail.seq + 1, tail.record_hash
            record = build_record(
                seq=seq,
                kind=kind,
                credential_id=credential_id,
                holder=holder,
                kid=kid,
                recorded_at=now,
                operator=operator,
                content_hash=content_hash,
                prev_hash=prev,
            )
            try:
                conn.execute(
                    f"INSERT INTO journal_records ({', '.join(RECORD_COLUMNS)}) "  # noqa: S608
                    f"VALUES ({', '.join('?' * len(RECORD_COLUMNS))})",
                    record.to_row(),
                )
            except sqlite3.Error as exc:
                raise _connect_error(self._name, exc) from None
        return record

    def append_card(self, issued: IssuedCard, *, operator: str) -> JournalRecord:
        """Record a signed card: its ``cti``, the holder's pseudonym, the ``kid`` and the
        SHA-256 of its COSE bytes. Needs the pseudonym key.

        Call it after :meth:`~ecard.signing.issuer.Issuer.issue` and before the credential is
        handed out; if it raises, do not release the credential.
        """
        if not isinstance(issued, IssuedCard):
            raise BadInputError("append_card takes an IssuedCard")
        holder = self.pseudonym(issued.card.holder.ssn)
        return self._append(
            RecordKind.CARD,
            issued.cti.hex(),
            holder,
            issued.kid,
            hashlib.sha256(issued.cose).digest(),
            operator,
        )

    def append_list(self, signed: bytes, *, operator: str) -> JournalRecord:
        """Record a signed trust list or revocation list (full or delta), as returned by
        :func:`~ecard.signing.trustlist.sign_trust_list`,
        :func:`~ecard.signing.revocation.sign_revocation_list` or
        :func:`~ecard.publish.revocation.revoke`.

        Kind, sequence and ``kid`` are read from the signed bytes themselves, so the record
        cannot disagree with what was published. :class:`~ecard.errors.BadInputError` if the
        bytes are not a signed list.
        """
        if not isinstance(signed, bytes):
            raise BadInputError("append_list takes the signed list bytes")
        try:
            msg, info, _ = read_unverified_list(signed)
        except BadListError as exc:
            raise BadInputError(f"not a signed trust or revocation list: {exc.detail}") from None
        except EcardError as exc:
            raise BadInputError(f"not a signed list: {exc.detail}") from None
        return self._append(
            _LIST_KINDS[info.type],
            str(info.sequence),
            None,
            msg.kid,
            hashlib.sha256(signed).digest(),
            operator,
        )

    # -- reading

    def records(
        self, *, holder: str | None = None, credential_id: str | None = None
    ) -> list[JournalRecord]:
        """Records in ``seq`` order, optionally only a holder pseudonym's or a credential id's.

        :class:`JournalIntegrityError` if a selected record is malformed.
        """
        clauses, params = [], []
        if holder is not None:
            clauses.append("holder = ?")
            params.append(holder)
        if credential_id is not None:
            clauses.append("credential_id = ?")
            params.append(credential_id)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._query(f"{_RECORD_SELECT}{where} ORDER BY seq", params)
        try:
            return [_parse_record_row(row) for row in rows]
        except _Malformed as exc:
            raise JournalIntegrityError(f"a record is malformed: {exc}") from None

    def records_for(self, citizen_id: str) -> list[JournalRecord]:
        """Every record of one holder (needs the pseudonym key)."""
        return self.records(holder=self.pseudonym(citizen_id))

    def head(self) -> tuple[int, bytes]:
        """``(seq, record_hash)`` of the last record; ``(0, b"")`` for an empty journal."""
        rows = self._query("SELECT seq, record_hash FROM journal_records ORDER BY seq DESC LIMIT 1")
        if not rows:
            return 0, b""
        seq, record_hash = rows[0]
        try:
            return seq, _hex(record_hash, "record_hash", _HASH_SIZE)
        except _Malformed as exc:
            raise JournalIntegrityError(f"record {seq}: {exc}") from None

    def heads(self) -> list[SignedHead]:
        """The signed heads stored in the journal (signatures NOT checked), by ``seq``."""
        rows = self._query("SELECT cose FROM journal_heads ORDER BY seq, kid")
        try:
            return [SignedHead.from_cose(_blob(row[0]) or b"") for row in rows]
        except BadInputError as exc:
            raise JournalIntegrityError(f"a stored head is malformed: {exc.detail}") from None

    def verify(
        self,
        *,
        head_certificates: Iterable[x509.Certificate] = (),
        heads: Iterable[bytes] = (),
    ) -> JournalReport:
        """:func:`verify_connection` over this journal's own connection (a convenience; an
        audit opens the file itself with :func:`verify_journal`)."""
        with self._lock:
            return verify_connection(self._conn, head_certificates=head_certificates, heads=heads)

    # -- signing heads

    def _check_since_last_head(self) -> None:
        """Raise :class:`JournalIntegrityError` unless the records after the last stored head
        (all records if there is none) chain correctly from it."""
        conn = self._conn
        start, prev = 1, GENESIS_HASH
        last = conn.execute(
            "SELECT seq, record_hash FROM journal_heads ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        if last is not None:
            stored = conn.execute(
                "SELECT record_hash FROM journal_records WHERE seq = ?", (last[0],)
            ).fetchone()
            if stored is None or stored[0] != last[1] or type(last[0]) is not int:
                raise JournalIntegrityError(
                    f"record {last[0]} no longer matches the head signed over it; "
                    "run `ecard journal verify`"
                )
            try:
                start, prev = last[0] + 1, _hex(last[1], "record_hash", _HASH_SIZE)
            except _Malformed as exc:
                raise JournalIntegrityError(f"the last stored head: {exc}") from None
        for row in conn.execute(f"{_RECORD_SELECT} WHERE seq >= ? ORDER BY seq", (start,)):
            problem = None
            try:
                record = _parse_record_row(row)
            except _Malformed as exc:
                problem = str(exc)
            else:
                if record.seq != start:
                    problem = f"seq {start} is missing"
                elif record.computed_hash() != record.record_hash:
                    problem = "it does not match its hash"
                elif record.prev_hash != prev:
                    problem = "it does not chain onto the record before"
                prev = record.record_hash
            if problem:
                raise JournalIntegrityError(
                    f"refusing to sign a broken chain: record {row[0]}: {problem}; "
                    "run `ecard journal verify`"
                )
            start += 1

    def sign_head(self, signer: Signer, certificate: x509.Certificate) -> SignedHead:
        """Sign the current head (the last record's ``seq`` and hash) and store it.

        The records since the last stored head are checked first (:class:`JournalIntegrityError`
        rather than certify a broken chain). If this certificate already signed this ``seq``,
        that head is returned. :class:`~ecard.errors.BadKeyError` if the signer's key is not the
        certificate's, :class:`~ecard.errors.BadCertificateError` if the certificate is not
        valid now, :class:`~ecard.errors.BadInputError` for an empty journal.

        Copy :attr:`SignedHead.cose` out of the database too (to the auditors, a WORM store):
        a head kept only next to the records can be deleted with them.
        """
        require_certified_key(signer, certificate, "head-signing key")
        now = self._now()
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            raise BadCertificateError(
                f"the head-signing certificate is not valid at {format_time(now)}"
            )
        kid = kid_for_certificate(certificate)
        with self._lock:
            seq, record_hash = self.head()
            if seq == 0:
                raise BadInputError("the journal is empty: there is no head to sign")
            existing = self._query(
                "SELECT cose FROM journal_heads WHERE seq = ? AND kid = ?", (seq, kid.hex())
            )
            if existing:
                return SignedHead.from_cose(_blob(existing[0][0]) or b"")
            try:
                self._check_since_last_head()
            except sqlite3.Error as exc:
                raise _connect_error(self._name, exc) from None
            signed_at = int(now.timestamp())
            cose = build_sign1(encode_head_payload(seq, record_hash, signed_at), signer, kid)
            head = SignedHead(
                seq=seq,
                record_hash=record_hash,
                signed_at=datetime.fromtimestamp(signed_at, UTC),
                kid=kid,
                cose=cose,
            )
            with self._transaction() as conn:
                conn.execute(
                    "INSERT INTO journal_heads (seq, kid, record_hash, signed_at, cose) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (seq, kid.hex(), record_hash.hex(), format_time(head.signed_at), cose),
                )
        return head


# -- verification ------------------------------------------------------------------------------


class FindingCode(StrEnum):
    """What verification found. Every code but ``UNSIGNED_TAIL`` is an error."""

    #: A stored value is not in the format (type, hex, kind, time, operator, head columns).
    MALFORMED = "MALFORMED"
    #: The record's fields do not hash to its ``record_hash``: it was changed.
    ALTERED = "ALTERED"
    #: Records are missing: a gap in ``seq``, or records renumbered to close one.
    REMOVED = "REMOVED"
    #: A genuine record sits at another ``seq`` than the one it was written at.
    REORDERED = "REORDERED"
    #: A record that was not in the original chain (it took a moved record's place, or
    #: duplicates a ``seq``).
    INSERTED = "INSERTED"
    #: A record does not chain onto the one before: one of them was replaced and re-hashed.
    BROKEN_LINK = "BROKEN_LINK"
    #: Records after the journal's end are missing: a signed head names a later ``seq``.
    TRUNCATED = "TRUNCATED"
    #: A validly signed head disagrees with the record at its ``seq``: the chain was rewritten.
    HEAD_MISMATCH = "HEAD_MISMATCH"
    #: The columns of a head row disagree with what its signature covers.
    HEAD_ALTERED = "HEAD_ALTERED"
    #: A head's signature does not verify with the certificate of its ``kid``.
    BAD_HEAD_SIGNATURE = "BAD_HEAD_SIGNATURE"
    #: No certificate was given for a head's ``kid``: the head cannot be checked.
    UNKNOWN_HEAD_KEY = "UNKNOWN_HEAD_KEY"
    #: Warning: records after the last valid signed head; removing or rewriting them would not
    #: be detectable until a head covering them is signed.
    UNSIGNED_TAIL = "UNSIGNED_TAIL"


_WARNINGS: Final = frozenset({FindingCode.UNSIGNED_TAIL})
_ORDER: Final = {code: n for n, code in enumerate(FindingCode)}


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: its code, the first (and last, for a range) ``seq`` concerned, a message."""

    code: FindingCode
    seq: int | None
    last_seq: int | None
    message: str

    @property
    def severity(self) -> str:
        """``"error"`` or ``"warning"``."""
        return "warning" if self.code in _WARNINGS else "error"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code.value,
            "severity": self.severity,
            "seq": self.seq,
            "last_seq": self.last_seq,
            "message": self.message,
        }


@dataclass(frozen=True)
class JournalReport:
    """The result of verifying a journal. ``ok`` unless an error finding exists."""

    #: Number of record rows read.
    records: int
    #: Highest ``seq`` of the original chain that is accounted for (0 if empty).
    last_seq: int
    #: Signed heads examined (stored and external) and how many verified and matched.
    heads: int
    valid_heads: int
    #: Highest ``seq`` a valid, matching signed head covers (0 if none).
    signed_seq: int
    findings: tuple[Finding, ...]
    #: Findings left off past :data:`MAX_FINDINGS`.
    omitted: int = 0

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "warning")

    @property
    def ok(self) -> bool:
        return not self.errors and not self.omitted

    @property
    def first_bad_seq(self) -> int | None:
        """The lowest ``seq`` an error concerns (``None`` if none names one)."""
        seqs = [f.seq for f in self.errors if f.seq is not None]
        return min(seqs) if seqs else None

    def codes(self) -> set[FindingCode]:
        """The codes found (errors and warnings)."""
        return {f.code for f in self.findings}

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "records": self.records,
            "last_seq": self.last_seq,
            "heads": self.heads,
            "valid_heads": self.valid_heads,
            "signed_seq": self.signed_seq,
            "first_bad_seq": self.first_bad_seq,
            "findings": [f.to_dict() for f in self.findings],
            "omitted": self.omitted,
        }

    def render(self) -> str:
        """A text report for people (what ``ecard journal verify`` prints)."""
        verdict = "OK" if self.ok else "FAILED"
        lines = [
            f"journal {verdict}: {self.records} record(s), last seq {self.last_seq}; "
            f"{self.valid_heads} of {self.heads} signed head(s) valid, "
            f"signed up to seq {self.signed_seq}"
        ]
        for f in self.findings:
            lines.append(f"  {f.severity:7} {f.code.value:18} {f.message}")
        if self.omitted:
            lines.append(f"  ... {self.omitted} more finding(s) left off")
        return "\n".join(lines)


class DbApiConnection(Protocol):
    """What :func:`verify_connection` needs of a DB-API 2.0 connection."""

    def cursor(self) -> Any: ...


@dataclass
class _Issue:
    code: FindingCode
    seq: int | None
    last: int | None
    data: tuple[Any, ...] = ()


def _span(first: int | None, last: int | None) -> str:
    if first is None:
        return "a record"
    if last is None or last == first:
        return f"record {first}"
    return f"records {first}..{last}"


def _plural(issue: _Issue, one: str, many: str) -> str:
    return one if issue.last is None or issue.last == issue.seq else many


def _message(issue: _Issue) -> str:
    code, span = issue.code, _span(issue.seq, issue.last)
    if code is FindingCode.MALFORMED:
        return f"{issue.data[0]}: {issue.data[1]}"
    if code is FindingCode.ALTERED:
        return f"{span}: the fields do not match the record_hash (changed after writing)"
    if code is FindingCode.REORDERED:
        delta = issue.data[0]
        first, last = (issue.seq or 0) - delta, (issue.last or issue.seq or 0) - delta
        was = _span(first, last).replace("records", "seq").replace("record", "seq")
        verb = _plural(issue, "was", "were")
        return f"{span} {verb} written as {was}: moved (swapped or renumbered)"
    if code is FindingCode.REMOVED:
        tail = "; the records after them were renumbered to hide the gap" if issue.data else ""
        return f"{span} {_plural(issue, 'is', 'are')} missing{tail}"
    if code is FindingCode.INSERTED:
        if issue.data and issue.data[0] == "duplicate":
            return f"{span}: more than one record has this seq"
        return f"{span} took the place of a moved genuine record: inserted"
    if code is FindingCode.BROKEN_LINK:
        if issue.data:
            return f"{span} does not start from the zero hash: the chain's start was replaced"
        return (
            f"record {issue.last} does not chain onto record {issue.seq}: record {issue.seq} "
            f"was changed or replaced and its hash recomputed, or record {issue.last} was forged"
        )
    if code is FindingCode.TRUNCATED:
        return f"{span} {_plural(issue, 'is', 'are')} missing at the end: {issue.data[0]} covers seq {issue.last}"
    if code is FindingCode.HEAD_MISMATCH:
        return f"{issue.data[0]} does not match record {issue.seq}: the chain was rewritten"
    if code is FindingCode.UNSIGNED_TAIL:
        where = "no valid signed head covers" if issue.data else "after the last valid signed head:"
        return (
            f"{where} {span}: removing or rewriting {_plural(issue, 'it', 'them')} would "
            "go unnoticed until a head covering it is signed"
        )
    return f"{issue.data[0]}: {issue.data[1]}"  # head findings: (label, detail)


_HEAD_CODES: Final = frozenset(
    {
        FindingCode.HEAD_MISMATCH,
        FindingCode.HEAD_ALTERED,
        FindingCode.BAD_HEAD_SIGNATURE,
        FindingCode.UNKNOWN_HEAD_KEY,
        FindingCode.TRUNCATED,
    }
)


def _merge(issues: list[_Issue]) -> list[_Issue]:
    """Sort and merge consecutive issues of the same code and data into ranges."""
    issues.sort(
        key=lambda i: (
            i.code in _WARNINGS,
            i.seq is None,
            i.seq or 0,
            _ORDER[i.code],
            repr(i.data),
        ),
    )
    merged: list[_Issue] = []
    for issue in issues:
        prev = merged[-1] if merged else None
        if (
            prev is not None
            and prev.code is issue.code
            and prev.data == issue.data
            and prev.seq is not None
            and issue.seq is not None
            and issue.seq <= (prev.last if prev.last is not None else prev.seq) + 1
            and issue.code not in _HEAD_CODES
        ):
            end = issue.last if issue.last is not None else issue.seq
            prev.last = max(prev.last if prev.last is not None else prev.seq, end)
            continue
        merged.append(dataclasses.replace(issue))
    return merged


def _rows(cursor: Any, sql: str) -> Iterator[Sequence[object]]:
    cursor.execute(sql)
    while True:
        batch = cursor.fetchmany(1000)
        if not batch:
            return
        yield from batch


def _blob(value: object) -> bytes | None:
    if isinstance(value, bytes):
        return value
    if isinstance(value, memoryview | bytearray):  # psycopg2 returns bytea as memoryview
        return bytes(value)
    return None


@dataclass
class _Head:
    head: SignedHead
    label: str


def _check_heads(
    head_rows: Iterable[Sequence[object]],
    external: Iterable[bytes],
    certs: Mapping[bytes, x509.Certificate],
    issues: list[_Issue],
) -> tuple[list[_Head], int]:
    """Check every head's form and signature; return the validly signed ones and the count."""
    valid: list[_Head] = []
    count = 0
    sources: list[tuple[str, Sequence[object] | None, object]] = [
        ("stored head", row, row[4] if len(row) == len(HEAD_COLUMNS) else None) for row in head_rows
    ]
    sources += [(f"external head #{n}", None, data) for n, data in enumerate(external, 1)]
    for what, row, data in sources:
        count += 1
        column_seq = row[0] if row is not None and type(row[0]) is int else None
        label = f"{what} (seq {column_seq})" if column_seq is not None else what
        cose = _blob(data)
        if cose is None:
            issues.append(_Issue(FindingCode.MALFORMED, column_seq, None, (label, "no COSE bytes")))
            continue
        try:
            head = SignedHead.from_cose(cose)
        except BadInputError as exc:
            issues.append(_Issue(FindingCode.MALFORMED, column_seq, None, (label, exc.detail)))
            continue
        label = (
            f"{what} for seq {head.seq} signed {format_time(head.signed_at)} "
            f"by kid {head.kid.hex()}"
        )
        cert = certs.get(head.kid)
        if cert is None:
            issues.append(
                _Issue(
                    FindingCode.UNKNOWN_HEAD_KEY,
                    head.seq,
                    None,
                    (label, "no head-signing certificate with this kid was given"),
                )
            )
            continue
        try:
            good = head.verify(cert)
            problem = "the signature does not verify with the certificate of its kid"
        except EcardError as exc:
            good, problem = False, f"{exc.code.value}: {exc.detail}"
        if not good:
            issues.append(_Issue(FindingCode.BAD_HEAD_SIGNATURE, head.seq, None, (label, problem)))
            continue
        valid.append(_Head(head, label))
        if row is not None:
            signed = (head.seq, head.kid.hex(), head.record_hash.hex(), format_time(head.signed_at))
            differ = [
                HEAD_COLUMNS[n] for n in range(4) if row[n] != signed[n] or type(row[n]) is bool
            ]
            if differ:
                issues.append(
                    _Issue(
                        FindingCode.HEAD_ALTERED,
                        head.seq,
                        None,
                        (label, f"column(s) {', '.join(differ)} differ from the signed values"),
                    )
                )
    return valid, count


_TIME_PART: Final = "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"
_H64: Final = "[0-9a-f]{64}"
_FAST_CARD: Final = re.compile(
    f"card\x00((?:[0-9a-f]{{2}}){{{MIN_CTI},{MAX_CTI}}})\x00({_H64})\x00([0-9a-f]{{16}})"
    f"\x00{_TIME_PART}\x00({_H64})\x00({_H64})\x00({_H64})"
)
_FAST_LIST: Final = re.compile(
    f"(?:trust-list|revocation-list)\x00(0|[1-9][0-9]{{0,18}})\x00\x00([0-9a-f]{{16}})"
    f"\x00{_TIME_PART}\x00({_H64})\x00({_H64})\x00({_H64})"
)
_good_times: dict[str, bool] = {}
_good_operators: dict[str, bool] = {}


def _cbor_head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes((major << 5 | n,))
    for ai, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes((major << 5 | ai,)) + n.to_bytes(size, "big")
    raise ValueError("too large for CBOR")


def _cbor_text(value: str) -> bytes:
    raw = value.encode()
    return _cbor_head(3, len(raw)) + raw


_HASH_PREFIX: Final = _cbor_head(4, 10) + _cbor_text(FORMAT)
_NULL: Final = b"\xf6"
_BSTR8: Final = _cbor_head(2, 8)
_BSTR32: Final = _cbor_head(2, 32)


def _cached(cache: dict[str, bool], value: str, check: Callable[[str], object]) -> bool:
    known = cache.get(value)
    if known is None:
        try:
            check(value)
            known = True
        except (_Malformed, ValueError):
            known = False
        if len(cache) > 100_000:
            cache.clear()
        cache[value] = known
    return known


def _check_row(raw: Sequence[object]) -> tuple[bytes, bytes, bool] | str:
    """The verifier's fast path over one stored row: ``(prev_hash, record_hash, hash_ok)``,
    or why the row is malformed. Same rules as :func:`_parse_record_row`, same hash as
    :meth:`JournalRecord.hash_input` (a test holds them equal)."""
    if len(raw) == len(RECORD_COLUMNS):
        seq, kind, cid, holder, kid, at, op, content, prev, record = raw
        text = (kind, cid, kid, at, content, prev, record)
        card = kind == "card"
        if (
            type(seq) is int
            and 1 <= seq < _INT64
            and all(type(v) is str for v in text)
            and (type(holder) is str if card else holder is None)
            and type(op) is str
        ):
            assert isinstance(cid, str) and isinstance(kind, str) and isinstance(at, str)
            assert isinstance(kid, str) and isinstance(content, str)
            assert isinstance(prev, str) and isinstance(record, str)
            holder_text = holder if isinstance(holder, str) else ""
            joined = "\x00".join((kind, cid, holder_text, kid, at, content, prev, record))
            match = (_FAST_CARD if card else _FAST_LIST).fullmatch(joined)
            if (
                match is not None
                and (card or int(cid) < _INT64)
                and _cached(_good_times, at, lambda t: datetime.fromisoformat(t[:-1]))
                and _cached(_good_operators, op, _check_operator)
            ):
                if card:
                    _, holder_hex, kid_hex, content_hex, prev_hex, record_hex = match.groups()
                    holder_item = _BSTR32 + bytes.fromhex(holder_hex)
                else:
                    _, kid_hex, content_hex, prev_hex, record_hex = match.groups()
                    holder_item = _NULL
                prev_hash = bytes.fromhex(prev_hex)
                record_hash = bytes.fromhex(record_hex)
                data = b"".join(
                    (
                        _HASH_PREFIX,
                        _cbor_head(0, seq),
                        _cbor_text(kind),
                        _cbor_text(cid),
                        holder_item,
                        _BSTR8,
                        bytes.fromhex(kid_hex),
                        _cbor_text(at),
                        _cbor_text(op),
                        _BSTR32,
                        bytes.fromhex(content_hex),
                        _BSTR32,
                        prev_hash,
                    )
                )
                return prev_hash, record_hash, hashlib.sha256(data).digest() == record_hash
    try:  # the slow path says exactly what is wrong
        record = _parse_record_row(raw)
    except _Malformed as exc:
        return str(exc)
    return record.prev_hash, record.record_hash, record.computed_hash() == record.record_hash


def _hex_list(values: Iterable[bytes]) -> list[str]:
    return [f"'{v.hex()}'" for v in values]  # only [0-9a-f]: safe as SQL literals


def _select_in(cursor: Any, sql_head: str, column: str, literals: list[str]) -> list[Any]:
    found: list[Any] = []
    for start in range(0, len(literals), 500):
        chunk = ", ".join(literals[start : start + 500])
        cursor.execute(f"{sql_head} WHERE {column} IN ({chunk})")
        found.extend(cursor.fetchall())
    return found


class _Ranges:
    """Sorted, disjoint integer ranges (the ``seq`` values present)."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []

    def add(self, n: int) -> None:
        if self.ends and n == self.ends[-1] + 1:
            self.ends[-1] = n
        elif not self.ends or n > self.ends[-1]:
            self.starts.append(n)
            self.ends.append(n)

    def __contains__(self, n: int) -> bool:
        i = bisect.bisect_right(self.starts, n) - 1
        return i >= 0 and n <= self.ends[i]

    def gaps(self, upto: int) -> Iterator[tuple[int, int]]:
        """The ranges of 1..upto not present."""
        nxt = 1
        for s, e in zip(self.starts, self.ends, strict=True):
            if s > upto:
                break
            if s > nxt:
                yield nxt, s - 1
            nxt = max(nxt, e + 1)
        if nxt <= upto:
            yield nxt, upto


def _subtract(first: int, last: int, points: Sequence[int]) -> Iterator[tuple[int, int]]:
    """``first..last`` minus the sorted ``points``, as ranges."""
    nxt = first
    for p in points[bisect.bisect_left(points, first) : bisect.bisect_right(points, last)]:
        if p > nxt:
            yield nxt, p - 1
        nxt = p + 1
    if nxt <= last:
        yield nxt, last


def verify_connection(
    connection: DbApiConnection,
    *,
    head_certificates: Iterable[x509.Certificate] = (),
    heads: Iterable[bytes] = (),
) -> JournalReport:
    """Verify the journal behind a DB-API connection (SQLite, PostgreSQL...): the format of
    every record, every record hash, the chain, ``seq`` contiguity, and every signed head
    (stored in ``journal_heads`` and ``heads`` kept elsewhere) against ``head_certificates``.

    No pseudonym key is needed. Only portable ``SELECT`` statements without parameters are
    run. Records are streamed; memory grows with the number of problems, not of records.
    :class:`~ecard.errors.BadInputError` if the tables cannot be read or hold another format.
    """
    certs = {kid_for_certificate(c): c for c in head_certificates}
    external = list(heads)
    driver_error = getattr(connection, "Error", None)
    if not (isinstance(driver_error, type) and issubclass(driver_error, Exception)):
        driver_error = Exception
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT value FROM journal_meta WHERE name = 'format'")
        meta = cursor.fetchall()
        head_rows = list(_rows(cursor, f"{_HEAD_SELECT} ORDER BY seq, kid"))
    except EcardError:
        raise
    except driver_error as exc:  # the driver's own errors (DB-API Connection.Error)
        raise BadInputError(f"not a readable ecard journal: {exc}") from None
    if len(meta) != 1 or meta[0][0] != FORMAT:
        raise BadInputError(f"not an {FORMAT} journal (format {meta!r})")
    issues: list[_Issue] = []
    valid_heads, head_count = _check_heads(head_rows, external, certs, issues)
    needed = {h.head.seq for h in valid_heads}
    try:
        return _verify_records(cursor, valid_heads, head_count, needed, issues)
    except EcardError:
        raise
    except driver_error as exc:
        raise BadInputError(f"cannot read the journal records: {exc}") from None


def _verify_records(
    cursor: Any,
    valid_heads: list[_Head],
    head_count: int,
    needed: set[int],
    issues: list[_Issue],
) -> JournalReport:
    present = _Ranges()
    failed: list[JournalRecord] = []
    stored_at: dict[int, bytes | None] = {}
    prev_hash: bytes | None = None  # record_hash of the previous row, if it is well-formed
    prev_seq: int | None = None
    prev_clean = False
    count = 0
    for raw in _rows(cursor, f"{_RECORD_SELECT} ORDER BY seq"):
        count += 1
        raw_seq = raw[0] if len(raw) else None
        seq = raw_seq if type(raw_seq) is int and raw_seq >= 1 else None
        event = gap = False
        if seq is not None:
            if seq == prev_seq:
                issues.append(_Issue(FindingCode.INSERTED, seq, None, ("duplicate",)))
                event = True
            else:
                gap = seq != (1 if prev_seq is None else prev_seq + 1)
                present.add(seq)
        checked = _check_row(raw)
        if isinstance(checked, str):
            issues.append(_Issue(FindingCode.MALFORMED, seq, None, (_span(seq, None), checked)))
            event = True
            record_hash = None
        else:
            link, record_hash, hash_ok = checked
            if not hash_ok:
                if len(failed) < MAX_CLASSIFIED:
                    failed.append(_parse_record_row(raw))
                else:
                    issues.append(_Issue(FindingCode.ALTERED, seq, None))
                event = True
            elif not event and not gap and seq is not None:
                if prev_seq is None and link != GENESIS_HASH:
                    issues.append(_Issue(FindingCode.BROKEN_LINK, 1, None, ("genesis",)))
                    event = True
                elif prev_clean and prev_hash is not None and link != prev_hash:
                    issues.append(_Issue(FindingCode.BROKEN_LINK, seq - 1, seq))
                    event = True
        if seq is not None and seq != prev_seq:
            if seq in needed:
                stored_at[seq] = record_hash
            prev_seq, prev_hash, prev_clean = seq, record_hash, not event
        elif seq is not None:
            prev_clean = False

    # records whose hash fails: moved (their hash matches another seq) or altered
    lookup: dict[bytes, int] = {}
    wanted = {r.prev_hash for r in failed if r.prev_hash != GENESIS_HASH}
    if wanted:
        for row_seq, row_hash in _select_in(
            cursor, "SELECT seq, record_hash FROM journal_records", "record_hash", _hex_list(wanted)
        ):
            if type(row_seq) is int and isinstance(row_hash, str):
                with contextlib.suppress(ValueError):
                    lookup[bytes.fromhex(row_hash)] = row_seq
    moved: dict[int, JournalRecord] = {}  # original seq -> record (stored elsewhere)
    moved_from: set[int] = set()  # the seqs those records are stored at
    for rec in failed:
        candidates = [rec.seq - 1, rec.seq + 1]
        if rec.prev_hash == GENESIS_HASH:
            candidates.insert(0, 1)
        elif rec.prev_hash in lookup:
            candidates.insert(0, lookup[rec.prev_hash] + 1)
        for original in dict.fromkeys(candidates):
            if (
                original >= 1
                and original != rec.seq
                and original not in moved
                and dataclasses.replace(rec, seq=original).computed_hash() == rec.record_hash
            ):
                moved[original] = rec
                moved_from.add(rec.seq)
                issues.append(_Issue(FindingCode.REORDERED, rec.seq, None, (rec.seq - original,)))
                break
        else:
            issues.append(_Issue(FindingCode.ALTERED, rec.seq, None))

    # which original seqs are accounted for: records in place, plus moved ones at their origin
    top_in_place = 0
    for start, end in zip(reversed(present.starts), reversed(present.ends), strict=True):
        n = end
        while n >= start and n in moved_from:
            n -= 1
        if n >= start:
            top_in_place = n
            break
    last_seq = max(top_in_place, max(moved, default=0))
    origins = sorted(moved)
    vacated = sorted(s for s in moved_from if s <= last_seq)
    for first, last in present.gaps(last_seq):
        for a, b in _subtract(first, last, origins):
            issues.append(_Issue(FindingCode.REMOVED, a, b))
    for s in vacated:
        if s not in moved:
            issues.append(_Issue(FindingCode.REMOVED, s, None, ("renumbered",)))
    # a self-consistent record in place at a moved record's origin took its place: inserted
    occupied = [s for s in origins if s in present and s not in moved_from]
    if occupied:
        rows = _select_in(cursor, _RECORD_SELECT, "seq", [str(s) for s in occupied])
        for row in rows:
            with contextlib.suppress(_Malformed):
                rec = _parse_record_row(row)
                if rec.computed_hash() == rec.record_hash:
                    issues.append(_Issue(FindingCode.INSERTED, rec.seq, None))

    # signed heads against the chain
    signed_seq = 0
    valid = 0
    for item in valid_heads:
        head = item.head
        if head.seq > last_seq:
            issues.append(
                _Issue(FindingCode.TRUNCATED, last_seq + 1, head.seq, (item.label,)),
            )
            continue
        if head.seq in moved:
            actual: bytes | None = moved[head.seq].record_hash
        elif head.seq in moved_from or head.seq not in stored_at:
            continue  # the record is missing: reported as REMOVED
        else:
            actual = stored_at[head.seq]
        if actual is None:
            continue  # malformed record: reported
        if actual != head.record_hash:
            issues.append(_Issue(FindingCode.HEAD_MISMATCH, head.seq, None, (item.label,)))
            continue
        valid += 1
        signed_seq = max(signed_seq, head.seq)
    if last_seq > signed_seq:
        none = ("none",) if signed_seq == 0 else ()
        issues.append(_Issue(FindingCode.UNSIGNED_TAIL, signed_seq + 1, last_seq, none))

    merged = _merge(issues)
    findings = tuple(
        Finding(i.code, i.seq, i.last if i.last != i.seq else None, _message(i))
        for i in merged[:MAX_FINDINGS]
    )
    return JournalReport(
        records=count,
        last_seq=last_seq,
        heads=head_count,
        valid_heads=valid,
        signed_seq=signed_seq,
        findings=findings,
        omitted=max(0, len(merged) - MAX_FINDINGS),
    )


def verify_journal(
    target: str | os.PathLike[str],
    *,
    head_certificates: Iterable[x509.Certificate] = (),
    heads: Iterable[bytes] = (),
) -> JournalReport:
    """Verify a SQLite journal file (opened read-only; see :func:`verify_connection`).

    ``head_certificates`` are the certificates of the keys that sign heads; ``heads`` are
    signed heads (:attr:`SignedHead.cose`) kept outside the database, which catch a
    truncation even if the stored heads were deleted with the records.
    :class:`~ecard.errors.BadInputError` if the file is missing or not an ecard journal.
    """
    path = _sqlite_target(target)
    if not Path(path).is_file():
        raise BadInputError(f"no journal file {path!r}")
    uri = f"{Path(path).resolve().as_uri()}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise _connect_error(path, exc) from None
    try:
        conn.execute("BEGIN")  # one snapshot for the heads and the records
        return verify_connection(conn, head_certificates=head_certificates, heads=heads)
    except sqlite3.Error as exc:
        raise _connect_error(path, exc) from None
    finally:
        conn.close()


__all__ = [
    "FORMAT",
    "GENESIS_HASH",
    "HEAD_COLUMNS",
    "HEAD_TYPE",
    "MAX_FINDINGS",
    "MIN_PSEUDONYM_KEY",
    "PSEUDONYM_CONTEXT",
    "RECORD_COLUMNS",
    "SQLITE_SCHEMA",
    "DbApiConnection",
    "Finding",
    "FindingCode",
    "Journal",
    "JournalIntegrityError",
    "JournalRecord",
    "JournalReport",
    "RecordKind",
    "SignedHead",
    "build_record",
    "encode_head_payload",
    "format_time",
    "holder_pseudonym",
    "pseudonym_key_from_hex",
    "verify_connection",
    "verify_journal",
]
