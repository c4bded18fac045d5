"""The verifier's fast path (``ecard.journal.fast``) against the slow one (``records``): the CBOR
it writes by hand is byte-equal to the generic encoder's for every record, and it never accepts
a row the strict parser refuses."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st
from tests.test_journal import changed

from ecard.errors import EcardError
from ecard.journal.fast import card_hash_input, check_row, fast_hash_input
from ecard.journal.records import (
    JournalRecord,
    Malformed,
    RecordKind,
    build_record,
    format_time,
    parse_record_row,
    parse_time,
)

_operators = st.text(min_size=1, max_size=12).filter(
    lambda s: s == s.strip() and s.isprintable() and all(ord(c) < 0xE000 for c in s)
)


@st.composite
def records(draw: st.DrawFn) -> JournalRecord:
    """Any valid record: every kind, the full ranges of seq and list numbers, any cti length,
    any time from 1970 to 9999, any printable operator."""
    kind = draw(st.sampled_from(list(RecordKind)))
    card = kind is RecordKind.CARD
    return build_record(
        seq=draw(st.integers(1, 2**63 - 1)),
        kind=kind,
        credential_id=(
            draw(st.binary(min_size=8, max_size=64)).hex()
            if card
            else str(draw(st.integers(0, 2**63 - 1)))
        ),
        holder=draw(st.binary(min_size=32, max_size=32)).hex() if card else None,
        kid=draw(st.binary(min_size=8, max_size=8)),
        recorded_at=draw(
            st.datetimes(
                dt.datetime(1970, 1, 1), dt.datetime(9999, 12, 31), timezones=st.just(dt.UTC)
            )
        ),
        operator=draw(_operators),
        content_hash=draw(st.binary(min_size=32, max_size=32)),
        prev_hash=draw(st.binary(min_size=32, max_size=32)),
    )


@given(record=records())
def test_fast_encoding_is_byte_equal_to_the_slow_one(record: JournalRecord) -> None:
    """For every record the hand-written CBOR is exactly the generic encoder's bytes."""
    fast = fast_hash_input(record.to_row())
    assert fast == (record.prev_hash, record.record_hash, record.hash_input())


@given(record=records(), data=st.data())
def test_fast_and_strict_row_checks_agree(record: JournalRecord, data: st.DataObject) -> None:
    """The verifier's fast path never accepts what the strict parser refuses, and computes the
    same hash as the generic CBOR encoder."""
    row: list[object] = list(record.to_row())
    assert check_row(row) == (record.prev_hash, record.record_hash, True)
    index = data.draw(st.integers(0, len(row) - 1))
    row[index] = data.draw(changed(row[index]))
    fast = check_row(row)
    encoded = fast_hash_input(row)
    try:
        strict = parse_record_row(row)
    except Malformed:
        assert isinstance(fast, str)
        assert encoded is None
    else:
        assert fast == (
            strict.prev_hash,
            strict.record_hash,
            strict.computed_hash() == strict.record_hash,
        )
        if encoded is not None:
            assert encoded[2] == strict.hash_input()


def _card_values(record: JournalRecord) -> list[object]:
    """The arguments of ``card_hash_input`` for a card record."""
    return [
        record.seq,
        record.credential_id,
        record.holder,
        record.kid,
        format_time(record.recorded_at),
        record.operator,
        record.content_hash,
        record.prev_hash,
    ]


@given(record=records().filter(lambda r: r.kind is RecordKind.CARD), data=st.data())
def test_bulk_card_hash_input_is_the_records_and_refuses_what_the_builder_refuses(
    record: JournalRecord, data: st.DataObject
) -> None:
    """The bulk append's hash input is byte-equal to the record's, and for a changed value it
    is either still the record's that the strict builder makes, or ``None``."""
    values = _card_values(record)
    assert card_hash_input(*values) == record.hash_input()  # type: ignore[arg-type]
    index = data.draw(st.integers(0, len(values) - 1))
    values[index] = data.draw(
        st.one_of(
            changed(values[index]),
            st.binary(max_size=40),
            st.sampled_from(["", "AB" * 8, "ab" * 7, "ab" * 65, "2026-03-01T08:00:00+00:00"]),
        )
    )
    encoded = card_hash_input(*values)  # type: ignore[arg-type]
    seq, cid, holder, kid, at, operator, content, prev = values
    try:
        strict = build_record(
            seq=seq, kind=RecordKind.CARD, credential_id=cid, holder=holder, kid=kid,
            recorded_at=parse_time(at, "recorded_at"), operator=operator,
            content_hash=content, prev_hash=prev,
        )  # type: ignore[arg-type]  # fmt: skip
    except (Malformed, EcardError, ValueError, TypeError):
        assert encoded is None
    else:
        if encoded is not None:
            assert encoded == strict.hash_input()
