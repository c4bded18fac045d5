"""Atomic file replacement: content, modes, parents, and typed failures that leave no debris."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ecard._files import write_atomic
from ecard.errors import BadInputError, BadListError


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_writes_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "out.txt"
    write_atomic(target, "první 第一")
    assert target.read_text(encoding="utf-8") == "první 第一"
    write_atomic(target, b"\x00second")
    assert target.read_bytes() == b"\x00second"
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.txt"]


def test_modes(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        write_atomic(tmp_path / "public.pem", b"x")
        write_atomic(tmp_path / "key.pem", b"x", private=True)
    finally:
        os.umask(umask)
    assert _mode(tmp_path / "public.pem") == 0o644
    assert _mode(tmp_path / "key.pem") == 0o600


def test_failure_is_typed_and_leaves_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    with pytest.raises(BadInputError, match=r"cannot write .*file/out"):
        write_atomic(blocker / "out", b"x")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "target").mkdir()  # a directory cannot be replaced by a file
    with pytest.raises(BadListError, match="cannot write"):
        write_atomic(folder / "target", b"x", error=BadListError)
    assert sorted(p.name for p in folder.iterdir()) == ["target"]
