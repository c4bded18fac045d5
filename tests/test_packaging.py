"""The declared lower bounds are the ones tested: constraints/minimum.txt pins every runtime
dependency and every extra of pyproject.toml at exactly its declared minimum (``python3 dev.py
test`` runs the suite again with those pins), so the two files cannot drift apart."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
_REQ = re.compile(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*>=\s*([0-9][0-9A-Za-z.]*)")


def _declared() -> dict[str, Version]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    found: dict[str, Version] = {}
    extras = project["optional-dependencies"]
    for req in [
        *project["dependencies"],
        *(r for name in extras if name != "test" for r in extras[name]),
    ]:
        if req.startswith("ecard["):
            continue
        match = _REQ.match(req)
        assert match, f"{req!r} declares no lower bound"
        found[match.group(1).lower()] = Version(match.group(2))
    return found


def _pinned() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in (ROOT / "constraints" / "minimum.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[name.strip().lower()] = Version(version.strip())
    return pins


def test_every_lower_bound_is_pinned_in_the_minimum_constraints() -> None:
    declared, pinned = _declared(), _pinned()
    assert declared, "no dependencies read from pyproject.toml"
    assert declared == pinned
