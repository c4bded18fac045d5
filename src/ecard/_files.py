"""Reading input files with typed errors and a size cap; replacing files atomically (internal)."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Final, TypeVar

from ecard.errors import BadInputError, EcardError

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
        with p.open("rb") as fh:
            # a device or pipe reports no size: never read more than the cap
            data = fh.read(max_size + 1)
        if len(data) > max_size:
            raise error(f"{os.fspath(path)}: file too large (more than {max_size} bytes)")
        return data
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


def write_atomic(
    path: str | os.PathLike[str],
    data: bytes | str,
    *,
    private: bool = False,
    error: type[EcardError] = BadInputError,
) -> None:
    """Replace ``path`` with ``data`` (a ``str`` is written as UTF-8) atomically.

    The bytes go to a new temporary file beside ``path`` (created exclusively, mode 0600 if
    ``private`` else 0644, less the umask), are flushed and fsynced, and the file is renamed
    over ``path``: a reader or a crash sees the old content or the new, never a part. Missing
    parent folders are created. A failure removes the temporary file and raises ``error``
    naming ``path``.
    """
    p = Path(path)
    raw = data.encode() if isinstance(data, str) else data
    tmp: Path | None = None
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        while True:
            tmp = p.with_name(f".{p.name}.{secrets.token_hex(6)}.tmp")
            try:
                fd = os.open(tmp, flags, 0o600 if private else 0o644)
                break
            except FileExistsError:
                continue
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
        tmp = None
    except OSError as exc:
        raise error(f"cannot write {os.fspath(path)!r}: {exc.strerror}") from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
