"""Where a batch's chunks run: in this process, on all cores (a process pool) or on Dask.

Contract: :meth:`Engine.map` applies a module-level function ``fn(job, chunk)`` to every chunk
and yields the results **in input order**, with at most :attr:`Engine.window` chunks in flight
(memory stays bounded whatever the input size). The function and its arguments are pickled to
the workers; a ``job`` is a small frozen description (key sources, paths, times), never a key.
A worker that dies or a function that fails in a way the library did not type becomes
:class:`BatchWorkerError`; an :class:`~ecard.errors.EcardError` raised in a worker is raised
again here with its code and detail.

Processes start with ``spawn``: a PKCS#11 session or a SQLite connection never crosses a fork.
Dask (``distributed``, the extra ``dask``) runs on a ``LocalCluster`` or on any scheduler
address (``tcp://host:8786``); the workers need ecard installed and the files the job names.
On Dask a chunk travels as one pickled bytes blob each way (:func:`packed`): Dask serialises a
list element by element, in the worker's event loop, which cost a worker about a fifth of its
time on chunks of 2,000 rows; a blob is one frame, pickled in one C call.
"""

from __future__ import annotations

import collections
import contextlib
import multiprocessing
import os
import pickle
import queue
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Final, Generic, TypeVar

from ecard import errors
from ecard.errors import BadInputError, EcardError

_J = TypeVar("_J")
_C = TypeVar("_C")
_R = TypeVar("_R")

#: Chunks in flight per worker: enough to keep every worker busy while the parent writes.
IN_FLIGHT_PER_WORKER: Final = 3


#: The Dask settings of a ``LocalCluster`` the engine starts (a cluster of your own: the same
#: settings in its configuration, see docs/scale.md). The workers' sampling profiler (every
#: 10 ms) cost a batch worker about a third of its time. Without scheduler-side queuing
#: (``worker-saturation: inf``) the scheduler hands a worker its next chunk before the current
#: one ends, as the process pool's queue does, instead of a round trip through the parent
#: (which also writes the journal) after each chunk; the engine's window already bounds what is
#: in flight. The system monitor feeds only the dashboard, which this cluster does not serve;
#: the event loop's tick (every 20 ms, only to warn of a blocked loop) woke each worker's loop
#: 50 times a second against the thread running the chunk: at 500 ms a worker spends about
#: 10 µs less CPU a row (175 -> 163 µs, a process-pool worker 152 µs, same run).
LOCAL_CLUSTER_CONFIG: Final[dict[str, object]] = {
    "distributed.worker.profile.enabled": False,
    "distributed.scheduler.worker-saturation": "inf",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.admin.tick.interval": "500ms",
}


class BatchWorkerError(BadInputError):
    """A batch worker died or failed for a reason the library does not type."""


#: How an error travels back from a worker: its code and detail (exceptions with a typed
#: constructor do not pickle faithfully).
_CODES: Final[dict[str, type[EcardError]]] = {
    cls.code.value: cls
    for cls in (
        errors.BadKeyError,
        errors.BadCertificateError,
        errors.BadListError,
        errors.ListRollbackError,
        errors.BadInputError,
    )
}


class WorkerFailure(Exception):
    """A typed error raised in a worker, carried back as plain strings."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code, detail)
        self.code, self.detail = code, detail

    def raise_typed(self) -> None:
        """Raise the :class:`~ecard.errors.EcardError` this failure stands for."""
        raise _CODES.get(self.code, BatchWorkerError)(self.detail)


def guarded(fn: Callable[[_J, _C], _R], job: _J, chunk: _C) -> _R:
    """``fn(job, chunk)``, with an :class:`EcardError` turned into a :class:`WorkerFailure`
    (what a worker runs)."""
    try:
        return fn(job, chunk)
    except EcardError as exc:
        raise WorkerFailure(exc.code.value, exc.detail) from None


def packed(fn: Callable[[_J, _C], _R], job: _J, blob: bytes) -> bytes:
    """:func:`guarded` over a pickled chunk, its result pickled (what a Dask worker runs): the
    chunk and the result cross the cluster as one bytes frame each (see the module docstring).
    The blobs come from the engine's own client and workers, never from the input."""
    chunk = pickle.loads(blob)  # noqa: S301 - written by this engine's client
    return pickle.dumps(guarded(fn, job, chunk), protocol=pickle.HIGHEST_PROTOCOL)


class Engine:
    """Runs chunks in this process (``workers == 1``), on a process pool, or on Dask."""

    #: chunks in flight at most
    window: int
    #: whether chunks run outside the caller's thread (a pool, a cluster): then a consumer
    #: gains by taking results ahead (:class:`Ahead`)
    concurrent: bool = False

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
        self.window = self.workers * IN_FLIGHT_PER_WORKER

    def map(self, fn: Callable[[_J, _C], _R], job: _J, chunks: Iterable[_C]) -> Iterator[_R]:
        """``fn(job, chunk)`` for every chunk, in order (in this process)."""
        for chunk in chunks:
            try:
                yield guarded(fn, job, chunk)
            except WorkerFailure as failure:
                failure.raise_typed()

    def close(self) -> None:
        """Release the workers."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def describe(self) -> str:
        """A short description for messages."""
        return "1 process"


def _ordered(
    submit: Callable[[_C], Any], result: Callable[[Any], _R], chunks: Iterable[_C], window: int
) -> Iterator[_R]:
    pending: collections.deque[Any] = collections.deque()
    for chunk in chunks:
        pending.append(submit(chunk))
        if len(pending) >= window:
            yield result(pending.popleft())
    while pending:
        yield result(pending.popleft())


#: How long :meth:`Ahead.close` waits for the thread to finish the result it is waiting for.
AHEAD_JOIN_SECONDS: Final = 60.0
_END: Final = object()


class _Raised:
    """An exception the source raised, carried to the consumer."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class Ahead(Generic[_R]):
    """Takes the results of ``source`` (an :meth:`Engine.map`) in a thread of its own, up to
    ``depth`` of them ahead of the consumer: while the consumer is busy (the batch writer
    committing a group to the journal), the thread keeps collecting results and so keeps
    handing the workers new chunks, instead of the workers standing idle until the consumer
    asks for the next result.

    Iterate over it in one thread; results come in the source's order, and what the source
    raised is raised again there. :meth:`waiting` says whether a result is ready now.
    :meth:`close` (or leaving the ``with`` block) stops the thread and closes the source,
    whatever state it is in. ``depth=0`` runs nothing ahead: iterating is iterating ``source``.
    """

    def __init__(self, source: Iterator[_R], depth: int) -> None:
        self._source = source
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if depth > 0:
            self._thread = threading.Thread(
                target=self._run, name="ecard-batch-results", daemon=True
            )
            self._thread.start()

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            for item in self._source:
                if not self._put(item):
                    break
        except BaseException as exc:  # carried to the consumer and raised there
            self._put(_Raised(exc))
        finally:
            self._close_source()
        self._put(_END)

    def _close_source(self) -> None:
        close = getattr(self._source, "close", None)
        if close is not None:
            close()

    def __iter__(self) -> Iterator[_R]:
        if self._thread is None:
            yield from self._source
            return
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if isinstance(item, _Raised):
                raise item.exc
            yield item  # type: ignore[misc]

    def waiting(self) -> bool:
        """Whether a result (or the end) is ready without waiting (always ``True`` with
        ``depth=0``: the source is asked only when the consumer asks)."""
        return self._thread is None or not self._queue.empty()

    def close(self) -> None:
        """Stop taking results and close the source (its pending chunks are the engine's to
        cancel)."""
        if self._thread is None:
            self._close_source()
            return
        self._stop.set()
        with contextlib.suppress(queue.Empty):
            while True:
                self._queue.get_nowait()
        self._thread.join(AHEAD_JOIN_SECONDS)

    def __enter__(self) -> Ahead[_R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ignore_interrupts() -> None:
    """A worker on this machine leaves Ctrl-C to the parent, which stops the pool or the local
    cluster (the chunk a worker is on finishes; nothing of it is written): no traceback from
    every worker on the terminal. Run in the worker's main thread (Dask runs a plain function
    sent with ``Client.run`` on its event loop, the process's main thread)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class ProcessEngine(Engine):
    """A pool of ``workers`` processes on this machine (default: one per core)."""

    concurrent = True

    def __init__(self, workers: int | None = None) -> None:
        super().__init__(workers)
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_ignore_interrupts,
        )

    def map(self, fn: Callable[[_J, _C], _R], job: _J, chunks: Iterable[_C]) -> Iterator[_R]:
        """``fn(job, chunk)`` for every chunk on the pool, in order."""

        def result(future: Future[_R]) -> _R:
            try:
                return future.result()
            except WorkerFailure as failure:
                failure.raise_typed()
                raise  # pragma: no cover - raise_typed always raises
            except BrokenProcessPool:
                raise BatchWorkerError("a worker process died (out of memory, or killed)") from None

        try:
            yield from _ordered(
                lambda chunk: self._pool.submit(guarded, fn, job, chunk),
                result,
                chunks,
                self.window,
            )
        except BrokenProcessPool:
            raise BatchWorkerError("a worker process died (out of memory, or killed)") from None

    def close(self) -> None:
        """Stop the pool (pending chunks are cancelled)."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def describe(self) -> str:
        """``N processes``."""
        return f"{self.workers} processes"


class DaskEngine(Engine):
    """A Dask cluster: the scheduler at ``address``, or a ``LocalCluster`` of ``workers``
    single-threaded worker processes when ``address`` is ``None``."""

    concurrent = True

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        super().__init__(workers)
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError:
            raise BadInputError(
                "Dask needs the optional extra: pip install 'ecard[dask]'"
            ) from None
        self._cluster: Any = None
        try:
            if address is None:
                with dask.config.set(LOCAL_CLUSTER_CONFIG):
                    self._cluster = LocalCluster(  # type: ignore[no-untyped-call]
                        n_workers=self.workers,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=None,
                    )
                self._client: Any = Client(self._cluster)  # type: ignore[no-untyped-call]
                # the workers share this terminal's process group: Ctrl-C is the parent's
                self._client.run(_ignore_interrupts)
            else:
                self._client = Client(address, timeout=30)  # type: ignore[no-untyped-call]
                self.workers = max(1, len(self._client.scheduler_info().get("workers", {})))
                self.window = self.workers * IN_FLIGHT_PER_WORKER
        except (OSError, TimeoutError) as exc:
            self.close()
            raise BadInputError(f"cannot reach the Dask scheduler: {exc}") from None
        self._address = address

    def map(self, fn: Callable[[_J, _C], _R], job: _J, chunks: Iterable[_C]) -> Iterator[_R]:
        """``fn(job, chunk)`` for every chunk on the cluster, in order."""
        # a key of its own for each map: under the content's key, the release of the previous
        # map's copy can reach the scheduler after this upload, and cancel this map's tasks
        job_future = self._client.scatter(job, broadcast=True, hash=False)

        def result(future: Any) -> _R:
            try:
                value: _R = pickle.loads(future.result())  # noqa: S301 - from our workers
            except WorkerFailure as failure:
                failure.raise_typed()
                raise  # pragma: no cover - raise_typed always raises
            except EcardError:
                raise
            except Exception as exc:  # a worker lost, a scheduler gone
                raise BatchWorkerError(f"the Dask task failed: {type(exc).__name__}") from None
            return value

        yield from _ordered(
            lambda chunk: self._client.submit(
                packed,
                fn,
                job_future,
                pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL),
                pure=False,
            ),
            result,
            chunks,
            self.window,
        )

    def close(self) -> None:
        """Close the client (and the local cluster, if this engine started it)."""
        client = getattr(self, "_client", None)
        if client is not None:
            client.close()
        if self._cluster is not None:
            self._cluster.close()

    def describe(self) -> str:
        """Where the cluster is."""
        where = self._address or "a local cluster"
        return f"Dask at {where} ({self.workers} workers)"


def engine(workers: int | None = None, dask: str | None = None) -> Engine:
    """The engine the options name: ``dask`` (``"local"`` or a scheduler address) or, without
    it, ``workers`` processes (one per core by default; ``1``: this process alone)."""
    if dask is not None:
        return DaskEngine(None if dask == "local" else dask, workers)
    count = workers if workers is not None else (os.cpu_count() or 1)
    return Engine(1) if count <= 1 else ProcessEngine(count)


__all__ = [
    "AHEAD_JOIN_SECONDS",
    "IN_FLIGHT_PER_WORKER",
    "LOCAL_CLUSTER_CONFIG",
    "Ahead",
    "BatchWorkerError",
    "DaskEngine",
    "Engine",
    "ProcessEngine",
    "WorkerFailure",
    "engine",
    "guarded",
    "packed",
]
