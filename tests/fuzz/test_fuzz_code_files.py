"""Fuzz: files of codes (``ecard verify --file``), what a counter is handed as a day's scans.

Mutations of a real file (codes with LF, CR LF and CR endings, a byte-order mark, blank lines)
and random bytes go through the same path as the command: the file read in pieces
(:func:`ecard.cli.verify._file_chunks`, UTF-8 with damaged bytes replaced), split into lines
(:func:`ecard.cli.verify.split_lines`, each line at most ``MAX_LINE``), every line verified.
Nothing may raise but a typed error, line numbers only go up, no line is longer than the cap.
"""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import T0, fixed_clock
from tests.fuzz.fuzzing import check, fuzz_settings, mutants

from ecard.card import Card
from ecard.cli.verify import MAX_LINE, _file_chunks, split_lines
from ecard.errors import ErrorCode
from ecard.signing.issuer import Issuer
from ecard.signing.pki import CertifiedKey
from ecard.verify.verifier import Verifier


@pytest.fixture(scope="module")
def seed(ds: CertifiedKey, card: Card) -> bytes:
    issuer = Issuer(ds.signer(), ds.certificate, clock=fixed_clock(T0))
    codes = [issuer.issue(card).text for _ in range(3)]
    return f"\ufeff{codes[0]}\r\n\n{codes[1]}\r{codes[2]}  \n".encode()


def _run(verifier: Verifier, data: bytes) -> int:
    last = 0
    for number, line in split_lines(_file_chunks(io.BytesIO(data))):
        assert number > last and len(line) <= MAX_LINE
        last = number
        result = verifier.verify(line)
        assert isinstance(result.code, ErrorCode)
        if result.code is ErrorCode.BAD_INPUT and "internal error" in result.detail:
            raise RuntimeError(f"an untyped exception masked: {result.detail}")
    return last


@fuzz_settings(brief=30)
@given(data=st.data())
def test_mutated_code_files(verifier: Verifier, seed: bytes, data: st.DataObject) -> None:
    mutated = data.draw(mutants([seed]))
    check("code file", lambda: _run(verifier, mutated))


@fuzz_settings(brief=15)
@given(raw=st.binary(max_size=2000))
def test_random_code_files(verifier: Verifier, raw: bytes) -> None:
    check("code file", lambda: _run(verifier, raw))


def test_the_seed_file_verifies(verifier: Verifier, seed: bytes) -> None:
    lines = list(split_lines(_file_chunks(io.BytesIO(seed))))
    assert [n for n, _ in lines] == [1, 3, 4]
    assert all(verifier.verify(line).valid for _, line in lines)
