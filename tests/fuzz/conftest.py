"""The fuzz harness in the test run: a short pass by default, a long session on demand.

``FUZZ_EXAMPLES=N`` (read by :mod:`tests.fuzz.fuzzing`) makes every fuzz property try ``N``
examples instead of its few; run only this folder for a session::

    FUZZ_EXAMPLES=5000 python -m pytest -q tests/fuzz

At the end of a session that ran fuzz properties, the inputs tried per surface, how many of
them ended in a typed error, and the slowest input are printed.
"""

from __future__ import annotations

import pytest
from tests.fuzz.fuzzing import LONG_SESSION, STATS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print what each fuzzed surface saw (only when fuzz properties ran)."""
    if not STATS:
        return
    mode = f"long session, FUZZ_EXAMPLES={LONG_SESSION}" if LONG_SESSION else "brief pass"
    terminalreporter.section(f"fuzzed input surfaces ({mode})")
    for name, s in sorted(STATS.items()):
        terminalreporter.write_line(
            f"{name:<28} {s.inputs:>7} inputs  {s.typed_errors:>7} typed errors  "
            f"{s.known:>5} known defects  "
            f"{s.seconds:8.1f} s  slowest {s.slowest:6.3f} s"
        )
