"""ecard.batch.engines.Ahead: a consumer takes an engine's results from a thread that runs
ahead of it. Order and values are the source's, what the source raised is raised in the
consumer with its type, closing stops the thread and closes the source wherever it is, and
depth 0 is plain iteration in the consumer's thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from ecard.batch.engines import Ahead
from ecard.errors import BadInputError


def _numbers(count: int, log: list[str], fail_at: int | None = None) -> Iterator[int]:
    try:
        for n in range(count):
            if n == fail_at:
                raise BadInputError(f"row {n} refused")
            log.append(threading.current_thread().name)
            yield n
    finally:
        log.append("closed")


@pytest.mark.parametrize("depth", [0, 1, 3])
def test_results_come_in_order_and_the_source_is_closed(depth: int) -> None:
    log: list[str] = []
    with Ahead(_numbers(50, log), depth) as ahead:
        assert list(ahead) == list(range(50))
    assert log[-1] == "closed" and log.count("closed") == 1
    here = threading.current_thread().name
    # depth 0 asks the source in the consumer's thread; otherwise another thread does
    assert all((name == here) == (depth == 0) for name in log[:-1])


@pytest.mark.parametrize("depth", [0, 2])
def test_what_the_source_raises_is_raised_in_the_consumer_with_its_type(depth: int) -> None:
    log: list[str] = []
    got: list[int] = []
    with (
        pytest.raises(BadInputError, match="row 7 refused"),
        Ahead(_numbers(20, log, fail_at=7), depth) as ahead,
    ):
        got.extend(ahead)
    assert got == list(range(7))
    assert log[-1] == "closed"


def test_runs_ahead_of_a_busy_consumer_up_to_its_depth() -> None:
    taken: list[int] = []

    def source() -> Iterator[int]:
        for n in range(10):
            taken.append(n)
            yield n

    with Ahead(source(), 3) as ahead:
        it = iter(ahead)
        assert next(it) == 0
        deadline = time.monotonic() + 10
        # one handed out, three queued, one held by the thread waiting for room: never more
        while len(taken) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)
        assert len(taken) == 5
        assert ahead.waiting()
        assert list(it) == list(range(1, 10))
    assert not ahead.waiting()  # the end was taken; nothing more is ready


def test_closing_midway_stops_the_thread_and_closes_the_source() -> None:
    log: list[str] = []
    ahead = Ahead(_numbers(10_000, log), 2)
    it = iter(ahead)
    assert [next(it), next(it)] == [0, 1]
    thread = ahead._thread  # this Ahead's own thread (other tests' threads may come and go)
    assert thread is not None and thread.is_alive()
    ahead.close()
    assert not thread.is_alive()
    assert log[-1] == "closed"
    assert len(log) < 10  # it stopped: it did not run the source to its end
