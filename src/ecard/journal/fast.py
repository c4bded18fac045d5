"""The verifier's fast path over one stored record row: one regular expression checks the
canonical form, and the record's hash input is written as CBOR by hand.

Contract: :func:`fast_hash_input` returns exactly the bytes of
:meth:`ecard.journal.records.JournalRecord.hash_input` for every row the strict parser
(:func:`ecard.journal.records.parse_record_row`) accepts and it recognises, and ``None`` for any
row it does not recognise; :func:`check_row` then falls back to the strict parser, so the fast
path never accepts what the strict parser refuses. ``tests/test_journal_fast.py`` holds both
properties. CBOR heads come from :func:`ecard.formats.cbor.encode_head`, ecard's one head
encoder.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Final

from ecard.formats.cbor import encode_head
from ecard.formats.cwt import MAX_CTI, MIN_CTI
from ecard.journal.records import (
    FORMAT,
    INT64,
    RECORD_COLUMNS,
    Malformed,
    check_operator,
    parse_record_row,
)

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


def _text(value: str) -> bytes:
    raw = value.encode()
    return encode_head(3, len(raw)) + raw


_HASH_PREFIX: Final = encode_head(4, 10) + _text(FORMAT)
_NULL: Final = b"\xf6"
_BSTR8: Final = encode_head(2, 8)
_BSTR32: Final = encode_head(2, 32)


def _cached(cache: dict[str, bool], value: str, check: Callable[[str], object]) -> bool:
    known = cache.get(value)
    if known is None:
        try:
            check(value)
            known = True
        except (Malformed, ValueError):
            known = False
        if len(cache) > 100_000:
            cache.clear()
        cache[value] = known
    return known


def fast_hash_input(raw: Sequence[object]) -> tuple[bytes, bytes, bytes] | None:
    """``(prev_hash, record_hash, hash input)`` of a stored row in canonical form, the hash
    input written by hand; ``None`` if the row is not one the fast path recognises."""
    if len(raw) != len(RECORD_COLUMNS):
        return None
    seq, kind, cid, holder, kid, at, op, content, prev, record = raw
    card = kind == "card"
    if not (
        type(seq) is int
        and 1 <= seq < INT64
        and type(kind) is str
        and type(cid) is str
        and type(kid) is str
        and type(at) is str
        and type(content) is str
        and type(prev) is str
        and type(record) is str
        and (type(holder) is str if card else holder is None)
        and type(op) is str
    ):
        return None
    holder_text = holder if isinstance(holder, str) else ""
    joined = "\x00".join((kind, cid, holder_text, kid, at, content, prev, record))
    match = (_FAST_CARD if card else _FAST_LIST).fullmatch(joined)
    if not (
        match is not None
        and (card or int(cid) < INT64)
        and _cached(_good_times, at, lambda t: datetime.fromisoformat(t[:-1]))
        and _cached(_good_operators, op, check_operator)
    ):
        return None
    if card:
        _, holder_hex, kid_hex, content_hex, prev_hex, record_hex = match.groups()
        holder_item = _BSTR32 + bytes.fromhex(holder_hex)
    else:
        _, kid_hex, content_hex, prev_hex, record_hex = match.groups()
        holder_item = _NULL
    prev_hash = bytes.fromhex(prev_hex)
    data = b"".join(
        (
            _HASH_PREFIX,
            encode_head(0, seq),
            _text(kind),
            _text(cid),
            holder_item,
            _BSTR8,
            bytes.fromhex(kid_hex),
            _text(at),
            _text(op),
            _BSTR32,
            bytes.fromhex(content_hex),
            _BSTR32,
            prev_hash,
        )
    )
    return prev_hash, bytes.fromhex(record_hex), data


_CARD_TEXT: Final = _text("card")
_CTI_HEX: Final = re.compile(f"(?:[0-9a-f]{{2}}){{{MIN_CTI},{MAX_CTI}}}")
_HASH_HEX: Final = re.compile(_H64)
_TIME: Final = re.compile(_TIME_PART)
#: (kid, recorded_at, operator) -> their hash input items, for the values found canonical
_middles: dict[tuple[bytes, str, str], bytes] = {}


def _middle(kid: bytes, at: str, operator: str) -> bytes | None:
    """The hash input items of ``kid``, ``recorded_at`` and ``operator``, or ``None`` if one
    is not canonical (checked as :data:`_FAST_CARD` and the strict parser check them)."""
    key = (kid, at, operator)
    known = _middles.get(key)
    if known is None:
        if not (
            type(kid) is bytes
            and len(kid) == 8
            and type(at) is str
            and _TIME.fullmatch(at) is not None
            and _cached(_good_times, at, lambda t: datetime.fromisoformat(t[:-1]))
            and type(operator) is str
            and _cached(_good_operators, operator, check_operator)
        ):
            return None
        if len(_middles) > 1000:
            _middles.clear()
        known = _middles[key] = _BSTR8 + kid + _text(at) + _text(operator)
    return known


def card_hash_input(
    seq: int,
    credential_id: str,
    holder: str,
    kid: bytes,
    recorded_at: str,
    operator: str,
    content_hash: bytes,
    prev_hash: bytes,
) -> bytes | None:
    """The hash input of the card record these values make (as stored: hex ``credential_id``
    and ``holder``, ``recorded_at`` in canonical form), exactly
    :meth:`~ecard.journal.records.JournalRecord.hash_input`; ``None`` if a value is not one
    :func:`fast_hash_input` would accept in a stored row (then the strict builder says why).
    The journal's bulk append writes each record's hash with it."""
    middle = _middle(kid, recorded_at, operator)
    if not (
        middle is not None
        and type(seq) is int
        and 1 <= seq < INT64
        and type(credential_id) is str
        and _CTI_HEX.fullmatch(credential_id) is not None
        and type(holder) is str
        and _HASH_HEX.fullmatch(holder) is not None
        and type(content_hash) is bytes
        and len(content_hash) == 32
        and type(prev_hash) is bytes
        and len(prev_hash) == 32
    ):
        return None
    return b"".join(
        (
            _HASH_PREFIX,
            encode_head(0, seq),
            _CARD_TEXT,
            _text(credential_id),
            _BSTR32,
            bytes.fromhex(holder),
            middle,
            _BSTR32,
            content_hash,
            _BSTR32,
            prev_hash,
        )
    )


def check_row(raw: Sequence[object]) -> tuple[bytes, bytes, bool] | str:
    """One stored row checked: ``(prev_hash, record_hash, hash_ok)``, or why the row is
    malformed. The fast path when it applies; the strict parser says exactly what is wrong."""
    fast = fast_hash_input(raw)
    if fast is not None:
        prev_hash, record_hash, data = fast
        return prev_hash, record_hash, hashlib.sha256(data).digest() == record_hash
    try:
        parsed = parse_record_row(raw)
    except Malformed as exc:
        return str(exc)
    return parsed.prev_hash, parsed.record_hash, parsed.computed_hash() == parsed.record_hash


__all__ = ["card_hash_input", "check_row", "fast_hash_input"]
