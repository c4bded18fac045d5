"""Helpers of the service tests: a demo service on a fixed start time, real bound cards.

Nothing is mocked: the demo PKI is real (made in the test's folder), bound cards are issued by
the service's own issuer to a real device key (``ecard.holder``), presentations are signed by
that key, and the replay cache is the service's SQLite file.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from tests.conftest import T0

from ecard.card import Card
from ecard.holder.keys import SoftwareDeviceKey
from ecard.holder.wallet import HolderClock, Presenter, enrolment_request
from ecard.service.app import create_app
from ecard.service.config import CounterConfig, Limits, ServiceConfig
from ecard.service.context import ServiceContext, build_context, running_clock
from ecard.signing.binding import issue_profiles, new_nonce


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
