"""The fuzzing harness shared by ``tests/fuzz/test_fuzz_*.py``: budgets, the outcome rule, the
time bound, and the mutation strategies.

Every surface is one *target*: a function that takes outside bytes (or text) and feeds them to
one ecard parser. :func:`check` runs a target once and holds it to the contract of
``docs/threat-model.md``:

- it returns, or raises an :class:`~ecard.errors.EcardError` (a typed error with a stable
  code); any other exception is a finding and fails the example with its traceback;
- it finishes within the surface's time bound, measured with a monotonic clock; an input that
  runs past four times the bound is interrupted (``SIGALRM``) so that a hang fails the test
  instead of stalling the run.

How many examples each property tries is :func:`budget`: a few in the normal test run, and
``FUZZ_EXAMPLES`` (an integer, e.g. ``FUZZ_EXAMPLES=20000``) for a long session on demand.
Counts and the slowest input per surface are collected in :data:`STATS` and printed at the end
of the session by ``tests/fuzz/conftest.py``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from ecard.errors import EcardError

__all__ = [
    "LONG_SESSION",
    "STATS",
    "Hang",
    "SurfaceStats",
    "UntypedError",
    "budget",
    "cbor_values",
    "check",
    "fuzz_settings",
    "mutants",
    "text_mutants",
]

#: ``FUZZ_EXAMPLES`` when set: the number of examples every property tries in a long session.
LONG_SESSION: int | None = (
    int(os.environ["FUZZ_EXAMPLES"]) if os.environ.get("FUZZ_EXAMPLES") else None
)

_T = TypeVar("_T")


def budget(brief: int) -> int:
    """Examples for one property: ``brief`` in the normal test run, ``FUZZ_EXAMPLES`` on demand."""
    return LONG_SESSION if LONG_SESSION is not None else brief


def fuzz_settings(brief: int) -> settings:
    """Hypothesis settings for a fuzz property: :func:`budget` examples, no per-example deadline
    (:func:`check` keeps its own clock, which ignores Hypothesis' own generation time), and no
    health check about slow or large data (mutated PDFs and journals are both). The brief pass
    in the test command is derandomized, so it is the same inputs on every run and cannot fail
    now and then; long sessions explore at random."""
    return settings(
        max_examples=budget(brief),
        derandomize=LONG_SESSION is None,
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
        ],
    )


class UntypedError(AssertionError):
    """A target raised something other than an :class:`~ecard.errors.EcardError`."""


class Hang(BaseException):
    """Raised by the alarm inside a target that ran past four times its bound."""


@dataclass
class SurfaceStats:
    """What one surface saw in this session."""

    inputs: int = 0
    typed_errors: int = 0
    #: Inputs that raised one of the ``allowed`` exceptions (known defects, listed in the report).
    known: int = 0
    seconds: float = 0.0
    slowest: float = 0.0


#: Per surface name: inputs tried, typed errors, time spent, slowest input.
STATS: dict[str, SurfaceStats] = {}


@contextlib.contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():  # pragma: no cover
        yield
        return

    def fire(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"still running after {seconds:.1f} s")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def check(
    surface: str,
    target: Callable[[], _T],
    *,
    bound: float = 2.0,
    allowed: tuple[type[BaseException], ...] = (),
) -> _T | EcardError:
    """Run ``target`` once under the contract: returns its value, or the typed error it raised.

    ``allowed`` names exceptions of a known defect that is not this harness' to fix (counted
    as ``known`` and pinned by a strict ``xfail`` test that fails once the defect is fixed). Anything else raises :class:`UntypedError` chained to the original exception, so
    that Hypothesis shows the traceback and shrinks the input; an input slower than ``bound``
    seconds fails the same way.
    """
    stats = STATS.setdefault(surface, SurfaceStats())
    start = time.perf_counter()
    outcome: Any
    try:
        with _alarm(4 * bound):
            try:
                outcome = target()
            except EcardError as exc:
                stats.typed_errors += 1
                outcome = exc
            except allowed as exc:
                stats.known += 1
                outcome = exc
    except Hang as exc:
        raise AssertionError(f"{surface}: a hang, {exc}") from None
    except Exception as exc:
        raise UntypedError(f"{surface}: untyped {type(exc).__name__}: {exc}"[:500]) from exc
    finally:
        elapsed = time.perf_counter() - start
        stats.inputs += 1
        stats.seconds += elapsed
        stats.slowest = max(stats.slowest, elapsed)
    assert elapsed < bound, f"{surface}: {elapsed:.2f} s for one input (bound {bound} s)"
    return outcome  # type: ignore[no-any-return]


# --- mutations ---------------------------------------------------------------------------------

_INTERESTING = (b"\x00", b"\xff", b"\x7f", b"\x80", b"\x18", b"\x19", b"\x1a", b"\x1b", b"\x9f",
                b"\xbf", b"\xd2", b"\xd8\x3d", b"\xfb")  # fmt: skip


def _apply(data: bytearray, op: tuple[Any, ...], donors: Sequence[bytes]) -> None:
    kind = op[0]
    n = len(data)
    if kind == "flip" and n:
        data[op[1] % n] ^= 1 << op[2]
    elif kind == "set" and n:
        data[op[1] % n] = op[2]
    elif kind == "insert":
        at = op[1] % (n + 1)
        data[at:at] = op[2]
    elif kind == "delete" and n:
        at = op[1] % n
        del data[at : at + op[2]]
    elif kind == "truncate":
        del data[op[1] % (n + 1) :]
    elif kind == "splice" and donors:
        donor = donors[op[2] % len(donors)]
        if donor:
            start = op[3] % len(donor)
            piece = donor[start : start + op[4]]
            at = op[1] % (n + 1)
            data[at : at + len(piece)] = piece
    elif kind == "duplicate" and n:
        at = op[1] % n
        data[at:at] = data[at : at + op[2]]


def _ops() -> st.SearchStrategy[tuple[Any, ...]]:
    pos = st.integers(0, 2**24)
    return st.one_of(
        st.tuples(st.just("flip"), pos, st.integers(0, 7)),
        st.tuples(st.just("set"), pos, st.integers(0, 255)),
        st.tuples(
            st.just("insert"),
            pos,
            st.one_of(st.binary(min_size=1, max_size=16), st.sampled_from(_INTERESTING)),
        ),
        st.tuples(st.just("delete"), pos, st.integers(1, 64)),
        st.tuples(st.just("truncate"), pos),
        st.tuples(st.just("splice"), pos, pos, pos, st.integers(1, 256)),
        st.tuples(st.just("duplicate"), pos, st.integers(1, 64)),
    )


def mutants(
    seeds: Sequence[bytes], *, max_ops: int = 4, donors: Sequence[bytes] = ()
) -> st.SearchStrategy[bytes]:
    """Mutations of one of ``seeds``: 1 to ``max_ops`` byte flips, byte sets, insertions,
    deletions, truncations, duplications and splices (a piece of a seed or a donor copied over
    another place)."""
    pool = [*seeds, *donors]

    def build(index: int, ops: list[tuple[Any, ...]]) -> bytes:
        data = bytearray(seeds[index])
        for op in ops:
            _apply(data, op, pool)
        return bytes(data)

    return st.builds(
        build, st.integers(0, len(seeds) - 1), st.lists(_ops(), min_size=1, max_size=max_ops)
    )


def text_mutants(
    seeds: Sequence[str], alphabet: str, *, max_ops: int = 4
) -> st.SearchStrategy[str]:
    """Mutations of one of the texts ``seeds`` at the character level: characters replaced,
    inserted (from ``alphabet`` or anywhere in Unicode), deleted, cut off or spliced in from
    another seed."""
    char = st.one_of(st.sampled_from(alphabet), st.characters())
    pos = st.integers(0, 2**16)
    op = st.one_of(
        st.tuples(st.just("set"), pos, char),
        st.tuples(st.just("insert"), pos, st.text(char, min_size=1, max_size=8)),
        st.tuples(st.just("delete"), pos, st.integers(1, 32)),
        st.tuples(st.just("truncate"), pos),
        st.tuples(st.just("splice"), pos, pos, pos, st.integers(1, 128)),
    )

    def build(index: int, ops: list[tuple[Any, ...]]) -> str:
        text = list(seeds[index])
        for o in ops:
            n = len(text)
            if o[0] == "set" and n:
                text[o[1] % n] = o[2]
            elif o[0] == "insert":
                at = o[1] % (n + 1)
                text[at:at] = list(o[2])
            elif o[0] == "delete" and n:
                del text[o[1] % n : o[1] % n + o[2]]
            elif o[0] == "truncate":
                del text[o[1] % (n + 1) :]
            elif o[0] == "splice":
                donor = seeds[o[2] % len(seeds)]
                start = o[3] % len(donor)
                piece = donor[start : start + o[4]]
                at = o[1] % (n + 1)
                text[at : at + len(piece)] = list(piece)
        return "".join(text)

    return st.builds(
        build, st.integers(0, len(seeds) - 1), st.lists(op, min_size=1, max_size=max_ops)
    )


def cbor_values(max_leaves: int = 12) -> st.SearchStrategy[Any]:
    """Values :func:`ecard.formats.cbor.encode` accepts: ints of every width, bytes, text,
    booleans, null, and arrays and maps of them (int, text and byte-string keys)."""
    leaves = st.one_of(
        st.integers(-(2**64), 2**64 - 1),
        st.integers(-30, 30),
        st.binary(max_size=40),
        st.text(max_size=20),  # no lone surrogates by default
        st.booleans(),
        st.none(),
    )
    keys = st.one_of(st.integers(-70000, 70000), st.text(max_size=8), st.binary(max_size=8))
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=5), st.dictionaries(keys, inner, max_size=5)
        ),
        max_leaves=max_leaves,
    )
