"""Inputs are read with a cap before parsing: a file without end (a device, a pipe) or one
larger than the cap is a typed error, and an audit reports it as unreadable."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import T0

from ecard._files import read_file
from ecard.audit import audit
from ecard.errors import BadInputError
from ecard.verify.loading import read_list_file


def test_a_file_without_end_is_read_up_to_the_cap_only() -> None:
    # /dev/zero reports size 0 and never ends: the cap must hold anyway
    with pytest.raises(BadInputError, match="too large"):
        read_file("/dev/zero", BadInputError, max_size=1024)
    with pytest.raises(BadInputError, match="too large"):
        read_list_file("/dev/zero")


def test_a_large_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    with big.open("wb") as fh:
        fh.truncate(2048)
    with pytest.raises(BadInputError, match="2048 bytes"):
        read_file(big, BadInputError, max_size=1024)
    assert read_file(big, BadInputError, max_size=2048) == bytes(2048)


def test_audit_reports_an_unending_input_as_unreadable() -> None:
    report = audit(["/dev/zero"], now=T0)
    (finding,) = report.findings
    assert "too large" in finding.detail
