"""Reading input files with typed errors and a size cap (internal)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Final, TypeVar

from ecard.errors import EcardError

#: Default cap on files ecard reads (keys, certificates, CRLs, card records).
MAX_INPUT_FILE: Final = 64 * 1024 * 1024

_T = TypeVar("_T")


def read_file(
    path: str | os.PathLike[str],
    error: type[EcardError],
    *,
    max_size: int = MAX_INPUT_FILE,
) -> bytes:
    """The bytes of ``path``; ``error`` naming the file if it cannot be read or is too large."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > max_size:
            raise error(f"{os.fspath(path)}: file too large ({size} bytes, at most {max_size})")
        return p.read_bytes()
    except OSError as exc:
        raise error(f"cannot read {os.fspath(path)!r}: {exc.strerror}") from None


def load_file(
    path: str | os.PathLike[str],
    error: type[EcardError],
    parse: Callable[[bytes], _T],
    *,
    max_size: int = MAX_INPUT_FILE,
) -> _T:
    """:func:`read_file`, then ``parse`` the bytes; an :class:`EcardError` from ``parse``
    becomes ``error`` with the file's name in front of its detail."""
    data = read_file(path, error, max_size=max_size)
    try:
        return parse(data)
    except EcardError as exc:
        raise error(f"{os.fspath(path)}: {exc.detail}") from None
