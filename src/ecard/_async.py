"""Running async library code (pyHanko, pyhanko-certvalidator) from synchronous ecard calls, one
way for the whole package.

:func:`run_sync` works whether or not the calling thread already runs an event loop: a web
service calling ``ecard`` from a request handler has one, and plain :func:`asyncio.run` would
refuse there ("cannot be called from a running event loop"). Inside a running loop the coroutine
runs to completion on a worker thread with its own loop, blocking the caller meanwhile, as any
synchronous call does.

>>> async def answer() -> int:
...     return 42
>>> run_sync(answer)
42
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

_T = TypeVar("_T")


def run_sync(factory: Callable[[], Awaitable[_T]]) -> _T:
    """Run the coroutine ``factory()`` to completion and return its result (or raise its
    exception), also when called from inside a running event loop."""
    import asyncio  # on first use: a verifier that validates no path never needs it
    from concurrent.futures import ThreadPoolExecutor

    async def main() -> _T:
        return await factory()

    def run() -> _T:
        return asyncio.run(main())

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ecard-async") as pool:
        return pool.submit(run).result()


__all__ = ["run_sync"]
