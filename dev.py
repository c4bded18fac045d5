#!/usr/bin/env python3
"""Project bootstrap: the two Quick start commands, on a fresh machine with only Python and pip.

    python3 dev.py demo [ecard demo options]   create .venv if needed, install, run `ecard demo`
    python3 dev.py test [pytest options]       install the test extras, lint, type-check, prepare
                                               the system tools (scripts/system-setup.sh), test

Standard library only. The virtual environment lives in ``.venv`` beside this file and is
reinstalled only when ``pyproject.toml`` changes (a stamp file records its hash). After the
whole suite passes there, ``test`` runs it again in ``.venv-min``, installed with
``constraints/minimum.txt`` (every dependency at its declared lower bound), so the bounds in
pyproject.toml stay true; with explicit pytest options (a subset) it runs once. The SoftHSM2
test token is made afresh for each ``test`` run in a temporary folder (``$ECARD_SOFTHSM_DIR``
names another), so two runs in one checkout never share a token.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
#: The second environment, with every dependency at the lowest version pyproject.toml declares.
VENV_MIN = ROOT / ".venv-min"
MINIMUM = ROOT / "constraints" / "minimum.txt"


def say(msg: str) -> None:
    print(f"[dev] {msg}", file=sys.stderr, flush=True)


def run(cmd: list[str], **kw: object) -> int:
    return subprocess.call([str(c) for c in cmd], cwd=ROOT, **kw)  # type: ignore[call-overload]  # noqa: S603


def _python(venv_dir: Path) -> Path:
    return (
        venv_dir
        / ("Scripts" if os.name == "nt" else "bin")
        / ("python.exe" if os.name == "nt" else "python")
    )


def ensure_env(extras: str, venv_dir: Path = VENV, constraints: Path | None = None) -> Path:
    """Create ``venv_dir`` and install the project with ``extras`` (under ``constraints`` if
    given), unless already done for this pyproject and constraints; return its python."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this file may be run by an older python3
        sys.exit(f"ecard needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    inputs = (ROOT / "pyproject.toml").read_bytes() + (
        constraints.read_bytes() if constraints else b""
    )
    digest = hashlib.sha256(inputs).hexdigest()[:16]
    stamp = venv_dir / f".installed-{extras or 'base'}-{digest}"
    python = _python(venv_dir)
    # the test extras include the image extras: an environment made for tests runs the demo
    if stamp.exists() or (venv_dir / f".installed-test-{digest}").exists():
        return python
    if not python.exists():
        say(f"creating virtual environment in {venv_dir}")
        venv.EnvBuilder(with_pip=True, clear=True).create(venv_dir)
    target = f".[{extras}]" if extras else "."
    where = venv_dir.name + (f" with {constraints.relative_to(ROOT)}" if constraints else "")
    say(f"installing ecard{'[' + extras + ']' if extras else ''} into {where} (first run only)")
    pip = [python, "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    if constraints:
        pip += ["-c", constraints]
    if run([*pip, "-e", target]) != 0:
        sys.exit("[dev] installation failed; see the pip output above")
    for old in venv_dir.glob(f".installed-{extras or 'base'}-*"):
        old.unlink()
    stamp.write_text(digest)
    return python


def demo(args: list[str]) -> int:
    ensure_env("image")
    return run([BIN / "ecard", "demo", *args])


def system_env(token_dir: str | None = None) -> dict[str, str]:
    """The environment after ``eval "$(bash scripts/system-setup.sh)"``: the one place that
    installs (apt-get, only what is missing) and configures every system tool the tests need.
    ``token_dir``: where the SoftHSM2 test token is made (``$ECARD_SOFTHSM_DIR``; default
    ``.softhsm`` in the checkout)."""
    script = ROOT / "scripts" / "system-setup.sh"
    env = dict(os.environ)
    if token_dir is not None:
        env["ECARD_SOFTHSM_DIR"] = token_dir
    # bash evaluates the script's exports itself (only if the script succeeded: an
    # `eval "$(...)"` alone would hide its failure); env -0 hands back the result unambiguously
    proc = subprocess.run(  # noqa: S603
        ["bash", "-c", 'out="$(bash "$1")" || exit; eval "$out" && env -0', "-", str(script)],  # noqa: S607
        cwd=ROOT,
        env=env,
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
    # A token of this run's own (unless $ECARD_SOFTHSM_DIR names one): two runs in one checkout
    # at once would otherwise share the checkout's .softhsm token and its keys.
    with tempfile.TemporaryDirectory(prefix="ecard-softhsm-") as token_dir:
        say("system tools (scripts/system-setup.sh)")
        env = system_env(os.environ.get("ECARD_SOFTHSM_DIR") or token_dir)
        say("pytest")
        status = run([PY, "-m", "pytest", *args], env=env)
        if status != 0 or args:  # a chosen subset of tests runs once, on the current versions
            return status
        # every declared lower bound is tested: the whole suite again on the minimum versions
        say(f"pytest on the lowest declared versions ({MINIMUM.relative_to(ROOT)})")
        python = ensure_env("test", VENV_MIN, MINIMUM)
        return run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], env=env)


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in {"demo", "test"}:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, rest = sys.argv[1], sys.argv[2:]
    return demo(rest) if cmd == "demo" else test(rest)


if __name__ == "__main__":
    sys.exit(main())
