"""Card records in bulk: CSV or JSON Lines read as a stream, each row validated on its own.

Contract: :func:`read_rows` yields ``(line, row)`` pairs one at a time (memory bounded whatever
the input size), ``line`` being the 1-based line the row starts on; a row is the raw text of a
JSON line or the field dict of a CSV record, never parsed further here. A line longer than
:data:`MAX_LINE` bytes or not UTF-8 is yielded as a :class:`BadRow` (its reason, never its
content). :func:`parse_row` turns one raw row into a :class:`~ecard.card.Card` or the reason it
is invalid; reasons name fields and rules, never a value, so no ID number or name reaches a
result file or a log (PIPL).

CSV columns (a header line first): ``name, ssn, card_number, region, issued, expires`` and
optionally ``spec_version, status``. A JSON line holds either the same flat keys or a card
record as ``ecard demo`` writes it (``{"holder": {"name", "ssn"}, ...}``).

Parquet (the extra ``parquet``) has the CSV's columns; a row's "line" is its 1-based row
number; see :mod:`ecard.batch.parquet`.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeAlias

from pydantic import ValidationError

from ecard.card import Card
from ecard.cardfast import card_if_canonical
from ecard.errors import BadInputError

#: Longest input line accepted (bytes, line ending included); a longer one is an invalid row.
MAX_LINE: Final = 64 * 1024

#: The input formats.
InputFormat: TypeAlias = Literal["csv", "jsonl", "parquet"]

#: The columns of a CSV input and the flat keys of a JSON line.
COLUMNS: Final = ("name", "ssn", "card_number", "region", "issued", "expires")
OPTIONAL_COLUMNS: Final = ("spec_version", "status")
_HOLDER_KEYS: Final = frozenset({"name", "ssn"})
_KNOWN: Final = frozenset(COLUMNS + OPTIONAL_COLUMNS)


@dataclass(frozen=True)
class BadRow:
    """A line that cannot even be read as a row: ``reason`` says why (no content)."""

    reason: str


#: One raw row: a JSON line's text, a CSV record's fields, or a line that could not be read.
RawRow: TypeAlias = str | dict[str, str] | BadRow


def input_format(path: str | os.PathLike[str], given: str | None = None) -> InputFormat:
    """The format named by ``given`` or, without it, by the file's extension (``.csv``;
    ``.jsonl``, ``.ndjson``, ``.json``; ``.parquet``, ``.pq``); :class:`BadInputError`
    otherwise."""
    if given in ("csv", "jsonl", "parquet"):
        return given  # type: ignore[return-value]
    if given is not None:
        raise BadInputError(f"unknown input format {given!r} (csv, jsonl or parquet)")
    name = os.fspath(path).lower()
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    raise BadInputError("cannot tell the input format from the file name: give --format")


def _lines(path: str | os.PathLike[str]) -> Iterator[tuple[int, str | BadRow]]:
    """``(number, text)`` for every line, bounded: too long or not UTF-8 is a :class:`BadRow`."""
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below, a generator's lifetime
    except OSError as exc:
        raise BadInputError(f"cannot read {os.fspath(path)!r}: {exc.strerror}") from None
    with fh:
        number = 0
        while True:
            try:
                raw = fh.readline(MAX_LINE + 1)
            except OSError as exc:
                raise BadInputError(f"cannot read {os.fspath(path)!r}: {exc.strerror}") from None
            if not raw:
                return
            number += 1
            if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
                while raw and not raw.endswith(b"\n"):  # skip the rest of the long line
                    raw = fh.readline(MAX_LINE + 1)
                yield number, BadRow(f"line longer than {MAX_LINE} bytes")
                continue
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                yield number, raw.decode("utf-8")
            except UnicodeDecodeError:
                yield number, BadRow("line is not UTF-8 text")


def read_rows(path: str | os.PathLike[str], fmt: InputFormat) -> Iterator[tuple[int, RawRow]]:
    """The rows of ``path`` in order, each with the line it starts on (see the module
    docstring); blank lines are left out. :class:`BadInputError` if the file cannot be read, a
    CSV file has no usable header or a Parquet file's columns are not the card's."""
    if fmt == "parquet":
        from ecard.batch.parquet import parquet_rows

        yield from parquet_rows(path)
        return
    lines = _lines(path)
    if fmt == "jsonl":
        for number, text in lines:
            if isinstance(text, BadRow) or text.strip():
                yield number, text
        return
    yield from _csv_rows(lines)


def _csv_rows(lines: Iterator[tuple[int, str | BadRow]]) -> Iterator[tuple[int, RawRow]]:
    header: list[str] | None = None
    for number, text in lines:
        if isinstance(text, BadRow):
            if header is None:
                raise BadInputError(f"line {number}: the CSV header: {text.reason}")
            yield number, text
            continue
        if not text.strip():
            continue
        start = number
        record_text = text
        # a quoted field may span lines: read on until the quotes balance (bounded)
        while record_text.count('"') % 2 and len(record_text) <= MAX_LINE:
            nxt = next(lines, None)
            if nxt is None:
                break
            number, more = nxt
            if isinstance(more, BadRow):
                record_text = ""
                break
            record_text += more
        if not record_text or len(record_text) > MAX_LINE:
            yield start, BadRow(f"CSV record longer than {MAX_LINE} bytes or unreadable")
            continue
        try:
            fields = next(csv.reader([record_text], strict=True))
        except (csv.Error, StopIteration):
            yield start, BadRow("not a valid CSV record")
            continue
        if header is None:
            header = [f.strip() for f in fields]
            check_columns(header, f"line {start}: the CSV header")
            continue
        if len(fields) != len(header):
            yield start, BadRow(f"{len(fields)} fields where the header has {len(header)}")
            continue
        yield start, dict(zip(header, fields, strict=True))
    if header is None:
        raise BadInputError("the CSV file is empty: it needs a header line")


def check_columns(names: list[str], where: str) -> None:
    """:class:`BadInputError` unless ``names`` are the card's columns, each once."""
    unknown = [f for f in names if f not in _KNOWN]
    missing = [c for c in COLUMNS if c not in names]
    if unknown or missing or len(set(names)) != len(names):
        raise BadInputError(
            f"{where} must name the columns {', '.join(COLUMNS)} "
            f"(optionally {', '.join(OPTIONAL_COLUMNS)}), each once"
            + (f"; unknown: {', '.join(unknown)}" if unknown else "")
        )


def _nested(flat: dict[str, Any]) -> dict[str, Any]:
    """A flat row as the card record's shape (``holder`` holds name and ssn)."""
    record = {k: v for k, v in flat.items() if k not in _HOLDER_KEYS}
    record["holder"] = {k: flat[k] for k in ("name", "ssn") if k in flat}
    return record


def _reason(exc: ValidationError) -> str:
    """What failed, field by field, from an already redacted validation error."""
    parts = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        where = ".".join(str(part) for part in error["loc"]) or "card"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts) or "invalid card record"


def parse_row(row: RawRow) -> Card | str:
    """The :class:`Card` in one raw row, or the reason it is invalid (without its values)."""
    if isinstance(row, BadRow):
        return row.reason
    if isinstance(row, str):
        try:
            data = json.loads(row)
        except (ValueError, RecursionError):
            return "not a JSON object"
        if type(data) is not dict:
            return "not a JSON object"
        if "holder" not in data:
            flat = data
        else:
            holder = data["holder"]
            if (
                type(holder) is dict
                and holder.keys() == _HOLDER_KEYS
                and _HOLDER_KEYS.isdisjoint(data)
            ):
                flat = {**holder, **{k: v for k, v in data.items() if k != "holder"}}
            else:
                flat = None
            record = data
    else:
        flat = {k: v for k, v in row.items() if v != "" or k in COLUMNS}
    if flat is not None:
        card = card_if_canonical(flat)  # the models' rules without pydantic's pass
        if card is not None:
            return card
        record = _nested(flat)
    try:
        return Card.model_validate(record)
    except ValidationError as exc:  # redacted by Card: no value in it
        return _reason(exc)


__all__ = [
    "COLUMNS",
    "MAX_LINE",
    "OPTIONAL_COLUMNS",
    "BadRow",
    "InputFormat",
    "RawRow",
    "check_columns",
    "input_format",
    "parse_row",
    "read_rows",
]
