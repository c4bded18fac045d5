"""The issuance journal's PostgreSQL schema (docs/journal.md, section PostgreSQL) on a real
server: created from the documented SQL itself, written through psycopg with
:func:`~ecard.journal.records.build_record`, verified with
:func:`~ecard.journal.verify.verify_connection`, and its tamper protections tried."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

import psycopg
import pytest
from tests.conftest import T0
from tests.pgserver import PostgresServer

from ecard.journal.records import GENESIS_HASH, RecordKind, build_record
from ecard.journal.verify import verify_connection

DOCS = Path(__file__).parent.parent / "docs" / "journal.md"


def documented_schema() -> str:
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("## PostgreSQL") :]
    match = re.search(r"```sql\n(.*?)```", section, re.DOTALL)
    assert match is not None
    return match.group(1)


@pytest.fixture
def conn(postgres: PostgresServer, request: pytest.FixtureRequest) -> psycopg.Connection:
    name = "j_" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:12]
    postgres.create_database(name)
    connection = psycopg.connect(
        f"host=127.0.0.1 port={postgres.port} user={postgres.user} dbname={name}",
        autocommit=True,
    )
    connection.execute(documented_schema())  # type: ignore[call-overload]
    request.addfinalizer(connection.close)
    return connection


def append(conn: psycopg.Connection, n: int) -> None:
    prev = GENESIS_HASH
    for seq in range(1, n + 1):
        record = build_record(
            seq=seq,
            kind=RecordKind.CARD,
            credential_id=f"{seq:016x}",
            holder="ab" * 32,
            kid=bytes(8),
            recorded_at=T0 + dt.timedelta(seconds=seq),
            operator="clerk:1",
            content_hash=hashlib.sha256(str(seq).encode()).digest(),
            prev_hash=prev,
        )
        placeholders = ", ".join(["%s"] * len(record.to_row()))
        conn.execute(
            f"INSERT INTO journal_records VALUES ({placeholders})",  # type: ignore[arg-type]
            record.to_row(),
        )
        prev = record.record_hash


def test_documented_schema_holds_a_verifiable_journal(conn: psycopg.Connection) -> None:
    append(conn, 5)
    report = verify_connection(conn)
    assert report.ok and report.records == 5 and report.last_seq == 5


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE journal_records SET operator = 'clerk:2' WHERE seq = 2",
        "DELETE FROM journal_records WHERE seq = 5",
        "TRUNCATE journal_records",
        "UPDATE journal_meta SET value = 'other'",
    ],
)
def test_the_server_refuses_changes(conn: psycopg.Connection, statement: str) -> None:
    append(conn, 5)
    with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
        conn.execute(statement)  # type: ignore[call-overload]
    assert verify_connection(conn).ok


def test_a_change_behind_the_triggers_is_found(conn: psycopg.Connection) -> None:
    append(conn, 5)
    conn.execute("ALTER TABLE journal_records DISABLE TRIGGER USER")
    conn.execute("UPDATE journal_records SET operator = 'clerk:2' WHERE seq = 3")
    conn.execute("DELETE FROM journal_records WHERE seq = 4")
    report = verify_connection(conn)
    assert not report.ok and len(report.errors) >= 2
