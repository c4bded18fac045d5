"""Running commands in tests so that a failure says why: the command, its exit status, stdout
and stderr go into the assertion message instead of a bare ``assert 1 == 0``."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from os import PathLike
from typing import Any


def explain(proc: subprocess.CompletedProcess[Any]) -> str:
    """The command, exit status, stdout and stderr of ``proc``, for an assertion message."""
    args = proc.args if isinstance(proc.args, list | tuple) else [proc.args]

    def text(out: object) -> str:
        if isinstance(out, bytes):
            return out.decode(errors="replace")
        return "" if out is None else str(out)

    return (
        f"`{' '.join(str(a) for a in args)}` exited with {proc.returncode}\n"
        f"--- stdout ---\n{text(proc.stdout)}\n--- stderr ---\n{text(proc.stderr)}"
    )


def run_ok(
    cmd: Sequence[str | PathLike[str]], *, timeout: float = 120, **kw: Any
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` (text, output captured) and assert it exits 0, showing its output if not."""
    proc = subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, check=False, **kw
    )
    assert proc.returncode == 0, explain(proc)
    return proc
