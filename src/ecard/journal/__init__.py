"""The issuance journal: an append-only, hash-chained record of everything ecard signs.

Every issuance (a card, a trust list, a revocation list) appends one record: what was signed
(its SHA-256), under which ``kid``, when, by which operator, which credential id and, for a
card, a *pseudonym* of the holder (HMAC-SHA-256 under a key the operator keeps; never the plain
ID number or the name). Each record's hash covers the previous record's hash, so removing,
reordering, inserting or changing a record breaks the chain; the head of the chain is signed
periodically (:meth:`Journal.sign_head`), so a rewrite of the whole chain up to a signed head
is detected too. :func:`verify_journal` checks a journal with only the database file and the
head-signing certificate, and reports precisely what is wrong. The format
(``ecard-journal/1``) is specified in ``docs/journal.md``.

The modules, one job each: :mod:`~ecard.journal.records` (the record format and its hash),
:mod:`~ecard.journal.pseudonyms` (holder pseudonyms and their key),
:mod:`~ecard.journal.schema` (the tables), :mod:`~ecard.journal.store` (the SQLite store),
:mod:`~ecard.journal.heads` (the signed head's format and check, keyless),
:mod:`~ecard.journal.headsign` (signing a head: the only module that imports
``ecard.signing``), :mod:`~ecard.journal.verify` (the forensic check, in passes),
:mod:`~ecard.journal.findings` and :mod:`~ecard.journal.report` (what it finds, and the
report), :mod:`~ecard.journal.fast` (the verifier's fast path over a row).

Names are exported lazily (PEP 562): importing :func:`verify_journal` loads no module of
``ecard.signing``.

>>> from ecard.journal import Journal
>>> journal = Journal.open(":memory:", pseudonym_key=bytes(range(32)))
>>> journal.pseudonym("11010519491231002X")[:16]
'4c9e7f5c8b906894'
>>> journal.head()
(0, b'')
>>> journal.close()
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecard._lazy import lazy_exports

# Public name -> defining module, imported on first use: an audit that only verifies never
# loads the store, nor through it the head signer and ecard.signing.
_EXPORTS: dict[str, str] = {
    "FORMAT": "ecard.journal.records",
    "GENESIS_HASH": "ecard.journal.records",
    "RECORD_COLUMNS": "ecard.journal.records",
    "JournalRecord": "ecard.journal.records",
    "RecordKind": "ecard.journal.records",
    "build_record": "ecard.journal.records",
    "format_time": "ecard.journal.records",
    "MIN_PSEUDONYM_KEY": "ecard.journal.pseudonyms",
    "PSEUDONYM_CONTEXT": "ecard.journal.pseudonyms",
    "holder_pseudonym": "ecard.journal.pseudonyms",
    "pseudonym_key_from_hex": "ecard.journal.pseudonyms",
    "HEAD_COLUMNS": "ecard.journal.schema",
    "SQLITE_SCHEMA": "ecard.journal.schema",
    "HEAD_TYPE": "ecard.journal.heads",
    "SignedHead": "ecard.journal.heads",
    "encode_head_payload": "ecard.journal.heads",
    "Journal": "ecard.journal.store",
    "JournalIntegrityError": "ecard.journal.store",
    "Finding": "ecard.journal.findings",
    "FindingCode": "ecard.journal.findings",
    "MAX_FINDINGS": "ecard.journal.report",
    "JournalReport": "ecard.journal.report",
    "DbApiConnection": "ecard.journal.verify",
    "verify_connection": "ecard.journal.verify",
    "verify_journal": "ecard.journal.verify",
}

if TYPE_CHECKING:
    from ecard.journal.findings import Finding, FindingCode
    from ecard.journal.heads import HEAD_TYPE, SignedHead, encode_head_payload
    from ecard.journal.pseudonyms import (
        MIN_PSEUDONYM_KEY,
        PSEUDONYM_CONTEXT,
        holder_pseudonym,
        pseudonym_key_from_hex,
    )
    from ecard.journal.records import (
        FORMAT,
        GENESIS_HASH,
        RECORD_COLUMNS,
        JournalRecord,
        RecordKind,
        build_record,
        format_time,
    )
    from ecard.journal.report import MAX_FINDINGS, JournalReport
    from ecard.journal.schema import HEAD_COLUMNS, SQLITE_SCHEMA
    from ecard.journal.store import Journal, JournalIntegrityError
    from ecard.journal.verify import DbApiConnection, verify_connection, verify_journal


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())

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
