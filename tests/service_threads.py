"""Running event loops in tests beside a session-wide browser: ``asyncio.run`` and
Playwright's sync API refuse to start in a thread where another loop is running (the browser
tests keep one in the main thread for the whole session), so service tests start theirs in a
thread of their own."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def in_thread(fn: Callable[[], T]) -> T:
    """``fn()`` in a thread of its own, its result or exception returned here: for code that
    runs an event loop (``asyncio.run``, Playwright's sync API), which refuses to start where
    another test's loop is running (a session-wide browser keeps one in the main thread)."""
    out: list[Any] = []

    def target() -> None:
        try:
            out.append((True, fn()))
        except BaseException as exc:  # re-raised in the caller
            out.append((False, exc))

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    ok, value = out[0]
    if not ok:
        raise value
    return value  # type: ignore[no-any-return]


def run_async(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``asyncio.run(make())`` in a thread of its own (see :func:`in_thread`)."""
    return in_thread(lambda: asyncio.run(make()))
