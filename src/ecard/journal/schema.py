"""The journal's tables: their columns, the SQLite schema, the ``SELECT`` statements both the
store and the verifier read with, and how a SQLite journal is named (a path or a
``sqlite:///`` URL).

Contract: the schema uses portable types (the PostgreSQL variant is in ``docs/journal.md``);
every table is append-only through triggers. Nothing here holds a key or writes a row.
"""

from __future__ import annotations

import os
from typing import Final

from ecard.errors import BadInputError
from ecard.journal.records import RECORD_COLUMNS

#: The stored columns of a signed head, in order.
HEAD_COLUMNS: Final = ("seq", "kid", "record_hash", "signed_at", "cose")

RECORD_SELECT: Final = f"SELECT {', '.join(RECORD_COLUMNS)} FROM journal_records"  # noqa: S608
HEAD_SELECT: Final = f"SELECT {', '.join(HEAD_COLUMNS)} FROM journal_heads"  # noqa: S608
RECORD_INSERT: Final = (
    f"INSERT INTO journal_records ({', '.join(RECORD_COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join('?' * len(RECORD_COLUMNS))})"
)

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


def sqlite_target(target: str | os.PathLike[str]) -> str:
    """A filesystem path (or ``:memory:``) from a path or a ``sqlite:///`` URL;
    :class:`~ecard.errors.BadInputError` for a PostgreSQL URL or a malformed one."""
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


def connect_error(path: str, exc: BaseException) -> BadInputError:
    """The error for a journal file the database driver cannot use."""
    return BadInputError(f"cannot use journal {path!r}: {exc}")


def blob(value: object) -> bytes | None:
    """A stored binary value as bytes (drivers return ``bytes``, ``memoryview`` — psycopg2's
    ``bytea`` — or ``bytearray``); ``None`` for anything else."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, memoryview | bytearray):
        return bytes(value)
    return None


__all__ = [
    "HEAD_COLUMNS",
    "HEAD_SELECT",
    "RECORD_INSERT",
    "RECORD_SELECT",
    "SQLITE_SCHEMA",
    "blob",
    "connect_error",
    "sqlite_target",
]
