"""Parquet input for bulk issuance (the extra ``parquet``): the same cards as from the CSV of
the same rows, in the same journal order; bad rows reported by row number and reason; a file
that is not Parquet, a schema that is not the card's and a row group declaring too much
memory refused with typed errors, before anything is issued; the command takes a ``.parquet``
file by its name. Files written by pyarrow, read back by ecard's reader."""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
from pathlib import Path

import psutil
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests import test_batch
from tests.conftest import T0
from tests.proc import explain
from tests.test_batch import (
    PKEY_ENV,
    PKEY_HEX,
    _cli,
    _env,
    csv_rows,
    job_for,
    journal_cards,
    payloads,
    result_lines,
)

from ecard.batch.engines import Engine, ProcessEngine
from ecard.batch.issue import issue_batch
from ecard.batch.parquet import declared_rows, parquet_rows
from ecard.batch.rows import COLUMNS, MAX_LINE, BadRow, input_format, parse_row, read_rows
from ecard.errors import BadInputError
from ecard.journal import Journal
from ecard.signing.pki import CertifiedKey

DATA = Path(__file__).parent / "data" / "parquet"
#: test_batch's fixtures: the signer's key and certificate files, the pseudonym key's variable
keyfile = test_batch.keyfile
_pseudonym_env = test_batch._pseudonym_env


def write_parquet(
    path: Path, text: str, *, dates: bool = False, row_group: int = 64, nulls: tuple[int, ...] = ()
) -> None:
    """The CSV ``text`` as a Parquet file: string columns (``issued`` and ``expires`` as date
    columns with ``dates``), ``row_group`` rows a group, a null ssn in the rows ``nulls``."""
    records = list(csv.DictReader(io.StringIO(text)))
    columns: dict[str, pa.Array] = {}
    for name in records[0]:
        values: list[object] = [r[name] for r in records]
        if name == "ssn":
            values = [None if i in nulls else v for i, v in enumerate(values)]
        if dates and name in ("issued", "expires"):
            columns[name] = pa.array([dt.date.fromisoformat(str(v)) for v in values], pa.date32())
        else:
            columns[name] = pa.array(values, pa.string())
    pq.write_table(pa.table(columns), path, row_group_size=row_group)


def issue_from(tmp: Path, name: str, src: Path, fmt: str, job: object, engine: Engine) -> Path:
    results, db = tmp / f"{name}.jsonl", tmp / f"{name}.db"
    with Journal.open(db, pseudonym_key=bytes.fromhex(PKEY_HEX)) as journal:
        issue_batch(src, fmt, results, job, journal=journal, operator="op-1", engine=engine)  # type: ignore[arg-type]
    return results


@pytest.mark.parametrize("dates", [False, True])
def test_parquet_rows_give_the_cards_of_the_same_csv_rows(
    tmp_path: Path, ds: CertifiedKey, keyfile: tuple[Path, Path], dates: bool
) -> None:
    text = csv_rows(150, bad={7: "110105195001010000"})
    (tmp_path / "in.csv").write_text(text, encoding="utf-8")
    write_parquet(tmp_path / "in.parquet", text, dates=dates, row_group=40)
    job = job_for(keyfile, ds)
    from_csv = issue_from(tmp_path, "csv", tmp_path / "in.csv", "csv", job, Engine(1))
    with ProcessEngine(2) as engine:
        from_pq = issue_from(tmp_path, "pq", tmp_path / "in.parquet", "parquet", job, engine)
    assert payloads(from_pq) == payloads(from_csv)
    assert len(payloads(from_pq)) == 149
    assert journal_cards(tmp_path / "pq.db") == journal_cards(tmp_path / "csv.db")
    # a CSV line counts the header; a Parquet "line" is the row number (the texts differ only
    # by their signatures: ECDSA is randomised; the payloads are equal, above)
    csv_lines = {r["line"]: r for r in result_lines(from_csv)}
    for r in result_lines(from_pq):
        other = csv_lines[int(r["line"]) + 1]
        assert {k: v for k, v in r.items() if k not in ("line", "text")} == {
            k: v for k, v in other.items() if k not in ("line", "text")
        }
    bad = [r for r in result_lines(from_pq) if r["status"] == "invalid"]
    assert [(r["line"], r["code"]) for r in bad] == [(8, "BAD_INPUT")]
    assert "ssn" in str(bad[0]["reason"]) and "110105" not in str(bad[0]["reason"])


def test_a_null_or_overlong_value_makes_its_row_invalid(tmp_path: Path) -> None:
    text = csv_rows(5)
    write_parquet(tmp_path / "n.parquet", text, nulls=(1,))
    rows = list(read_rows(tmp_path / "n.parquet", "parquet"))
    assert [n for n, _ in rows] == [1, 2, 3, 4, 5]
    assert isinstance(rows[1][1], dict) and rows[1][1]["ssn"] == ""  # null: empty, so invalid
    assert "ssn" in str(parse_row(rows[1][1]))
    long_name = "张" * (MAX_LINE + 1)
    table = pa.table({c: [long_name if c == "name" else "x"] for c in COLUMNS})
    pq.write_table(table, tmp_path / "long.parquet")
    ((number, row),) = read_rows(tmp_path / "long.parquet", "parquet")
    assert number == 1 and isinstance(row, BadRow)
    assert row.reason == f"column name: longer than {MAX_LINE} characters"


def test_files_that_are_not_the_cards_parquet_are_refused_with_typed_errors(
    tmp_path: Path,
) -> None:
    good = tmp_path / "good.parquet"
    write_parquet(good, csv_rows(100), row_group=50)
    data = good.read_bytes()
    cases = {
        "text.parquet": b"name,ssn\n",
        "empty.parquet": b"",
        "cut.parquet": data[: len(data) // 2],
        "footer.parquet": data[:-12] + b"\xff" * 8 + data[-4:],
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(BadInputError, match="cannot read"):
            list(read_rows(tmp_path / name, "parquet"))
    with pytest.raises(BadInputError, match="cannot read"):
        list(read_rows(tmp_path / "missing.parquet", "parquet"))

    wrong = {
        "extra": pa.table({**{c: ["x"] for c in COLUMNS}, "photo": ["x"]}),
        "short": pa.table({c: ["x"] for c in COLUMNS[:-1]}),
        "typed": pa.table({**{c: ["x"] for c in COLUMNS}, "ssn": pa.array([1])}),
        "stamp": pa.table(
            {**{c: ["x"] for c in COLUMNS}, "issued": pa.array([dt.datetime(2024, 1, 1)])}
        ),
    }
    messages = {
        "extra": "unknown: photo",
        "short": "must name the columns",
        "typed": "'ssn' is int64, not string",
        "stamp": "'issued' is timestamp",
    }
    for name, table in wrong.items():
        pq.write_table(table, tmp_path / f"{name}.parquet")
        with pytest.raises(BadInputError, match=messages[name]):
            list(read_rows(tmp_path / f"{name}.parquet", "parquet"))

    # a row group declaring more than the cap is refused before a row is read
    with pytest.raises(BadInputError, match=r"row group 0 .* declares \d+ bytes"):
        next(parquet_rows(good, max_chunk=1000))
    assert len(list(parquet_rows(good))) == 100


def test_a_file_that_aborts_pyarrow_is_a_typed_error_and_this_process_goes_on() -> None:
    """A mutated file, found by the fuzzer, on which pyarrow 26 ends its process ("terminate
    called after throwing an instance of 'parquet::ParquetException'"): read in the child, it
    is a typed error here. A pyarrow that no longer aborts on it refuses it all the same."""
    with pytest.raises(BadInputError, match="cannot read"):
        list(read_rows(DATA / "aborts-pyarrow-26.parquet", "parquet"))
    assert declared_rows(DATA / "aborts-pyarrow-26.parquet") in (None, 3)


def _is_reader(process: psutil.Process) -> bool:
    """Whether ``process`` is a Parquet reader child (a child that ended meanwhile is not)."""
    try:
        return "ecard.batch.parquet" in " ".join(process.cmdline())
    except psutil.Error:
        return False


def test_a_reader_that_dies_part_way_is_a_typed_error_after_the_rows_it_sent(
    tmp_path: Path,
) -> None:
    src = tmp_path / "big.parquet"
    write_parquet(src, csv_rows(30_000), row_group=5000)
    rows = parquet_rows(src)
    assert next(rows)[0] == 1
    (child,) = [p for p in psutil.Process().children() if _is_reader(p)]
    child.kill()
    child.wait(10)
    numbers = []
    with pytest.raises(BadInputError, match=r"past row (\d+): the Parquet reader stopped"):
        numbers.extend(n for n, _ in rows)
    assert numbers == list(range(2, len(numbers) + 2))  # what it sent before, in order
    assert len(numbers) + 1 < 30_000


def test_the_command_takes_a_parquet_file_by_its_name(
    tmp_path: Path, ds: CertifiedKey, keyfile: tuple[Path, Path]
) -> None:
    src = tmp_path / "cards.parquet"
    write_parquet(src, csv_rows(30, bad={3: "x"}), dates=True)
    assert input_format(src) == "parquet" and input_format(tmp_path / "c.pq") == "parquet"
    assert declared_rows(src) == 30
    results, db = tmp_path / "r.jsonl", tmp_path / "j.db"
    proc = subprocess.run(
        _cli(
            "issue", str(src), "--results", str(results), "--batch", "pq-test",
            "--key", str(keyfile[0]), "--cert", str(keyfile[1]), "--journal", str(db),
            "--operator", "op-1", "--pseudonym-key-env", PKEY_ENV, "--now", T0.isoformat(),
            "--workers", "1",
        ),
        env=_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 1, explain(proc)  # one row was invalid
    lines = result_lines(results)
    assert [r["status"] for r in lines].count("issued") == 29
    assert [r["line"] for r in lines if r["status"] == "invalid"] == [4]
    assert len(journal_cards(db)) == 29
