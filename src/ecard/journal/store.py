"""The SQLite store of the journal: :class:`Journal` opens (or creates) a journal file, appends
records in transactions, reads them back, and signs and stores heads.

Contract: an append is one ``BEGIN IMMEDIATE`` transaction that takes the next ``seq`` and
chains onto the last record, and refuses (:class:`JournalIntegrityError`) to chain onto one
that is malformed or does not match its hash; a head is signed only over records that chain
correctly since the previous head. The tables are append-only (triggers). The file is created
with mode 0600.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from cryptography import x509

from ecard._time import utc
from ecard.errors import BadInputError, BadKeyError, BadListError, EcardError
from ecard.formats.credential import IssuedCard
from ecard.formats.lists import REVOCATION_LIST, TRUST_LIST, read_unverified_list
from ecard.journal.fast import card_hash_input, fast_hash_input
from ecard.journal.heads import SignedHead
from ecard.journal.headsign import check_head_signer
from ecard.journal.headsign import sign_head as sign_head_payload
from ecard.journal.pseudonyms import check_pseudonym_key, holder_pseudonym
from ecard.journal.records import (
    FORMAT,
    GENESIS_HASH,
    HASH_SIZE,
    JournalRecord,
    Malformed,
    RecordKind,
    build_record,
    check_operator,
    format_time,
    parse_hex,
    parse_record_row,
    parse_time,
)
from ecard.journal.report import JournalReport
from ecard.journal.schema import (
    RECORD_INSERT,
    RECORD_SELECT,
    SQLITE_SCHEMA,
    blob,
    connect_error,
    sqlite_target,
)
from ecard.journal.verify import verify_connection
from ecard.signing.signers import Signer

_LIST_KINDS: Final = {
    TRUST_LIST: RecordKind.TRUST_LIST,
    REVOCATION_LIST: RecordKind.REVOCATION_LIST,
}


class JournalIntegrityError(BadInputError):
    """The journal is damaged where an operation needs it intact (appending after a tampered
    last record, signing a head over a broken chain). Run
    :func:`~ecard.journal.verify.verify_journal` for the full picture."""


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
        if pseudonym_key is not None:
            check_pseudonym_key(pseudonym_key)
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
        path = sqlite_target(target)
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
            raise connect_error(path, exc) from None
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
                raise connect_error(self._name, exc) from None
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
                raise connect_error(self._name, exc) from None

    def _query(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise connect_error(self._name, exc) from None

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
        """The holder pseudonym of a citizen ID number (see
        :func:`~ecard.journal.pseudonyms.holder_pseudonym`)."""
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
            check_operator(operator)
        except Malformed as exc:
            raise BadInputError(str(exc)) from None
        with self._transaction() as conn:
            now = self._now()  # under the lock: with one clock, times follow seq
            seq, prev = self._tail(conn)
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
                conn.execute(RECORD_INSERT, record.to_row())
            except sqlite3.Error as exc:
                raise connect_error(self._name, exc) from None
        return record

    def append_card_entries(
        self, entries: Sequence[tuple[str, str, bytes, bytes]], *, operator: str
    ) -> int:
        """Record many signed cards in one transaction, in order: each entry is
        ``(credential_id, holder pseudonym, kid, SHA-256 of the COSE bytes)``, as a batch worker
        computes them with this journal's pseudonym key. All are recorded, or none; returns the
        ``seq`` of the last record (the journal's head).

        The bulk path of :meth:`append_card`: one ``BEGIN IMMEDIATE`` and one tail read for the
        lot, and each row's hash input written directly from its values
        (:func:`~ecard.journal.fast.card_hash_input`, byte-identical to
        :meth:`JournalRecord.hash_input`); a row it does not recognise goes through the
        verifier's fast path and then :func:`~ecard.journal.records.build_record`, which says
        what is wrong.
        """
        try:
            check_operator(operator)
        except Malformed as exc:
            raise BadInputError(str(exc)) from None
        with self._transaction() as conn:
            at = format_time(self._now())
            seq, prev = self._tail(conn)
            rows: list[tuple[int, str, str, str, str, str, str, str, str, str]] = []
            placeholder = GENESIS_HASH.hex()
            sha256 = hashlib.sha256
            for credential_id, holder, kid, content_hash in entries:
                data = card_hash_input(
                    seq, credential_id, holder, kid, at, operator, content_hash, prev
                )
                if data is not None:  # the common case: every value canonical
                    record_hash = sha256(data).digest()
                    rows.append((seq, "card", credential_id, holder, kid.hex(), at, operator,
                                 content_hash.hex(), prev.hex(), record_hash.hex()))  # fmt: skip
                    seq, prev = seq + 1, record_hash
                    continue
                row = (seq, "card", credential_id, holder, kid.hex(), at, operator,
                       content_hash.hex(), prev.hex(), placeholder)  # fmt: skip
                fast = fast_hash_input(row)
                if fast is None:  # raises BadInputError naming the bad field
                    record = build_record(
                        seq=seq, kind=RecordKind.CARD, credential_id=credential_id,
                        holder=holder, kid=kid, recorded_at=parse_time(at, "recorded_at"),
                        operator=operator, content_hash=content_hash, prev_hash=prev,
                    )  # fmt: skip
                    record_hash = record.record_hash
                else:
                    record_hash = hashlib.sha256(fast[2]).digest()
                rows.append((*row[:9], record_hash.hex()))
                seq, prev = seq + 1, record_hash
            try:
                conn.executemany(RECORD_INSERT, rows)
            except sqlite3.Error as exc:
                raise connect_error(self._name, exc) from None
        return seq - 1

    def _tail(self, conn: sqlite3.Connection) -> tuple[int, bytes]:
        """``(next seq, hash to chain onto)``; :class:`JournalIntegrityError` for a bad tail."""
        last = conn.execute(f"{RECORD_SELECT} ORDER BY seq DESC LIMIT 1").fetchone()
        if last is None:
            return 1, GENESIS_HASH
        try:
            tail = parse_record_row(last)
        except Malformed as exc:
            raise JournalIntegrityError(
                f"the last record is malformed ({exc}): nothing can chain onto it; "
                "run `ecard journal verify`"
            ) from None
        if tail.computed_hash() != tail.record_hash:
            raise JournalIntegrityError(
                f"the last record ({tail.seq}) does not match its hash: nothing can "
                "chain onto it; run `ecard journal verify`"
            )
        return tail.seq + 1, tail.record_hash

    def append_card(self, issued: IssuedCard, *, operator: str) -> JournalRecord:
        """Record a signed card: its ``cti``, the holder's pseudonym, the ``kid`` and the
        SHA-256 of its COSE bytes. Needs the pseudonym key.

        Call it after :meth:`~ecard.signing.issuer.Issuer.issue` and before the credential is
        handed out; if it raises, do not release the credential.
        """
        if not isinstance(issued, IssuedCard):
            raise BadInputError("append_card takes an IssuedCard")
        if self._pseudonym_key is None:
            raise BadKeyError("this journal was opened without its pseudonym key")
        holder = holder_pseudonym(
            self._pseudonym_key, issued.card.holder.ssn, issued.card.holder.document
        )
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
        rows = self._query(f"{RECORD_SELECT}{where} ORDER BY seq", params)
        try:
            return [parse_record_row(row) for row in rows]
        except Malformed as exc:
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
            return seq, parse_hex(record_hash, "record_hash", HASH_SIZE)
        except Malformed as exc:
            raise JournalIntegrityError(f"record {seq}: {exc}") from None

    def heads(self) -> list[SignedHead]:
        """The signed heads stored in the journal (signatures NOT checked), by ``seq``."""
        rows = self._query("SELECT cose FROM journal_heads ORDER BY seq, kid")
        try:
            return [SignedHead.from_cose(blob(row[0]) or b"") for row in rows]
        except BadInputError as exc:
            raise JournalIntegrityError(f"a stored head is malformed: {exc.detail}") from None

    def verify(
        self,
        *,
        head_certificates: Iterable[x509.Certificate] = (),
        heads: Iterable[bytes] = (),
    ) -> JournalReport:
        """:func:`~ecard.journal.verify.verify_connection` over this journal's own connection
        (a convenience; an audit opens the file itself with
        :func:`~ecard.journal.verify.verify_journal`)."""
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
                start, prev = last[0] + 1, parse_hex(last[1], "record_hash", HASH_SIZE)
            except Malformed as exc:
                raise JournalIntegrityError(f"the last stored head: {exc}") from None
        for row in conn.execute(f"{RECORD_SELECT} WHERE seq >= ? ORDER BY seq", (start,)):
            problem = None
            try:
                record = parse_record_row(row)
            except Malformed as exc:
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
        kid, now = check_head_signer(signer, certificate, self._now)
        with self._lock:
            seq, record_hash = self.head()
            if seq == 0:
                raise BadInputError("the journal is empty: there is no head to sign")
            existing = self._query(
                "SELECT cose FROM journal_heads WHERE seq = ? AND kid = ?", (seq, kid.hex())
            )
            if existing:
                return SignedHead.from_cose(blob(existing[0][0]) or b"")
            try:
                self._check_since_last_head()
            except sqlite3.Error as exc:
                raise connect_error(self._name, exc) from None
            head = sign_head_payload(signer, kid, seq, record_hash, now)
            with self._transaction() as conn:
                conn.execute(
                    "INSERT INTO journal_heads (seq, kid, record_hash, signed_at, cose) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (seq, kid.hex(), record_hash.hex(), format_time(head.signed_at), head.cose),
                )
        return head


__all__ = ["Journal", "JournalIntegrityError"]
