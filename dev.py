#!/usr/bin/env python3
"""Project bootstrap: the two Quick start commands, on a fresh machine with only Python and pip.

    python3 dev.py demo [ecard demo options]   create .venv if needed, install, run `ecard demo`
    python3 dev.py test [pytest options]       install the test extras, lint, type-check, prepare
                                               the system tools (scripts/system-setup.sh), test

Standard library only. The virtual environment lives in ``.venv`` beside this file and is
reinstalled only when ``pyproject.toml`` changes (a stamp file records its hash).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")


def say(msg: str) -> None:
    print(f"[dev] {msg}", file=sys.stderr, flush=True)


def run(cmd: list[str], **kw: object) -> int:
    return subprocess.call([str(c) for c in cmd], cwd=ROOT, **kw)  # type: ignore[call-overload]  # noqa: S603


def ensure_env(extras: str) -> None:
    """Create .venv and install the project with ``extras``, unless already done for this pyproject."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this file may be run by an older python3
        sys.exit(f"ecard needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    stamp = VENV / f".installed-{extras or 'base'}-{digest}"
    # the test extras include the image extras: an environment made for tests runs the demo
    if stamp.exists() or (VENV / f".installed-test-{digest}").exists():
        return
    if not PY.exists():
        say(f"creating virtual environment in {VENV}")
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    target = f".[{extras}]" if extras else "."
    say(f"installing ecard{'[' + extras + ']' if extras else ''} into .venv (first run only)")
    pip = [PY, "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    if run([*pip, "-e", target]) != 0:
        sys.exit("[dev] installation failed; see the pip output above")
    for old in VENV.glob(f".installed-{extras or 'base'}-*"):
        old.unlink()
    stamp.write_text(digest)


def demo(args: list[str]) -> int:
    ensure_env("image")
    return run([BIN / "ecard", "demo", *args])


def system_env() -> dict[str, str]:
    """The environment after ``eval "$(bash scripts/system-setup.sh)"``: the one place that
    installs (apt-get, only what is missing) and configures every system tool the tests need."""
    script = ROOT / "scripts" / "system-setup.sh"
    # bash evaluates the script's exports itself (only if the script succeeded: an
    # `eval "$(...)"` alone would hide its failure); env -0 hands back the result unambiguously
    proc = subprocess.run(  # noqa: S603
        ["bash", "-c", 'out="$(bash "$1")" || exit; eval "$out" && env -0', "-", str(script)],  # noqa: S607
        cwd=ROOT,
        stdout=subprocess.PIPE,
        check=False,
    )
    if proc.returncode != 0:
        sys.exit("[dev] scripts/system-setup.sh failed; see its output above")
    pairs = (item.partition("=") for item in proc.stdout.decode().split("\0") if item)
    return {name: value for name, _, value in pairs}


def test(args: list[str]) -> int:
    ensure_env("test")
    steps: list[tuple[str, list[object]]] = [
        ("ruff check", [PY, "-m", "ruff", "check", "src", "tests", "benchmarks", "dev.py"]),
        (
            "ruff format --check",
            [PY, "-m", "ruff", "format", "--check", "src", "tests", "benchmarks", "dev.py"],
        ),
        ("mypy --strict src", [PY, "-m", "mypy"]),
    ]
    if os.environ.get("ECARD_SKIP_LINT") != "1":
        for name, cmd in steps:
            say(name)
            if run(cmd) != 0:  # type: ignore[arg-type]
                say(f"{name} failed")
                return 1
    say("system tools (scripts/system-setup.sh)")
    env = system_env()
    say("pytest")
    return run([PY, "-m", "pytest", *args], env=env)


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in {"demo", "test"}:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, rest = sys.argv[1], sys.argv[2:]
    return demo(rest) if cmd == "demo" else test(rest)


if __name__ == "__main__":
    sys.exit(main())
