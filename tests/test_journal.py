"""The issuance journal: records, chain, signed heads, and that every kind of tampering is seen.

Everything is real: cards issued by the conftest ``issuer``, trust and revocation lists signed
by a list signer, heads signed by a head signer under the test root. Tampering is done the way
an intruder with the database file would do it: drop the append-only triggers and run SQL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import sqlite3
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cbor2
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from tests.conftest import T0

from ecard.card import Card, Holder
from ecard.crypto.x509 import load_certificates
from ecard.errors import BadCertificateError, BadInputError, BadKeyError, ErrorCode
from ecard.formats.cose import kid_for_certificate, parse_sign1
from ecard.formats.credential import IssuedCard
from ecard.formats.trustlist import TrustListEntry
from ecard.identifiers import citizen_id_check_char
from ecard.journal import (
    FORMAT,
    GENESIS_HASH,
    HEAD_TYPE,
    FindingCode,
    Journal,
    JournalIntegrityError,
    JournalRecord,
    JournalReport,
    RecordKind,
    SignedHead,
    build_record,
    encode_head_payload,
    holder_pseudonym,
    pseudonym_key_from_hex,
    verify_connection,
    verify_journal,
)
from ecard.publish.revocation import revoke
from ecard.signing.cose import build_sign1
from ecard.signing.issuer import Issuer
from ecard.signing.pki import CertifiedKey, create_list_signer
from ecard.signing.revocation import sign_revocation_delta
from ecard.signing.trustlist import sign_trust_list

KEY = bytes(range(32))
NOW = T0 + dt.timedelta(hours=1)
ID_1 = "11010519491231002X"  # the conftest card's holder
NAME_1 = "张三丰"
ID_2 = "11010519800101001" + citizen_id_check_char("11010519800101001")
NAME_2 = "李小龙"
TRIGGERS = [
    f"{table}_no_{op}"
    for table in ("journal_meta", "journal_records", "journal_heads")
    for op in ("update", "delete")
]


def clock() -> dt.datetime:
    return NOW


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def list_signer(root: CertifiedKey) -> CertifiedKey:
    return create_list_signer(root, "Journal Test List Signer", not_before=T0 - dt.timedelta(1))


@pytest.fixture(scope="module")
def head_signer(root: CertifiedKey) -> CertifiedKey:
    return create_list_signer(root, "Journal Head Signer", not_before=T0 - dt.timedelta(1))


@pytest.fixture(scope="module")
def cards(issuer: Issuer, card: Card) -> list[IssuedCard]:
    other = card.model_copy(update={"holder": Holder(name=NAME_2, ssn=ID_2)})
    return [issuer.issue(card if n % 2 == 0 else other) for n in range(8)]


@pytest.fixture(scope="module")
def lists(list_signer: CertifiedKey, ds: CertifiedKey, cards: list[IssuedCard]) -> list[bytes]:
    signer, cert = list_signer.signer(), list_signer.certificate
    trust = sign_trust_list(
        [TrustListEntry(ds.certificate)],
        sequence=7,
        issued_at=T0,
        next_update=T0 + dt.timedelta(days=7),
        signer=signer,
        certificate=cert,
    )
    first = revoke(
        None, [(cards[0].kid, cards[0].cti)], signer=signer, certificate=cert, issued_at=T0
    )
    second = revoke(
        first, [(cards[1].kid, cards[1].cti)], signer=signer, certificate=cert, issued_at=T0
    )
    delta = sign_revocation_delta(
        [(cards[2].kid, cards[2].cti)],
        base_sequence=2,
        sequence=3,
        issued_at=T0,
        next_update=T0 + dt.timedelta(days=1),
        signer=signer,
        certificate=cert,
    )
    return [trust, first, second, delta]


@dataclasses.dataclass
class Built:
    path: Path
    records: list[JournalRecord]
    heads: list[SignedHead]


def build(
    path: Path,
    cards: list[IssuedCard],
    lists: list[bytes],
    head_signer: CertifiedKey | None,
    *,
    n: int = 8,
) -> Built:
    """A journal of ``n`` records (cards and lists interleaved), head signed at the end."""
    items: list[IssuedCard | bytes] = [
        x for pair in zip(cards, [*lists, *lists], strict=False) for x in pair
    ]
    records, heads = [], []
    with Journal.open(path, pseudonym_key=KEY, clock=clock) as journal:
        for item in items[:n]:
            if isinstance(item, IssuedCard):
                records.append(journal.append_card(item, operator="op-7"))
            else:
                records.append(journal.append_list(item, operator="op-9"))
        if head_signer is not None:
            heads.append(journal.sign_head(head_signer.signer(), head_signer.certificate))
    return Built(path, records, heads)


@pytest.fixture
def built(
    tmp_path: Path, cards: list[IssuedCard], lists: list[bytes], head_signer: CertifiedKey
) -> Built:
    return build(tmp_path / "journal.db", cards, lists, head_signer)


def check(built: Built, head_signer: CertifiedKey, *, heads: Sequence[bytes] = ()) -> JournalReport:
    report = verify_journal(built.path, head_certificates=[head_signer.certificate], heads=heads)
    json.dumps(report.to_dict())  # always serialisable
    assert report.render().startswith("journal ")
    return report


def tamper(path: Path, *statements: str | tuple[str, tuple[Any, ...]]) -> None:
    """Drop the append-only triggers and run SQL, as an intruder with the file would."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for trigger in TRIGGERS:
            conn.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        conn.execute("BEGIN")
        for statement in statements:
            if isinstance(statement, tuple):
                conn.execute(*statement)
            else:
                conn.execute(statement)
        conn.execute("COMMIT")
    finally:
        conn.close()


def put(record: JournalRecord) -> tuple[str, tuple[Any, ...]]:
    """SQL writing ``record`` over the row with its seq (or inserting it)."""
    return (
        "INSERT OR REPLACE INTO journal_records VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        record.to_row(),
    )


def rehashed(record: JournalRecord, **changes: Any) -> JournalRecord:
    fields = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
    fields.update(changes)
    del fields["record_hash"]
    return build_record(**fields)


def codes(report: JournalReport) -> list[tuple[str, int | None, int | None]]:
    return [(f.code.value, f.seq, f.last_seq) for f in report.findings]


SHIFT = 1_000_000


# -- a clean journal --------------------------------------------------------------------------


def test_clean_journal_verifies(built: Built, head_signer: CertifiedKey) -> None:
    report = check(built, head_signer)
    assert report.ok, report.render()
    assert report.findings == ()
    assert (report.records, report.last_seq, report.signed_seq) == (8, 8, 8)
    assert (report.heads, report.valid_heads, report.first_bad_seq) == (1, 1, None)


def test_records_hold_what_was_signed(
    built: Built, cards: list[IssuedCard], lists: list[bytes], list_signer: CertifiedKey
) -> None:
    card_rec, list_rec = built.records[0], built.records[1]
    assert card_rec.kind is RecordKind.CARD
    assert card_rec.credential_id == cards[0].cti.hex()
    assert card_rec.holder == holder_pseudonym(KEY, ID_1)
    assert card_rec.kid == cards[0].kid
    assert card_rec.content_hash == hashlib.sha256(cards[0].cose).digest()
    assert card_rec.recorded_at == NOW
    assert card_rec.operator == "op-7"
    assert list_rec.kind is RecordKind.TRUST_LIST
    assert (list_rec.credential_id, list_rec.holder) == ("7", None)
    assert list_rec.kid == kid_for_certificate(list_signer.certificate)
    assert list_rec.content_hash == hashlib.sha256(lists[0]).digest()
    kinds = [r.kind.value for r in built.records]
    assert kinds == ["card", "trust-list"] + ["card", "revocation-list"] * 3
    assert [r.credential_id for r in built.records[1::2]] == ["7", "1", "2", "3"]
    assert [r.seq for r in built.records] == list(range(1, 9))
    assert built.records[0].prev_hash == GENESIS_HASH
    for before, after in zip(built.records, built.records[1:], strict=False):
        assert after.prev_hash == before.record_hash
    with Journal.open(built.path) as journal:
        assert journal.records() == built.records
        assert journal.head() == (8, built.records[-1].record_hash)
        assert journal.heads() == built.heads


def test_record_hash_is_the_documented_cbor(built: Built) -> None:
    """An independent CBOR encoder (cbor2) reproduces every record hash from the stored row."""
    conn = sqlite3.connect(built.path)
    rows = conn.execute("SELECT * FROM journal_records ORDER BY seq").fetchall()
    conn.close()
    for seq, kind, cid, holder, kid, at, op, content, prev, record in rows:
        item = [
            "ecard-journal/1",
            seq,
            kind,
            cid,
            None if holder is None else bytes.fromhex(holder),
            bytes.fromhex(kid),
            at,
            op,
            bytes.fromhex(content),
            bytes.fromhex(prev),
        ]
        assert hashlib.sha256(cbor2.dumps(item, canonical=True)).hexdigest() == record
    assert FORMAT == "ecard-journal/1"


def test_head_is_a_signed_statement_of_seq_and_hash(
    built: Built, head_signer: CertifiedKey, root: CertifiedKey
) -> None:
    head = built.heads[0]
    assert (head.seq, head.record_hash) == (8, built.records[-1].record_hash)
    assert head.kid == kid_for_certificate(head_signer.certificate)
    assert head.signed_at == NOW
    msg = parse_sign1(head.cose)
    assert cbor2.loads(msg.payload) == {
        1: HEAD_TYPE,
        2: 1,
        3: 8,
        4: head.record_hash,
        5: int(NOW.timestamp()),
    }
    assert msg.payload == encode_head_payload(8, head.record_hash, int(NOW.timestamp()))
    assert head.verify(head_signer.certificate)
    assert not head.verify(root.certificate)
    assert SignedHead.from_cose(head.cose) == head


def test_sign_head_is_idempotent_and_checks_its_key(
    built: Built, head_signer: CertifiedKey, list_signer: CertifiedKey
) -> None:
    with Journal.open(built.path, clock=clock) as journal:
        again = journal.sign_head(head_signer.signer(), head_signer.certificate)
        assert again == built.heads[0]
        with pytest.raises(BadKeyError):
            journal.sign_head(list_signer.signer(), head_signer.certificate)
    late = lambda: T0 + dt.timedelta(days=3650)  # noqa: E731
    with Journal.open(built.path, clock=late) as journal, pytest.raises(BadCertificateError):
        journal.sign_head(head_signer.signer(), head_signer.certificate)


def test_empty_journal(tmp_path: Path, head_signer: CertifiedKey) -> None:
    path = tmp_path / "empty.db"
    with Journal.open(path, clock=clock) as journal:
        assert journal.records() == [] and journal.head() == (0, b"")
        with pytest.raises(BadInputError, match="empty"):
            journal.sign_head(head_signer.signer(), head_signer.certificate)
    report = verify_journal(path, head_certificates=[head_signer.certificate])
    assert report.ok and report.findings == () and report.records == 0


def test_records_after_the_last_head_are_a_warning(
    built: Built, head_signer: CertifiedKey, lists: list[bytes]
) -> None:
    with Journal.open(built.path, clock=clock) as journal:
        journal.append_list(lists[0], operator="op-9")
        journal.append_list(lists[1], operator="op-9")
    report = check(built, head_signer)
    assert report.ok
    assert codes(report) == [("UNSIGNED_TAIL", 9, 10)]
    assert report.warnings[0].severity == "warning"
    assert "after the last valid signed head" in report.findings[0].message


def test_a_journal_without_heads_is_all_unsigned(
    tmp_path: Path, cards: list[IssuedCard], lists: list[bytes], head_signer: CertifiedKey
) -> None:
    b = build(tmp_path / "j.db", cards, lists, None, n=3)
    report = check(b, head_signer)
    assert report.ok and codes(report) == [("UNSIGNED_TAIL", 1, 3)]
    assert "no valid signed head covers" in report.findings[0].message


# -- tampering: each kind is detected and named -----------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("kind", "revocation-list"),
        ("credential_id", "00" * 8),
        ("holder", "ab" * 32),
        ("kid", "cd" * 8),
        ("recorded_at", "2026-03-01T09:00:01Z"),
        ("operator", "op-8"),
        ("content_hash", "ef" * 32),
        ("prev_hash", "01" * 32),
        ("record_hash", "02" * 32),
    ],
)
def test_altered_field(built: Built, head_signer: CertifiedKey, column: str, value: str) -> None:
    seq = 3 if column != "kind" else 2  # a card's field / the trust list becomes another list
    tamper(built.path, (f"UPDATE journal_records SET {column} = ? WHERE seq = ?", (value, seq)))
    report = check(built, head_signer)
    assert not report.ok
    assert report.first_bad_seq == seq
    assert report.findings[0].code in (FindingCode.ALTERED, FindingCode.MALFORMED)
    if column != "kind":
        assert codes(report) == [("ALTERED", seq, None)]


def test_altered_and_rehashed_record_breaks_the_link(
    built: Built, head_signer: CertifiedKey
) -> None:
    forged = rehashed(built.records[2], operator="somebody-else")
    tamper(built.path, put(forged))
    report = check(built, head_signer)
    assert codes(report) == [("BROKEN_LINK", 3, 4)]
    assert report.first_bad_seq == 3


def test_rewritten_chain_is_caught_by_the_signed_head(
    built: Built, head_signer: CertifiedKey
) -> None:
    """Re-hashing every record after the change keeps the chain consistent: only the signed
    head shows it."""
    prev = built.records[1].record_hash
    statements = []
    for record in built.records[2:]:
        changes = {"operator": "somebody-else"} if record.seq == 3 else {}
        new = rehashed(record, prev_hash=prev, **changes)
        statements.append(put(new))
        prev = new.record_hash
    tamper(built.path, *statements)
    report = check(built, head_signer)
    assert codes(report) == [("HEAD_MISMATCH", 8, None), ("UNSIGNED_TAIL", 1, 8)]
    assert report.signed_seq == 0 and not report.ok


def test_removed_middle_record(built: Built, head_signer: CertifiedKey) -> None:
    tamper(built.path, "DELETE FROM journal_records WHERE seq = 4")
    report = check(built, head_signer)
    assert codes(report) == [("REMOVED", 4, None)]
    assert report.findings[0].message == "record 4 is missing"


def test_removed_first_records(built: Built, head_signer: CertifiedKey) -> None:
    tamper(built.path, "DELETE FROM journal_records WHERE seq <= 2")
    assert codes(check(built, head_signer)) == [("REMOVED", 1, 2)]


def test_removed_and_renumbered(built: Built, head_signer: CertifiedKey) -> None:
    tamper(
        built.path,
        "DELETE FROM journal_records WHERE seq = 4",
        f"UPDATE journal_records SET seq = seq + {SHIFT} WHERE seq > 4",
        f"UPDATE journal_records SET seq = seq - {SHIFT} - 1 WHERE seq > {SHIFT}",
    )
    report = check(built, head_signer)
    assert codes(report) == [("REMOVED", 4, None), ("REORDERED", 4, 7)]
    assert "renumbered" in report.findings[0].message
    assert "were written as seq 5..8" in report.findings[1].message
    assert report.signed_seq == 8  # the head still matches record 8, now stored as 7


def test_truncated_before_a_signed_head(built: Built, head_signer: CertifiedKey) -> None:
    tamper(built.path, "DELETE FROM journal_records WHERE seq >= 6")
    report = check(built, head_signer)
    assert codes(report) == [("TRUNCATED", 6, 8), ("UNSIGNED_TAIL", 1, 5)]
    assert report.first_bad_seq == 6


def test_truncated_after_the_last_head_needs_a_head_kept_elsewhere(
    built: Built, head_signer: CertifiedKey, lists: list[bytes]
) -> None:
    """Records after the last head *in the database* can vanish with that head: only a head
    kept outside the database shows the loss."""
    with Journal.open(built.path, clock=clock) as journal:
        journal.append_list(lists[0], operator="op-9")
        journal.append_list(lists[1], operator="op-9")
        exported = journal.sign_head(head_signer.signer(), head_signer.certificate)
    tamper(
        built.path,
        "DELETE FROM journal_records WHERE seq > 8",
        "DELETE FROM journal_heads WHERE seq = 10",
    )
    assert check(built, head_signer).ok  # undetectable from the database alone
    report = check(built, head_signer, heads=[exported.cose])
    assert codes(report) == [("TRUNCATED", 9, 10)]
    assert "external head #1 for seq 10" in report.findings[0].message


def test_swapped_records(built: Built, head_signer: CertifiedKey) -> None:
    tamper(
        built.path,
        f"UPDATE journal_records SET seq = {SHIFT} WHERE seq = 3",
        "UPDATE journal_records SET seq = 3 WHERE seq = 6",
        f"UPDATE journal_records SET seq = 6 WHERE seq = {SHIFT}",
    )
    report = check(built, head_signer)
    assert codes(report) == [("REORDERED", 3, None), ("REORDERED", 6, None)]
    assert (
        report.findings[0].message == "record 3 was written as seq 6: moved (swapped or renumbered)"
    )


def test_swapped_neighbours(built: Built, head_signer: CertifiedKey) -> None:
    tamper(
        built.path,
        f"UPDATE journal_records SET seq = {SHIFT} WHERE seq = 1",
        "UPDATE journal_records SET seq = 1 WHERE seq = 2",
        f"UPDATE journal_records SET seq = 2 WHERE seq = {SHIFT}",
    )
    assert codes(check(built, head_signer)) == [("REORDERED", 1, None), ("REORDERED", 2, None)]


def test_swapped_contents(built: Built, head_signer: CertifiedKey) -> None:
    """Swapping every column but seq is the same reordering."""
    a, b = built.records[2], built.records[5]
    row_a = dataclasses.replace(a, seq=6).to_row()
    row_b = dataclasses.replace(b, seq=3).to_row()
    sql = "UPDATE journal_records SET record_hash = ? WHERE seq = ?"
    tamper(
        built.path,
        (sql, ("00" * 32, 3)),
        (sql, ("11" * 32, 6)),
        ("INSERT OR REPLACE INTO journal_records VALUES (?,?,?,?,?,?,?,?,?,?)", row_a),
        ("INSERT OR REPLACE INTO journal_records VALUES (?,?,?,?,?,?,?,?,?,?)", row_b),
    )
    assert codes(check(built, head_signer)) == [("REORDERED", 3, None), ("REORDERED", 6, None)]


def test_inserted_forged_record(built: Built, head_signer: CertifiedKey) -> None:
    """A forged card record slipped in at seq 4, chained properly, later records renumbered."""
    forged = build_record(
        seq=4,
        kind=RecordKind.CARD,
        credential_id="ff" * 8,
        holder=holder_pseudonym(KEY, ID_2),
        kid=built.records[0].kid,
        recorded_at=NOW,
        operator="op-7",
        content_hash=hashlib.sha256(b"a credential nobody signed").digest(),
        prev_hash=built.records[2].record_hash,
    )
    tamper(
        built.path,
        f"UPDATE journal_records SET seq = seq + {SHIFT} WHERE seq >= 4",
        f"UPDATE journal_records SET seq = seq - {SHIFT} + 1 WHERE seq > {SHIFT}",
        put(forged),
    )
    report = check(built, head_signer)
    assert codes(report) == [("INSERTED", 4, None), ("REORDERED", 5, 9)]
    assert report.first_bad_seq == 4
    assert report.signed_seq == 8  # the genuine record 8 (now at 9) still matches the head


def test_duplicate_seq(built: Built, head_signer: CertifiedKey) -> None:
    """With the primary key gone (table rebuilt), a second record at an existing seq."""
    forged = rehashed(built.records[4], operator="intruder")
    tamper(
        built.path,
        "CREATE TABLE loose AS SELECT * FROM journal_records",
        "DROP TABLE journal_records",
        "ALTER TABLE loose RENAME TO journal_records",
        ("INSERT INTO journal_records VALUES (?,?,?,?,?,?,?,?,?,?)", forged.to_row()),
    )
    report = check(built, head_signer)
    assert not report.ok
    assert report.first_bad_seq == 5
    assert FindingCode.INSERTED in report.codes()


def test_appended_forgery_after_the_last_head_is_only_unsigned(
    built: Built, head_signer: CertifiedKey
) -> None:
    """The limit of a keyless chain: a well-formed record appended after the last head is not
    distinguishable from a genuine one; the report says those records are not yet covered."""
    forged = rehashed(
        built.records[0], seq=9, prev_hash=built.records[-1].record_hash, credential_id="ee" * 8
    )
    tamper(built.path, put(forged))
    report = check(built, head_signer)
    assert report.ok and codes(report) == [("UNSIGNED_TAIL", 9, None)]


def test_malformed_values(built: Built, head_signer: CertifiedKey) -> None:
    tamper(
        built.path,
        "UPDATE journal_records SET kid = upper(kid) WHERE seq = 2",
        "UPDATE journal_records SET recorded_at = '2026-03-01 09:00:00' WHERE seq = 5",
        "UPDATE journal_records SET holder = NULL WHERE seq = 7",
    )
    report = check(built, head_signer)
    assert [(c, s) for c, s, _ in codes(report)] == [
        ("MALFORMED", 2),
        ("MALFORMED", 5),
        ("MALFORMED", 7),
    ]
    assert "kid must be 8 bytes in lower-case hex" in report.findings[0].message


def test_altered_head_columns(built: Built, head_signer: CertifiedKey) -> None:
    tamper(built.path, "UPDATE journal_heads SET record_hash = '00' || substr(record_hash, 3)")
    report = check(built, head_signer)
    assert codes(report) == [("HEAD_ALTERED", 8, None)]
    assert "record_hash" in report.findings[0].message


def test_head_moved_to_another_seq(built: Built, head_signer: CertifiedKey) -> None:
    tamper(built.path, "UPDATE journal_heads SET seq = 5")
    assert [c for c, _, _ in codes(check(built, head_signer))] == ["HEAD_ALTERED"]


def test_forged_head_signature(
    built: Built, head_signer: CertifiedKey, list_signer: CertifiedKey
) -> None:
    """Rewrite the chain and sign a new head with another key under the genuine kid."""
    prev = built.records[1].record_hash
    statements = []
    for record in built.records[2:]:
        new = rehashed(record, prev_hash=prev, **({"operator": "x"} if record.seq == 3 else {}))
        statements.append(put(new))
        prev = new.record_hash
    kid = built.heads[0].kid
    payload = encode_head_payload(8, prev, int(NOW.timestamp()))
    forged = build_sign1(payload, list_signer.signer(), kid)
    tamper(
        built.path,
        *statements,
        ("UPDATE journal_heads SET record_hash = ?, cose = ?", (prev.hex(), forged)),
    )
    report = check(built, head_signer)
    assert [c for c, _, _ in codes(report)] == ["BAD_HEAD_SIGNATURE", "UNSIGNED_TAIL"]
    assert not report.ok and report.signed_seq == 0


def test_damaged_head_signature(built: Built, head_signer: CertifiedKey) -> None:
    cose = bytearray(built.heads[0].cose)
    cose[-1] ^= 1
    tamper(built.path, ("UPDATE journal_heads SET cose = ?", (bytes(cose),)))
    assert [c for c, _, _ in codes(check(built, head_signer))] == [
        "BAD_HEAD_SIGNATURE",
        "UNSIGNED_TAIL",
    ]


def test_garbage_head(built: Built, head_signer: CertifiedKey) -> None:
    tamper(built.path, "UPDATE journal_heads SET cose = x'00'")
    assert [c for c, _, _ in codes(check(built, head_signer))] == ["MALFORMED", "UNSIGNED_TAIL"]


def test_head_without_its_certificate(built: Built) -> None:
    report = verify_journal(built.path)
    assert [c for c, _, _ in codes(report)] == ["UNKNOWN_HEAD_KEY", "UNSIGNED_TAIL"]
    assert not report.ok


def test_head_of_another_journal(
    tmp_path: Path,
    built: Built,
    head_signer: CertifiedKey,
    cards: list[IssuedCard],
    lists: list[bytes],
) -> None:
    other = build(tmp_path / "other.db", cards[1:], lists[1:], head_signer)
    report = check(built, head_signer, heads=[other.heads[0].cose])
    assert [c for c, _, _ in codes(report)] == ["HEAD_MISMATCH"]


# -- the journal protects itself --------------------------------------------------------------


def test_append_only_triggers(built: Built) -> None:
    conn = sqlite3.connect(built.path)
    for sql in (
        "UPDATE journal_records SET operator = 'x'",
        "DELETE FROM journal_records",
        "UPDATE journal_heads SET seq = 1",
        "DELETE FROM journal_heads",
        "DELETE FROM journal_meta",
    ):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute(sql)
    conn.close()


def test_no_append_onto_a_tampered_last_record(built: Built, lists: list[bytes]) -> None:
    tamper(built.path, "UPDATE journal_records SET operator = 'x' WHERE seq = 8")
    with Journal.open(built.path) as journal, pytest.raises(JournalIntegrityError, match="8"):
        journal.append_list(lists[0], operator="op-9")
    assert JournalIntegrityError("x").code is ErrorCode.BAD_INPUT


def test_no_head_over_a_broken_chain(
    built: Built, head_signer: CertifiedKey, lists: list[bytes]
) -> None:
    with Journal.open(built.path, clock=clock) as journal:
        journal.append_list(lists[0], operator="op-9")
        journal.append_list(lists[1], operator="op-9")
    tamper(built.path, "UPDATE journal_records SET operator = 'x' WHERE seq = 9")
    with (
        Journal.open(built.path, clock=clock) as journal,
        pytest.raises(JournalIntegrityError, match="record 9"),
    ):
        journal.sign_head(head_signer.signer(), head_signer.certificate)
    tamper(
        built.path,
        "UPDATE journal_records SET record_hash = '00' || substr(record_hash, 3) WHERE seq = 8",
    )
    with (
        Journal.open(built.path, clock=clock) as journal,
        pytest.raises(JournalIntegrityError, match="record 8 no longer matches"),
    ):
        journal.sign_head(head_signer.signer(), head_signer.certificate)


# -- privacy ----------------------------------------------------------------------------------


def test_the_database_holds_no_identity(built: Built, cards: list[IssuedCard]) -> None:
    raw = b"".join(p.read_bytes() for p in built.path.parent.iterdir() if p.is_file())
    for secret in (ID_1, ID_2, ID_1[:17], ID_2[:17], NAME_1, NAME_2, "A12345678"):
        assert secret.encode() not in raw, secret
    assert str(int(ID_1[:17])).encode() not in raw
    with Journal.open(built.path, pseudonym_key=KEY) as journal:
        mine = journal.records_for(ID_1)
        assert [r.seq for r in mine] == [1, 5]
        assert [r.credential_id for r in journal.records_for(ID_2)] == [
            cards[1].cti.hex(),
            cards[3].cti.hex(),
        ]
        for record in journal.records():
            assert record.holder is None or ID_1 not in record.holder
        assert journal.records(credential_id=cards[0].cti.hex()) == [mine[0]]


def test_pseudonyms() -> None:
    p = holder_pseudonym(KEY, ID_1)
    assert len(p) == 64 and p != ID_1 and ID_1[:17] not in p
    assert p == holder_pseudonym(KEY, ID_1.lower())  # normalized ('x' -> 'X')
    assert p != holder_pseudonym(bytes(32), ID_1)
    assert p != hashlib.sha256(ID_1.encode()).hexdigest()  # not a guessable plain hash
    with pytest.raises(BadInputError) as info:
        holder_pseudonym(KEY, "110105194912310021")
    assert "110105194912310021" not in str(info.value)
    with pytest.raises(BadKeyError):
        holder_pseudonym(b"short", ID_1)
    assert pseudonym_key_from_hex(f" {KEY.hex()}\n") == KEY
    for bad in ("zz" * 32, "00" * 15):
        with pytest.raises(BadKeyError) as err:
            pseudonym_key_from_hex(bad)
        assert bad not in str(err.value)


def test_cards_need_the_pseudonym_key(tmp_path: Path, cards: list[IssuedCard]) -> None:
    with Journal.open(tmp_path / "j.db") as journal:
        with pytest.raises(BadKeyError, match="pseudonym key"):
            journal.append_card(cards[0], operator="op")
        assert "pseudonym_key=none" in repr(journal)
    with pytest.raises(BadKeyError):
        Journal.open(tmp_path / "j.db", pseudonym_key=b"too short")
    with Journal.open(tmp_path / "j.db", pseudonym_key=KEY) as journal:
        assert KEY.hex() not in repr(journal) and "pseudonym_key=set" in repr(journal)


# -- concurrency ------------------------------------------------------------------------------


def test_concurrent_appends_from_threads(
    tmp_path: Path, lists: list[bytes], cards: list[IssuedCard], head_signer: CertifiedKey
) -> None:
    path = tmp_path / "busy.db"
    Journal.open(path).close()
    shared = Journal.open(path, pseudonym_key=KEY)
    errors: list[BaseException] = []

    def own(n: int) -> None:  # one connection per thread, as separate processes have
        try:
            with Journal.open(path, pseudonym_key=KEY) as journal:
                for i in range(15):
                    journal.append_list(lists[(n + i) % len(lists)], operator=f"t{n}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def sharing(n: int) -> None:
        try:
            for i in range(15):
                shared.append_card(cards[(n + i) % len(cards)], operator=f"s{n}")
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=own, args=(n,)) for n in range(4)]
    threads += [threading.Thread(target=sharing, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    shared.close()
    assert errors == []
    with Journal.open(path, clock=clock) as journal:
        assert [r.seq for r in journal.records()] == list(range(1, 121))
        journal.sign_head(head_signer.signer(), head_signer.certificate)
    report = verify_journal(path, head_certificates=[head_signer.certificate])
    assert report.ok and report.findings == () and report.signed_seq == 120


_CHILD = """
import sys
from pathlib import Path
from ecard.journal import Journal
data = Path(sys.argv[2]).read_bytes()
with Journal.open(sys.argv[1]) as journal:
    for _ in range(20):
        journal.append_list(data, operator="proc-" + sys.argv[3])
"""


def test_concurrent_appends_from_processes(
    tmp_path: Path, lists: list[bytes], head_signer: CertifiedKey
) -> None:
    path = tmp_path / "procs.db"
    Journal.open(path).close()
    listfile = tmp_path / "list.bin"
    listfile.write_bytes(lists[0])
    procs = [
        subprocess.Popen([sys.executable, "-c", _CHILD, str(path), str(listfile), str(n)])
        for n in range(3)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    report = verify_journal(path)
    assert report.ok and report.records == 60 and report.last_seq == 60


# -- inputs -----------------------------------------------------------------------------------


def test_unusable_inputs(tmp_path: Path, built: Built, cards: list[IssuedCard]) -> None:
    missing = tmp_path / "missing.db"
    with pytest.raises(BadInputError, match="no journal file"):
        verify_journal(missing)
    assert not missing.exists()  # an audit never creates a file
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(BadInputError):
        verify_journal(junk)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(BadInputError, match="not a readable ecard journal"):
        verify_journal(other)
    tamper(built.path, "UPDATE journal_meta SET value = 'ecard-journal/2'")
    with pytest.raises(BadInputError, match="another format"):
        Journal.open(built.path)
    with pytest.raises(BadInputError, match="not an ecard-journal/1 journal"):
        verify_journal(built.path)
    tamper(built.path, "UPDATE journal_meta SET value = 'ecard-journal/1'")
    with pytest.raises(BadInputError, match="PostgreSQL"):
        Journal.open("postgresql://ecard@db/journal")
    with pytest.raises(BadInputError, match="sqlite:///"):
        Journal.open("sqlite://host/x.db")
    with Journal.open(f"sqlite:///{built.path}", pseudonym_key=KEY) as journal:
        assert journal.head()[0] == 8
        with pytest.raises(BadInputError, match="operator"):
            journal.append_card(cards[0], operator=" padded ")
        with pytest.raises(BadInputError, match="operator"):
            journal.append_card(cards[0], operator="")
        with pytest.raises(BadInputError, match="not a signed"):
            journal.append_list(cards[0].cose, operator="op")
        with pytest.raises(BadInputError):
            journal.append_list(b"\xd2garbage", operator="op")
    assert verify_journal(f"sqlite:///{built.path}").records == 8


def test_verify_connection_takes_any_dbapi_connection(
    built: Built, head_signer: CertifiedKey
) -> None:
    conn = sqlite3.connect(built.path)
    try:
        report = verify_connection(conn, head_certificates=[head_signer.certificate])
    finally:
        conn.close()
    assert report.ok and report.signed_seq == 8
    with Journal.open(built.path) as journal:
        assert journal.verify(head_certificates=[head_signer.certificate]) == report


def test_build_record_checks_its_fields() -> None:
    good: dict[str, Any] = {
        "seq": 1,
        "kind": "trust-list",
        "credential_id": "3",
        "holder": None,
        "kid": b"\x01" * 8,
        "recorded_at": NOW,
        "operator": "op",
        "content_hash": b"\x02" * 32,
        "prev_hash": GENESIS_HASH,
    }
    assert build_record(**good).record_hash == build_record(**good).computed_hash()
    for bad in (
        {"seq": 0},
        {"kind": "passport"},
        {"credential_id": "03"},
        {"holder": "ab" * 32},
        {"kid": b"\x01" * 7},
        {"content_hash": b"\x02" * 31},
        {"operator": "a\nb"},
    ):
        with pytest.raises(BadInputError):
            build_record(**{**good, **bad})
    # a naive time is the caller's mistake, refused where it was made
    with pytest.raises(TypeError, match="timezone-aware"):
        build_record(**{**good, "recorded_at": dt.datetime(2026, 3, 1)})


def test_report_rendering(built: Built, head_signer: CertifiedKey) -> None:
    tamper(built.path, "DELETE FROM journal_records WHERE seq IN (2, 3)")
    report = check(built, head_signer)
    text = report.render()
    assert text.splitlines()[0].startswith("journal FAILED: 6 record(s), last seq 8")
    assert "REMOVED" in text and "records 2..3 are missing" in text
    data = report.to_dict()
    assert data["ok"] is False and data["first_bad_seq"] == 2
    assert data["findings"][0] == {
        "code": "REMOVED",
        "severity": "error",
        "seq": 2,
        "last_seq": 3,
        "message": "records 2..3 are missing",
    }


# -- any single change is detected ------------------------------------------------------------


@st.composite
def changed(draw: st.DrawFn, old: object) -> object:
    """A value for a column: arbitrary, or a small change of the old one."""
    arbitrary = st.one_of(
        st.none(),
        st.integers(-(2**63), 2**63 - 1),
        st.floats(allow_nan=False),
        st.text(max_size=70),
        st.binary(max_size=70),
    )
    if isinstance(old, bool) or draw(st.booleans()):
        return draw(arbitrary)
    if isinstance(old, int):
        return old + draw(st.sampled_from([-3, -2, -1, 1, 2, 3]))
    if isinstance(old, str) and old:
        i = draw(st.integers(0, len(old) - 1))
        ch = draw(st.sampled_from("0123456789abcdefABCDEF-:TZ xé"))
        return old[:i] + ch + old[i + 1 :]
    if isinstance(old, bytes) and old:
        i = draw(st.integers(0, len(old) - 1))
        bit = draw(st.integers(0, 7))
        return old[:i] + bytes([old[i] ^ (1 << bit)]) + old[i + 1 :]
    return draw(arbitrary)


def _dump(conn: sqlite3.Connection) -> list[Any]:
    out = []
    for table in ("journal_records", "journal_heads"):
        for row in conn.execute(f"SELECT * FROM {table} ORDER BY rowid"):
            out.append([(type(v).__name__, v) for v in row])
    return out


@pytest.fixture(scope="module")
def pool(cards: list[IssuedCard], lists: list[bytes]) -> list[IssuedCard | bytes]:
    return [*cards, *lists]


@given(data=st.data())
def test_any_single_change_is_detected(
    data: st.DataObject, pool: list[IssuedCard | bytes], head_signer: CertifiedKey
) -> None:
    picks = data.draw(st.lists(st.sampled_from(range(len(pool))), min_size=1, max_size=12))
    head_at = data.draw(st.integers(1, len(picks)))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "j.db"
        with Journal.open(path, pseudonym_key=KEY, clock=clock) as journal:
            for n, pick in enumerate(picks, 1):
                item = pool[pick]
                if isinstance(item, IssuedCard):
                    journal.append_card(item, operator=f"op-{n}")
                else:
                    journal.append_list(item, operator=f"op-{n}")
                if n == head_at:
                    journal.sign_head(head_signer.signer(), head_signer.certificate)
        assert verify_journal(path, head_certificates=[head_signer.certificate]).ok

        table = data.draw(st.sampled_from(["journal_records", "journal_heads"]))
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            for trigger in TRIGGERS:
                conn.execute(f"DROP TRIGGER {trigger}")
            rows = conn.execute(f"SELECT rowid, * FROM {table}").fetchall()
            row = data.draw(st.sampled_from(rows))
            columns = [d[0] for d in conn.execute(f"SELECT * FROM {table}").description]
            index = data.draw(st.integers(0, len(columns) - 1))
            value = data.draw(changed(row[index + 1]))
            before = _dump(conn)
            try:
                conn.execute(
                    f"UPDATE {table} SET {columns[index]} = ? WHERE rowid = ?", (value, row[0])
                )
            except sqlite3.DatabaseError:
                assume(False)  # a constraint (primary key, CHECK) refused the change
            assume(_dump(conn) != before)  # type affinity can turn a value back into the old
        finally:
            conn.close()
        report = verify_journal(path, head_certificates=[head_signer.certificate])
        assert not report.ok, (table, columns[index], value, report.render())


# -- the format is stable -----------------------------------------------------------------------

#: A journal written by the code before ecard.journal became a package: 6 records (cards, a
#: trust list, a full and a delta revocation list), heads signed at seq 3 and 6, the last one
#: also kept outside the database, and the head-signing certificate.
V1 = Path(__file__).parent / "data" / "journal-v1"
V1_LAST_HASH = "42ed5ea44fce64f86f418780caf8f94584177a449b944226c1094b25b9aa1ec7"


def test_a_journal_written_by_the_old_code_still_verifies(
    tmp_path: Path, lists: list[bytes]
) -> None:
    cert = load_certificates((V1 / "head-signer.pem").read_bytes())
    kept = [p.read_bytes() for p in sorted(V1.glob("head-*.cose"))]
    report = verify_journal(V1 / "journal.db", head_certificates=cert, heads=kept)
    assert report.ok and report.findings == (), report.render()
    assert (report.records, report.last_seq, report.heads, report.valid_heads) == (6, 6, 3, 3)
    # the same records, rebuilt by today's code, are byte for byte the stored rows
    conn = sqlite3.connect(V1 / "journal.db")
    try:
        rows = conn.execute("SELECT * FROM journal_records ORDER BY seq").fetchall()
        old_schema = conn.execute(
            "SELECT type, name, sql FROM sqlite_master ORDER BY name"
        ).fetchall()
    finally:
        conn.close()
    assert rows[-1][-1] == V1_LAST_HASH
    for row in rows:
        stored = JournalRecord.from_row(row)
        fields = {f.name: getattr(stored, f.name) for f in dataclasses.fields(stored)}
        del fields["record_hash"]
        assert build_record(**fields).to_row() == row
    # ...today's schema is the one the old code created, and appending continues the chain
    Journal.open(tmp_path / "new.db").close()
    conn = sqlite3.connect(tmp_path / "new.db")
    try:
        assert (
            conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
            == old_schema
        )
    finally:
        conn.close()
    copy = tmp_path / "v1.db"
    copy.write_bytes((V1 / "journal.db").read_bytes())
    with Journal.open(copy, clock=clock) as journal:
        assert journal.heads()[-1].cose == kept[-1]
        assert journal.append_list(lists[0], operator="op").prev_hash.hex() == V1_LAST_HASH
    report = verify_journal(copy, head_certificates=cert, heads=kept)
    assert report.ok and codes(report) == [("UNSIGNED_TAIL", 7, None)], report.render()
