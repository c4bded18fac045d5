"""Fuzz: Parquet input of bulk issuance (``ecard batch issue cards.parquet``).

Mutations of real Parquet files (plain and snappy-compressed pages, string and date columns,
two row groups) and random bytes go through :func:`ecard.batch.rows.read_rows` and each row
through :func:`~ecard.batch.rows.parse_row`, as a batch worker does: nothing may raise but a
typed error, rows come numbered from 1 without gaps, every row is a card or a reason. Each
input is read by the reader's child process, as in a batch (pyarrow aborts its own process on
some of these inputs: each of three runs of random mutations found one within 20,000), so an
example costs a process start: a short brief pass, ``FUZZ_EXAMPLES`` for a long one.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.fuzz.fuzzing import check, fuzz_settings, mutants

from ecard.batch.rows import parse_row, read_rows
from ecard.card import Card


def _file(compression: str, dates: bool) -> bytes:
    day = pa.array([dt.date(2024, 1, 15)] * 3, pa.date32()) if dates else ["2024-01-15"] * 3
    table = pa.table(
        {
            "name": ["张三丰", "李四", "王小明"],
            "ssn": ["11010519491231002X", "110105195001010011", None],
            "card_number": ["A12345678", "A00000001", "A00000002"],
            "region": ["110105"] * 3,
            "issued": day,
            "expires": ["2034-01-15"] * 3,
        }
    )
    out = io.BytesIO()
    pq.write_table(table, out, compression=compression, row_group_size=2)
    return out.getvalue()


SEEDS = [_file("none", False), _file("snappy", True)]


def _run(path: Path, data: bytes) -> int:
    path.write_bytes(data)
    count = 0
    for number, raw in read_rows(path, "parquet"):
        count += 1
        assert number == count
        assert isinstance(parse_row(raw), Card | str)
    return count


def test_the_seeds_read(tmp_path: Path) -> None:
    for seed in SEEDS:
        assert _run(tmp_path / "seed.parquet", seed) == 3


@fuzz_settings(brief=16)
@given(data=st.data())
def test_mutated_parquet_files(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    mutated = data.draw(mutants(SEEDS))
    path = tmp_path_factory.mktemp("pq") / "m.parquet"
    check("batch parquet", lambda: _run(path, mutated), bound=10.0)


@fuzz_settings(brief=4)
@given(raw=st.binary(max_size=2000))
def test_random_parquet_files(tmp_path_factory: pytest.TempPathFactory, raw: bytes) -> None:
    path = tmp_path_factory.mktemp("pq") / "r.parquet"
    check("batch parquet", lambda: _run(path, b"PAR1" + raw + b"PAR1"), bound=10.0)
