"""The library objects one running service shares: the workflow registry, the counter's
verifier inputs, the outbox, the clock.

:func:`build_context` makes them from a :class:`~ecard.service.config.ServiceConfig`. In demo
mode it creates, once, a demo PKI in the data folder (root CA, document signer, list signer;
every name says DEMO) and reloads it on later starts, so codes issued yesterday still verify.
The clock is injectable: tests run the whole service, browser included, on a fixed start time
that advances with the monotonic clock (the wallet page takes its time from the server).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from ecard._files import write_atomic
from ecard.crypto.x509 import load_certificate_file
from ecard.service.config import ServiceConfig
from ecard.signing.issuer import Issuer
from ecard.signing.pki import (
    CertifiedKey,
    create_document_signer,
    create_list_signer,
    create_root_ca,
)
from ecard.signing.signers import load_private_key_file
from ecard.verify.paths import PathValidator
from ecard.verify.policy import Policy
from ecard.verify.replay import ReplayCache
from ecard.verify.revocation import RevocationList
from ecard.verify.trust import TrustStore
from ecard.verify.verifier import Verifier
from ecard.workflow.ports import FixedLiveness, LocalOutbox
from ecard.workflow.steps import Registry
from ecard.workflow.store import Store

#: The organisation every demo certificate names.
DEMO_ORG: Final = "ecard demo (not a real issuer)"


def running_clock(start: datetime) -> Callable[[], datetime]:
    """A clock that starts at ``start`` and advances with the monotonic clock (for tests and
    as-of demos; never set back by the wall clock)."""
    origin = time.monotonic()

    def now() -> datetime:
        from datetime import timedelta

        return start + timedelta(seconds=time.monotonic() - origin)

    return now


def wall_clock() -> datetime:
    """The current time (UTC)."""
    return datetime.now(UTC)


@dataclass
class DemoPki:
    """The demo issuer's keys: root CA, document signer, list signer."""

    root: CertifiedKey
    signer: CertifiedKey
    list_signer: CertifiedKey


def demo_pki(folder: Path, now: datetime) -> DemoPki:
    """Load the demo PKI from ``folder``, creating it (valid from ``now``) the first time."""
    names = ("root", "signer", "list-signer")
    if all((folder / f"{n}-key.pem").exists() for n in names):
        loaded = [
            CertifiedKey(
                load_private_key_file(folder / f"{n}-key.pem"),
                load_certificate_file(folder / f"{n}-cert.pem")[0],
            )
            for n in names
        ]
        root, signer, lister = loaded
        return DemoPki(
            root,
            CertifiedKey(signer.key, signer.certificate, (root.certificate,)),
            CertifiedKey(lister.key, lister.certificate, (root.certificate,)),
        )
    root = create_root_ca("ecard DEMO Root CA", organization=DEMO_ORG, not_before=now)
    signer = create_document_signer(
        root, "ecard DEMO Document Signer", organization=DEMO_ORG, not_before=now
    )
    lister = create_list_signer(
        root, "ecard DEMO List Signer", organization=DEMO_ORG, not_before=now
    )
    for name, key in zip(names, (root, signer, lister), strict=True):
        write_atomic(folder / f"{name}-cert.pem", key.certificate_pem())
        write_atomic(folder / f"{name}-key.pem", key.key_pem(), private=True)
    return DemoPki(root, signer, lister)


def _secret(folder: Path, name: str, size: int) -> bytes:
    """A random key kept in ``folder`` (demo mode), made on first use."""
    path = folder / name
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    key = os.urandom(size)
    write_atomic(path, key.hex() + "\n", private=True)
    return key


@dataclass
class ServiceContext:
    """What the routers share. Build it with :func:`build_context`."""

    config: ServiceConfig
    registry: Registry
    outbox: LocalOutbox
    clock: Callable[[], datetime]
    #: The trust anchors the counter verifies credentials against (document signers).
    trust: TrustStore
    #: The root the revocation lists are validated under.
    list_roots: tuple[object, ...]
    #: One replay cache file shared by every worker of this service (the counter PC).
    replay_cache_path: Path
    #: The demo PKI when in demo mode, else ``None``.
    demo: DemoPki | None = None

    def verifier(self, policy: Policy | None = None) -> Verifier:
        """A verifier over the current trust and revocation lists and the shared replay
        cache, with ``policy`` (default: the counter's, on the service clock)."""
        data = self.registry.revocation_list()
        lists = (
            None
            if data is None
            else RevocationList.load(
                data,
                validator=PathValidator(list(self.list_roots), revocation="off"),  # type: ignore[arg-type]
            )
        )
        return Verifier(
            self.trust,
            policy or Policy(clock=self.clock),
            revocations=lists,
            replay_cache=ReplayCache(self.replay_cache_path),
        )


def build_context(
    config: ServiceConfig, *, clock: Callable[[], datetime] | None = None
) -> ServiceContext:
    """The library objects for ``config``; ``clock`` defaults to the wall clock."""
    if not config.demo:
        raise NotImplementedError("production configuration: see docs/service.md")
    clock = clock or wall_clock
    folder = config.data_dir
    folder.mkdir(parents=True, exist_ok=True)
    pki = demo_pki(folder / "demo-pki", clock())
    outbox = LocalOutbox(clock=clock)
    registry = Registry(
        Store(config.database_url),
        issuer=Issuer(pki.signer.signer(), pki.signer.certificate, clock=clock),
        list_signer=pki.list_signer,
        pseudonym_key=_secret(folder, "pseudonym.key", 32),
        sms=outbox,
        liveness=FixedLiveness(),
        clock=clock,
        photo_key=_secret(folder, "photo.key", 32),
    )
    return ServiceContext(
        config=config,
        registry=registry,
        outbox=outbox,
        clock=clock,
        trust=TrustStore([pki.signer.certificate]),
        list_roots=(pki.root.certificate,),
        replay_cache_path=folder / "replay-cache.sqlite",
        demo=pki,
    )


__all__ = [
    "DEMO_ORG",
    "DemoPki",
    "ServiceContext",
    "build_context",
    "demo_pki",
    "running_clock",
    "wall_clock",
]
