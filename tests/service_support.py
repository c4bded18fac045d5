"""Helpers of the service tests: a demo service on a fixed start time, real bound cards.

Nothing is mocked: the demo PKI is real (made in the test's folder), bound cards are issued by
the service's own issuer to a real device key (``ecard.holder``), presentations are signed by
that key, and the replay cache is the service's SQLite file.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from tests.conftest import T0

from ecard.card import Card
from ecard.holder.keys import SoftwareDeviceKey
from ecard.holder.wallet import HolderClock, Presenter, enrolment_request
from ecard.service.app import create_app
from ecard.service.config import CounterConfig, Limits, ServiceConfig
from ecard.service.context import ServiceContext, build_context, running_clock
from ecard.signing.binding import issue_profiles, new_nonce

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


def make_context(
    folder: Path, *, counter: dict[str, Any] | None = None, limits: dict[str, Any] | None = None
) -> ServiceContext:
    """A demo service in ``folder`` whose clock starts at T0."""
    config = ServiceConfig(
        data_dir=folder,
        counter=replace(CounterConfig(), **(counter or {})),
        limits=replace(Limits(), **(limits or {})),
    )
    return build_context(config, clock=running_clock(T0))


def make_app(folder: Path, **kw: Any) -> tuple[ServiceContext, Any]:
    """The context and its application."""
    ctx = make_context(folder, **kw)
    return ctx, create_app(ctx)


def bound_presenter(ctx: ServiceContext, card: Card, profile: str = "counter") -> Presenter:
    """A presenter of ``card`` issued by the service, bound to a fresh device key."""
    device = SoftwareDeviceKey.generate()
    nonce = new_nonce()
    issued = issue_profiles(
        ctx.registry.issuer, card, {profile: (enrolment_request(device, nonce), nonce)}
    )
    return Presenter(issued[profile].text, device, HolderClock.synced(ctx.clock()))


def plain_card(ctx: ServiceContext, card: Card) -> str:
    """An unbound ``EC1:`` card issued by the service."""
    return ctx.registry.issuer.issue(card).text
