"""The forensic check of a journal: with only the database and the head-signing certificates,
say whether anything was removed, reordered, inserted or changed, and exactly where.

Contract: :func:`verify_connection` runs named passes in order, each returning its findings —

1. :func:`check_heads` — every signed head (stored and kept elsewhere): form, signature, and
   that a stored head's columns are what its signature covers;
2. :func:`check_chain` — one streaming pass over the records: each row's form, its hash, its
   link to the row before, duplicate ``seq`` values;
3. :func:`classify_failed` — each record whose hash fails: moved (its hash fits another
   ``seq``) or altered;
4. :func:`check_completeness` — which ``seq`` values of the original chain are accounted for:
   gaps (removed), records renumbered to close one, records that took a moved one's place;
5. :func:`check_coverage` — the valid signed heads against the chain: truncation, a rewritten
   chain, the records no head covers yet.

Problems *in* the journal are findings, never exceptions; only a database that cannot be read
or holds another format raises :class:`~ecard.errors.BadInputError`. No pseudonym key and no
private key is needed: nothing here imports ``ecard.signing``.
"""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol

from cryptography import x509

from ecard.errors import BadInputError, EcardError
from ecard.formats.cose import kid_for_certificate
from ecard.journal.fast import check_row
from ecard.journal.findings import FindingCode, Issue, span
from ecard.journal.heads import SignedHead
from ecard.journal.records import (
    FORMAT,
    GENESIS_HASH,
    JournalRecord,
    Malformed,
    format_time,
    parse_record_row,
)
from ecard.journal.report import JournalReport, build_report
from ecard.journal.schema import (
    HEAD_COLUMNS,
    HEAD_SELECT,
    RECORD_SELECT,
    blob,
    connect_error,
    sqlite_target,
)

#: Most records with a wrong hash that verification tries to explain (moved or altered).
MAX_CLASSIFIED: Final = 10_000

#: Largest journal file :func:`verify_journal` opens (refused before it is read). The check is
#: one streaming pass, so time grows with the file, memory with :data:`MAX_CLASSIFIED` only.
MAX_JOURNAL_FILE: Final = 32 * 1024**3

#: Largest value (text or blob) of one record or stored head that :func:`verify_journal` reads
#: (SQLite's length limit on the read-only connection); a real one is a few hundred bytes.
MAX_JOURNAL_VALUE: Final = 64 * 1024


class DbApiConnection(Protocol):
    """What :func:`verify_connection` needs of a DB-API 2.0 connection."""

    def cursor(self) -> Any:
        """A DB-API cursor (``execute``, ``fetchall``, ``fetchmany``)."""
        ...


# -- reading ----------------------------------------------------------------------------------


def _rows(cursor: Any, sql: str) -> Iterator[Sequence[object]]:
    cursor.execute(sql)
    while True:
        batch = cursor.fetchmany(1000)
        if not batch:
            return
        yield from batch


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


# -- pass 1: signed heads ---------------------------------------------------------------------


@dataclass
class ValidHead:
    """A signed head whose signature verified, and how findings name it."""

    head: SignedHead
    label: str


@dataclass
class HeadsPass:
    """What :func:`check_heads` found: the validly signed heads and how many were examined."""

    valid: list[ValidHead]
    count: int
    issues: list[Issue] = field(default_factory=list)


def check_heads(
    head_rows: Iterable[Sequence[object]],
    external: Iterable[bytes],
    certs: Mapping[bytes, x509.Certificate],
) -> HeadsPass:
    """Check every head's form and signature (``certs`` by ``kid``), and that a stored head's
    columns match what it signs."""
    result = HeadsPass([], 0)
    issues = result.issues
    sources: list[tuple[str, Sequence[object] | None, object]] = [
        ("stored head", row, row[4] if len(row) == len(HEAD_COLUMNS) else None) for row in head_rows
    ]
    sources += [(f"external head #{n}", None, data) for n, data in enumerate(external, 1)]
    for what, row, data in sources:
        result.count += 1
        column_seq = row[0] if row is not None and type(row[0]) is int else None
        label = f"{what} (seq {column_seq})" if column_seq is not None else what
        cose = blob(data)
        if cose is None:
            issues.append(Issue(FindingCode.MALFORMED, column_seq, None, (label, "no COSE bytes")))
            continue
        try:
            head = SignedHead.from_cose(cose)
        except BadInputError as exc:
            issues.append(Issue(FindingCode.MALFORMED, column_seq, None, (label, exc.detail)))
            continue
        label = (
            f"{what} for seq {head.seq} signed {format_time(head.signed_at)} "
            f"by kid {head.kid.hex()}"
        )
        cert = certs.get(head.kid)
        if cert is None:
            issues.append(
                Issue(
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
            issues.append(Issue(FindingCode.BAD_HEAD_SIGNATURE, head.seq, None, (label, problem)))
            continue
        result.valid.append(ValidHead(head, label))
        if row is not None:
            signed = (head.seq, head.kid.hex(), head.record_hash.hex(), format_time(head.signed_at))
            differ = [
                HEAD_COLUMNS[n] for n in range(4) if row[n] != signed[n] or type(row[n]) is bool
            ]
            if differ:
                issues.append(
                    Issue(
                        FindingCode.HEAD_ALTERED,
                        head.seq,
                        None,
                        (label, f"column(s) {', '.join(differ)} differ from the signed values"),
                    )
                )
    return result


# -- pass 2: the chain ------------------------------------------------------------------------


@dataclass
class ChainPass:
    """What :func:`check_chain` found while streaming the records."""

    #: Record rows read.
    count: int = 0
    #: The ``seq`` values present.
    present: _Ranges = field(default_factory=_Ranges)
    #: Well-formed records whose hash fails (at most :data:`MAX_CLASSIFIED`).
    failed: list[JournalRecord] = field(default_factory=list)
    #: ``record_hash`` stored at the ``seq`` values a valid head names (``None``: malformed).
    stored_at: dict[int, bytes | None] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)


def check_chain(rows: Iterable[Sequence[object]], needed: set[int]) -> ChainPass:
    """One pass over the record rows in ``seq`` order: the form of each, its hash, its link to
    the row before (unless that one is already reported), duplicate ``seq`` values. Keeps the
    stored hash at every ``seq`` in ``needed`` (those signed heads name)."""
    result = ChainPass()
    issues = result.issues
    prev_hash: bytes | None = None  # record_hash of the previous row, if it is well-formed
    prev_seq: int | None = None
    prev_clean = False
    for raw in rows:
        result.count += 1
        raw_seq = raw[0] if len(raw) else None
        seq = raw_seq if type(raw_seq) is int and raw_seq >= 1 else None
        event = gap = False
        if seq is not None:
            if seq == prev_seq:
                issues.append(Issue(FindingCode.INSERTED, seq, None, ("duplicate",)))
                event = True
            else:
                gap = seq != (1 if prev_seq is None else prev_seq + 1)
                result.present.add(seq)
        checked = check_row(raw)
        if isinstance(checked, str):
            issues.append(Issue(FindingCode.MALFORMED, seq, None, (span(seq, None), checked)))
            event = True
            record_hash = None
        else:
            link, record_hash, hash_ok = checked
            if not hash_ok:
                if len(result.failed) < MAX_CLASSIFIED:
                    result.failed.append(parse_record_row(raw))
                else:
                    issues.append(Issue(FindingCode.ALTERED, seq, None))
                event = True
            elif not event and not gap and seq is not None:
                if prev_seq is None and link != GENESIS_HASH:
                    issues.append(Issue(FindingCode.BROKEN_LINK, 1, None, ("genesis",)))
                    event = True
                elif prev_clean and prev_hash is not None and link != prev_hash:
                    issues.append(Issue(FindingCode.BROKEN_LINK, seq - 1, seq))
                    event = True
        if seq is not None and seq != prev_seq:
            if seq in needed:
                result.stored_at[seq] = record_hash
            prev_seq, prev_hash, prev_clean = seq, record_hash, not event
        elif seq is not None:
            prev_clean = False
    return result


# -- pass 3: moved or altered -----------------------------------------------------------------


@dataclass
class MovesPass:
    """What :func:`classify_failed` found."""

    #: Original ``seq`` -> the genuine record written there, now stored elsewhere.
    moved: dict[int, JournalRecord] = field(default_factory=dict)
    #: The ``seq`` values those records are stored at.
    moved_from: set[int] = field(default_factory=set)
    issues: list[Issue] = field(default_factory=list)


def classify_failed(cursor: Any, failed: Sequence[JournalRecord]) -> MovesPass:
    """For each record whose hash fails: if its hash fits the ``seq`` after the record its
    ``prev_hash`` names (or a neighbour), it was moved (``REORDERED``); otherwise ``ALTERED``."""
    result = MovesPass()
    lookup: dict[bytes, int] = {}
    wanted = {r.prev_hash for r in failed if r.prev_hash != GENESIS_HASH}
    if wanted:
        for row_seq, row_hash in _select_in(
            cursor, "SELECT seq, record_hash FROM journal_records", "record_hash", _hex_list(wanted)
        ):
            if type(row_seq) is int and isinstance(row_hash, str):
                with contextlib.suppress(ValueError):
                    lookup[bytes.fromhex(row_hash)] = row_seq
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
                and original not in result.moved
                and dataclasses.replace(rec, seq=original).computed_hash() == rec.record_hash
            ):
                result.moved[original] = rec
                result.moved_from.add(rec.seq)
                result.issues.append(
                    Issue(FindingCode.REORDERED, rec.seq, None, (rec.seq - original,))
                )
                break
        else:
            result.issues.append(Issue(FindingCode.ALTERED, rec.seq, None))
    return result


# -- pass 4: completeness ---------------------------------------------------------------------


@dataclass
class CompletenessPass:
    """What :func:`check_completeness` found."""

    #: Highest ``seq`` of the original chain that is accounted for (0 if empty).
    last_seq: int
    issues: list[Issue] = field(default_factory=list)


def check_completeness(cursor: Any, present: _Ranges, moves: MovesPass) -> CompletenessPass:
    """Which original ``seq`` values are accounted for (records in place, and moved records at
    their origin): gaps are ``REMOVED``, a vacated ``seq`` nobody was moved to is ``REMOVED``
    (renumbered), a self-consistent record at a moved record's origin is ``INSERTED``."""
    moved, moved_from = moves.moved, moves.moved_from
    top_in_place = 0
    for start, end in zip(reversed(present.starts), reversed(present.ends), strict=True):
        n = end
        while n >= start and n in moved_from:
            n -= 1
        if n >= start:
            top_in_place = n
            break
    result = CompletenessPass(max(top_in_place, max(moved, default=0)))
    last_seq, issues = result.last_seq, result.issues
    origins = sorted(moved)
    vacated = sorted(s for s in moved_from if s <= last_seq)
    for first, last in present.gaps(last_seq):
        for a, b in _subtract(first, last, origins):
            issues.append(Issue(FindingCode.REMOVED, a, b))
    for s in vacated:
        if s not in moved:
            issues.append(Issue(FindingCode.REMOVED, s, None, ("renumbered",)))
    occupied = [s for s in origins if s in present and s not in moved_from]
    if occupied:
        rows = _select_in(cursor, RECORD_SELECT, "seq", [str(s) for s in occupied])
        for row in rows:
            with contextlib.suppress(Malformed):
                rec = parse_record_row(row)
                if rec.computed_hash() == rec.record_hash:
                    issues.append(Issue(FindingCode.INSERTED, rec.seq, None))
    return result


# -- pass 5: the heads against the chain ------------------------------------------------------


@dataclass
class CoveragePass:
    """What :func:`check_coverage` found."""

    #: Valid signed heads that match the chain.
    valid: int = 0
    #: Highest ``seq`` a valid, matching signed head covers (0 if none).
    signed_seq: int = 0
    issues: list[Issue] = field(default_factory=list)


def check_coverage(
    valid_heads: Sequence[ValidHead],
    stored_at: Mapping[int, bytes | None],
    moves: MovesPass,
    last_seq: int,
) -> CoveragePass:
    """Each valid signed head against the record at its ``seq``: past the end is
    ``TRUNCATED``, a different hash is ``HEAD_MISMATCH``; records after the last matching head
    are the ``UNSIGNED_TAIL`` warning."""
    result = CoveragePass()
    for item in valid_heads:
        head = item.head
        if head.seq > last_seq:
            result.issues.append(
                Issue(FindingCode.TRUNCATED, last_seq + 1, head.seq, (item.label,)),
            )
            continue
        if head.seq in moves.moved:
            actual: bytes | None = moves.moved[head.seq].record_hash
        elif head.seq in moves.moved_from or head.seq not in stored_at:
            continue  # the record is missing: reported as REMOVED
        else:
            actual = stored_at[head.seq]
        if actual is None:
            continue  # malformed record: reported
        if actual != head.record_hash:
            result.issues.append(Issue(FindingCode.HEAD_MISMATCH, head.seq, None, (item.label,)))
            continue
        result.valid += 1
        result.signed_seq = max(result.signed_seq, head.seq)
    if last_seq > result.signed_seq:
        none = ("none",) if result.signed_seq == 0 else ()
        result.issues.append(
            Issue(FindingCode.UNSIGNED_TAIL, result.signed_seq + 1, last_seq, none)
        )
    return result


# -- the whole check --------------------------------------------------------------------------


def _verify_records(cursor: Any, heads: HeadsPass) -> JournalReport:
    chain = check_chain(
        _rows(cursor, f"{RECORD_SELECT} ORDER BY seq"), {h.head.seq for h in heads.valid}
    )
    moves = classify_failed(cursor, chain.failed)
    completeness = check_completeness(cursor, chain.present, moves)
    coverage = check_coverage(heads.valid, chain.stored_at, moves, completeness.last_seq)
    return build_report(
        [*heads.issues, *chain.issues, *moves.issues, *completeness.issues, *coverage.issues],
        records=chain.count,
        last_seq=completeness.last_seq,
        heads=heads.count,
        valid_heads=coverage.valid,
        signed_seq=coverage.signed_seq,
    )


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
        head_rows = list(_rows(cursor, f"{HEAD_SELECT} ORDER BY seq, kid"))
    except EcardError:
        raise
    except driver_error as exc:  # the driver's own errors (DB-API Connection.Error)
        raise BadInputError(f"not a readable ecard journal: {exc}") from None
    if len(meta) != 1 or meta[0][0] != FORMAT:
        raise BadInputError(f"not an {FORMAT} journal (format {meta!r})")
    checked_heads = check_heads(head_rows, external, certs)
    try:
        return _verify_records(cursor, checked_heads)
    except EcardError:
        raise
    except driver_error as exc:
        raise BadInputError(f"cannot read the journal records: {exc}") from None


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
    path = sqlite_target(target)
    if not Path(path).is_file():
        raise BadInputError(f"no journal file {path!r}")
    size = Path(path).stat().st_size
    if size > MAX_JOURNAL_FILE:
        raise BadInputError(
            f"journal {path!r} too large ({size} bytes, at most {MAX_JOURNAL_FILE})",
            detail_zh=f"日志 {path!r} 过大（{size} 字节，上限 {MAX_JOURNAL_FILE} 字节）",
        )
    uri = f"{Path(path).resolve().as_uri()}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None)
        # a value past this in a row is "string or blob too big", never read into memory
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_JOURNAL_VALUE)
    except sqlite3.Error as exc:
        raise connect_error(path, exc) from None
    try:
        conn.execute("BEGIN")  # one snapshot for the heads and the records
        return verify_connection(conn, head_certificates=head_certificates, heads=heads)
    except sqlite3.Error as exc:
        raise connect_error(path, exc) from None
    except UnicodeDecodeError:  # text in the file (the schema, a value) that is not UTF-8
        raise connect_error(path, ValueError("the file holds text that is not UTF-8")) from None
    finally:
        conn.close()


__all__ = [
    "MAX_CLASSIFIED",
    "MAX_JOURNAL_FILE",
    "MAX_JOURNAL_VALUE",
    "ChainPass",
    "CompletenessPass",
    "CoveragePass",
    "DbApiConnection",
    "HeadsPass",
    "MovesPass",
    "ValidHead",
    "check_chain",
    "check_completeness",
    "check_coverage",
    "check_heads",
    "classify_failed",
    "verify_connection",
    "verify_journal",
]
