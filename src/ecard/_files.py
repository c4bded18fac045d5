"""Reading input files with typed errors and a size cap; replacing files atomically (internal)."""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Final, TypeVar

from ecard.errors import BadInputError, EcardError, Lang

#: Default cap on files ecard reads (keys, certificates, CRLs, card records).
MAX_INPUT_FILE: Final = 64 * 1024 * 1024

#: Cap on picture files read for their QR codes (``ecard verify --image``, ``ecard audit``),
#: checked before decoding; a phone photo or a scan of a card is a few MB.
MAX_IMAGE_FILE: Final = 20 * 1024 * 1024

_T = TypeVar("_T")

#: What the usual operating-system errors mean, in Chinese (``strerror`` is English).
_OS_ERRORS_ZH: Final = {
    errno.ENOENT: "文件或文件夹不存在",
    errno.EACCES: "没有访问权限",
    errno.EPERM: "操作不被允许",
    errno.EISDIR: "这是文件夹，不是文件",
    errno.ENOTDIR: "路径中有一项不是文件夹",
    errno.EEXIST: "文件已存在",
    errno.ENOSPC: "磁盘空间不足",
    errno.EROFS: "文件系统只读",
    errno.ENAMETOOLONG: "文件名过长",
    errno.ELOOP: "符号链接层数过多",
    errno.EIO: "输入输出错误",
}


def os_reason(exc: OSError, lang: Lang = "en") -> str:
    """What went wrong in ``exc``, in ``lang``: its ``strerror`` in English, the usual errors
    in Chinese (other errors keep their English text, after their number)."""
    if lang == "zh" and exc.errno in _OS_ERRORS_ZH:
        return _OS_ERRORS_ZH[exc.errno]
    return exc.strerror or str(exc)


def read_file(
    path: str | os.PathLike[str],
    error: type[EcardError],
    *,
    max_size: int = MAX_INPUT_FILE,
) -> bytes:
    """The bytes of ``path``; ``error`` naming the file if it cannot be read or is too large."""
    p = Path(path)
    name = os.fspath(path)
    try:
        size = p.stat().st_size
        if size > max_size:
            raise error(
                f"{name}: file too large ({size} bytes, at most {max_size})",
                detail_zh=f"{name}：文件过大（{size} 字节，上限 {max_size} 字节）",
            )
        with p.open("rb") as fh:
            # a device or pipe reports no size: never read more than the cap
            data = fh.read(max_size + 1)
        if len(data) > max_size:
            raise error(
                f"{name}: file too large (more than {max_size} bytes)",
                detail_zh=f"{name}：文件过大（超过 {max_size} 字节）",
            )
        return data
    except OSError as exc:
        raise error(
            f"cannot read {name!r}: {exc.strerror}",
            detail_zh=f"无法读取 {name!r}：{os_reason(exc, 'zh')}",
        ) from None


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
        zh = f"{os.fspath(path)}：{exc.detail_zh}" if exc.detail_zh else None
        raise error(f"{os.fspath(path)}: {exc.detail}", detail_zh=zh) from None


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
            import secrets  # here: reading files (ecard verify) never needs it

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
        raise error(
            f"cannot write {os.fspath(path)!r}: {exc.strerror}",
            detail_zh=f"无法写入 {os.fspath(path)!r}：{os_reason(exc, 'zh')}",
        ) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
