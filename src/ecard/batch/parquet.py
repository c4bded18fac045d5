"""Parquet input for bulk issuance, read by pyarrow (the extra ``parquet``) in a child process.

Contract: :func:`parquet_rows` yields ``(row number, row)`` as :func:`ecard.batch.rows.read_rows`
does for CSV: each row a CSV record (``dict`` of column to text) or a
:class:`~ecard.batch.rows.BadRow`, numbered from 1. The file has the CSV's columns
(:data:`~ecard.batch.rows.COLUMNS`, optionally :data:`~ecard.batch.rows.OPTIONAL_COLUMNS`),
each a string column; ``issued`` and ``expires`` may be date columns too (read in ISO form). A
null reads as an empty field (the row is then invalid, as in CSV); a value longer than
:data:`~ecard.batch.rows.MAX_LINE` characters makes its row a :class:`BadRow`.

**Why a child process.** pyarrow is native code, and a damaged file can make it abort the
whole process (seen while fuzzing: a mutated footer aborted it inside the row-group metadata).
So the file is opened, checked and read in a child (``python -m ecard.batch.parquet FILE``)
that streams the rows to this process through a pipe, as JSON messages of up to
:data:`MESSAGE_BYTES` a line (bounded by the pipe: the child waits while the batch is busy). Whatever the child dies of, the batch gets a
:class:`~ecard.errors.BadInputError` naming the file and the last row read, and the rows
before it were read as usual. The child's standard error is discarded: what native code prints
there is not ours to vouch for.

Before a row is read the child checks the schema (the card's columns, each once, of the types
above) and that no row group or column chunk declares more than :data:`MAX_PARQUET_CHUNK`
uncompressed bytes, what it would hold in memory at once. It reads :data:`PARQUET_BATCH` rows
at a time, on one thread.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import IO, Any, Final

from ecard.batch.rows import (
    _KNOWN,
    COLUMNS,
    MAX_LINE,
    OPTIONAL_COLUMNS,
    BadRow,
    RawRow,
    check_columns,
)
from ecard.errors import BadInputError

#: The most uncompressed bytes a row group or a column chunk may declare.
MAX_PARQUET_CHUNK: Final = 256 * 1024 * 1024
#: Rows the child reads at a time.
PARQUET_BATCH: Final = 2000
#: The columns that may hold dates instead of text.
DATE_COLUMNS: Final = frozenset({"issued", "expires"})
#: The child sends its rows in messages of at most this many bytes, and a single row longer
#: than that alone.
MESSAGE_BYTES: Final = 1 << 20
#: The longest line the child may send: a full message and one row of the card's columns, each
#: within MAX_LINE, escaped.
_MAX_MESSAGE: Final = (
    MESSAGE_BYTES + (len(COLUMNS) + len(OPTIONAL_COLUMNS)) * (6 * MAX_LINE + 64) + 1024
)


def parquet_rows(
    path: str | os.PathLike[str], *, max_chunk: int = MAX_PARQUET_CHUNK
) -> Iterator[tuple[int, RawRow]]:
    """The rows of a Parquet file (see the module docstring); :class:`BadInputError` if it
    cannot be read, its columns are not the card's, a row group or column chunk declares more
    than ``max_chunk`` uncompressed bytes, or the reader stops part way."""
    where = repr(os.fspath(path))
    number = 0
    with _child(path, "--max-chunk", str(int(max_chunk))) as child:
        assert child.stdout is not None
        for message in _messages(child.stdout):
            if "rows" in message:
                rows = message["rows"]
                if type(rows) is not list:
                    break
                for row in rows:  # a record, or the reason a row is bad
                    if type(row) is str:
                        number += 1
                        yield number, BadRow(row)
                    elif _is_record(row):
                        number += 1
                        yield number, row
                    else:
                        raise BadInputError(_stopped(where, number))
            elif "error" in message:
                raise BadInputError(str(message["error"]))
            elif message.get("end") == number:
                return
            else:
                break
    raise BadInputError(_stopped(where, number))


def _stopped(where: str, number: int) -> str:
    return (
        f"cannot read {where} past row {number}: the Parquet reader stopped (the file is damaged)"
    )


def declared_rows(path: str | os.PathLike[str]) -> int | None:
    """The number of rows the file's footer declares (for a progress bar), read by a child as
    the rows are; ``None`` if that fails (reading the rows then says why)."""
    try:
        with _child(path, "--count") as child:
            assert child.stdout is not None
            first = next(_messages(child.stdout), {})
    except BadInputError:
        return None
    count = first.get("declared")
    return count if type(count) is int and count >= 0 else None


def _is_record(row: object) -> bool:
    """Whether the child sent a record of the card's columns, text each."""
    return (
        type(row) is dict
        and row.keys() <= _KNOWN
        and all(type(v) is str and len(v) <= MAX_LINE for v in row.values())
    )


class _child:
    """The reader process for ``path``, killed on leaving (whatever it was doing)."""

    def __init__(self, path: str | os.PathLike[str], *flags: str) -> None:
        self._args = [sys.executable, "-m", "ecard.batch.parquet", *flags, "--", os.fspath(path)]
        # the child imports this very ecard, wherever it was imported from
        here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        paths = os.environ.get("PYTHONPATH")
        self._env = {**os.environ, "PYTHONPATH": here + (os.pathsep + paths if paths else "")}

    def __enter__(self) -> subprocess.Popen[bytes]:
        try:
            self._proc = subprocess.Popen(  # noqa: S603 - this module, the path after "--"
                self._args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL, env=self._env,
            )  # fmt: skip
        except OSError as exc:
            raise BadInputError(f"cannot start the Parquet reader: {exc.strerror}") from None
        return self._proc

    def __exit__(self, *exc: object) -> None:
        self._proc.kill()
        self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()


def _messages(stream: IO[bytes]) -> Iterator[dict[str, Any]]:
    """The child's messages; a line that is too long, torn or not an object ends them."""
    while True:
        line = stream.readline(_MAX_MESSAGE + 1)
        if not line.endswith(b"\n"):
            return
        try:
            message = json.loads(line)
        except ValueError:
            return
        if type(message) is not dict:
            return
        yield message


# -- the child ------------------------------------------------------------------------------


#: The child's JSON: compact, UTF-8 as it is.
_dumps: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _send(out: IO[bytes], message: dict[str, Any]) -> None:
    out.write(_dumps(message).encode() + b"\n")


def _record(values: dict[str, Any]) -> dict[str, str] | str:
    """One row as its CSV record, or the reason it is bad."""
    record: dict[str, str] = {}
    for name, value in values.items():
        if value is None:
            record[name] = ""
        elif isinstance(value, str):
            if len(value) > MAX_LINE:
                return f"column {name}: longer than {MAX_LINE} characters"
            record[name] = value
        else:  # a date column: the schema was checked
            record[name] = value.isoformat()
    return record


class _Sender:
    """Rows sent in messages of about :data:`MESSAGE_BYTES` (one JSON parse per message on the
    other side, not one per row)."""

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out
        self._parts: list[bytes] = []
        self._size = 0

    def add(self, row: dict[str, str] | str) -> None:
        part = _dumps(row).encode()
        if self._parts and self._size + len(part) > MESSAGE_BYTES:
            self.flush()
        self._parts.append(part)
        self._size += len(part) + 1

    def flush(self) -> None:
        if self._parts:
            self._out.write(b'{"rows":[' + b",".join(self._parts) + b"]}\n")
            self._parts, self._size = [], 0


def _read(path: str, out: IO[bytes], count_only: bool, max_chunk: int = MAX_PARQUET_CHUNK) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise BadInputError(
            "Parquet input needs the optional extra: pip install 'ecard[parquet]'"
        ) from None
    where = repr(path)
    try:
        parquet = pq.ParquetFile(path)
        schema, meta = parquet.schema_arrow, parquet.metadata
    except OSError as exc:
        reason = exc.strerror or "not a Parquet file, or damaged"
        raise BadInputError(f"cannot read {where}: {reason}") from None
    except (pa.ArrowException, ValueError):
        raise BadInputError(f"cannot read {where} as Parquet (not one, or damaged)") from None
    if count_only:
        _send(out, {"declared": int(meta.num_rows)})
        return
    check_columns(list(schema.names), f"the Parquet file {where}")
    for field in schema:
        text = pa.types.is_string(field.type) or pa.types.is_large_string(field.type)
        if not (text or (field.name in DATE_COLUMNS and pa.types.is_date(field.type))):
            kind = "string or date" if field.name in DATE_COLUMNS else "string"
            raise BadInputError(f"the Parquet column {field.name!r} is {field.type}, not {kind}")
    try:
        for group in range(meta.num_row_groups):
            info = meta.row_group(group)
            if info.num_columns != len(schema.names):
                raise BadInputError(f"row group {group} of {where} does not match its schema")
            sizes = [info.total_byte_size] + [
                info.column(c).total_uncompressed_size for c in range(info.num_columns)
            ]
            if max(sizes) > max_chunk:
                raise BadInputError(
                    f"row group {group} of {where} declares {max(sizes)} bytes uncompressed "
                    f"(at most {max_chunk} in one row group or column)"
                )
    except (pa.ArrowException, OSError, ValueError):
        raise BadInputError(f"cannot read {where}: its row groups are damaged") from None
    number = 0
    sender = _Sender(out)
    try:
        for batch in parquet.iter_batches(batch_size=PARQUET_BATCH, use_threads=False):
            for values in batch.to_pylist():
                number += 1
                sender.add(_record(values))
            sender.flush()
    except (pa.ArrowException, OSError, ValueError):
        sender.flush()
        raise BadInputError(
            f"cannot read {where} past row {number} (the file is damaged)"
        ) from None
    _send(out, {"end": number})


def main(argv: list[str] | None = None) -> int:
    """The child: ``python -m ecard.batch.parquet [--count] [--max-chunk N] -- FILE`` (see the
    module docstring); exits 0 once it has said what happened."""
    args = sys.argv[1:] if argv is None else argv
    count_only = "--count" in args[:-1]
    max_chunk = MAX_PARQUET_CHUNK
    if "--max-chunk" in args[:-1]:
        max_chunk = int(args[args.index("--max-chunk") + 1])
    path = args[-1]
    out = sys.stdout.buffer
    try:
        _read(path, out, count_only, max_chunk)
    except BadInputError as exc:
        _send(out, {"error": exc.detail})
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = [
    "DATE_COLUMNS",
    "MAX_PARQUET_CHUNK",
    "MESSAGE_BYTES",
    "PARQUET_BATCH",
    "declared_rows",
    "parquet_rows",
]
