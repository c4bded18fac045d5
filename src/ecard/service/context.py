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
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Final

from sqlalchemy import func, select

from ecard._files import write_atomic
from ecard.crypto.x509 import load_certificate_file
from ecard.errors import BadInputError
from ecard.formats.trustlist import TrustListEntry
from ecard.service.config import ConfigError, ServiceConfig
from ecard.signing.issuer import Issuer
from ecard.signing.keysource import KeyFile, password_from_env
from ecard.signing.pki import (
    CertifiedKey,
    create_document_signer,
    create_list_signer,
    create_root_ca,
)
from ecard.signing.signers import load_private_key_file
from ecard.signing.trustlist import sign_trust_list
from ecard.verify.lists import ListState
from ecard.verify.loading import ListConfig, read_list_file
from ecard.verify.paths import PathValidator
from ecard.verify.policy import ANY_PROFILE, MINIMUM_SCOPE, Policy
from ecard.verify.replay import ReplayCache
from ecard.verify.revocation import RevocationList
from ecard.verify.trust import TrustStore
from ecard.verify.verifier import Verifier
from ecard.workflow.ports import FixedLiveness, LocalOutbox
from ecard.workflow.steps import Registry, Settings
from ecard.workflow.store import RevocationRow, Store

if TYPE_CHECKING:
    from ecard.service.accounts import AccountStore

#: The organisation every demo certificate names.
DEMO_ORG: Final = "ecard demo (not a real issuer)"


def running_clock(start: datetime) -> Callable[[], datetime]:
    """A clock that starts at ``start`` and advances with the monotonic clock (for tests and
    as-of demos; never set back by the wall clock)."""
    origin = time.monotonic()

    def now() -> datetime:
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


class CounterLists:
    """The counter's revocation list, reloaded when it changes (a new list published by the
    registry, or a new file dropped in place: never an older one than accepted before, which
    is ``LIST_ROLLBACK``), and the verifiers per purpose over it, all sharing the replay cache
    file (several uvicorn workers accept a presentation once)."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx
        self._lock = threading.Lock()
        self._seen: object = None
        self._list: RevocationList | None = None
        self._verifiers: dict[str, Verifier] = {}
        self._cache: ReplayCache | None = None

    def _validator(self) -> PathValidator:
        return PathValidator(
            list(self._ctx.list_roots),  # type: ignore[arg-type]
            revocation="off",
            clock=self._ctx.clock,
        )

    def revocations(self) -> RevocationList | None:
        """The current revocation list (``None`` before the first one is published)."""
        ctx = self._ctx
        path = ctx.config.counter.revocation_list
        if path is not None:
            try:
                st = path.stat()
            except OSError:
                raise BadInputError("the counter's revocation list file cannot be read") from None
            mark: object = (st.st_mtime_ns, st.st_size)
            if mark == self._seen:
                return self._list
            data: bytes | None = read_list_file(path)
        else:
            # one small query per scan (the latest sequence); the list itself, which may be
            # megabytes, is read and parsed only when a new one was published
            with ctx.registry.store.session() as session:
                latest = session.scalar(select(func.max(RevocationRow.sequence)))
            if latest is None or latest == self._seen:
                return self._list
            data = ctx.registry.revocation_list()
            mark = latest
        with self._lock:
            if mark != self._seen:
                # a list file dropped in place is held to the sequence already accepted here
                # (a state file in the data folder): an older copy is LIST_ROLLBACK
                state = None if path is None else ListState(ctx.config.data_dir / "list-state.json")
                self._list = (
                    None
                    if data is None
                    else RevocationList.load(data, validator=self._validator(), state=state)
                )
                self._seen = mark
            return self._list

    def replay_cache(self) -> ReplayCache:
        """The one replay cache (the shared file) of this process."""
        with self._lock:
            if self._cache is None:
                self._cache = ReplayCache(self._ctx.replay_cache_path)
            return self._cache

    def verifier(self, purpose: str | None = None) -> Verifier:
        """The counter's verifier for ``purpose`` (``None``: every purpose served), over the
        current lists."""
        key = purpose or ""
        lists = self.revocations()
        verifier = self._verifiers.get(key)
        if verifier is None:
            with self._lock:
                verifier = self._verifiers.get(key)
                if verifier is None:
                    verifier = Verifier(
                        self._ctx.trust,
                        self._ctx.counter_policy(purpose),
                        revocations=lists,
                        replay_cache=self._cache_unlocked(),
                    )
                    self._verifiers[key] = verifier
        if verifier.revocations is not lists and lists is not None:
            verifier.update(revocations=lists)
        return verifier

    def _cache_unlocked(self) -> ReplayCache:
        if self._cache is None:
            self._cache = ReplayCache(self._ctx.replay_cache_path)
        return self._cache


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
    #: The counter's lists and verifiers (made by :func:`build_context`).
    counter: CounterLists = field(init=False, repr=False)
    _trust_list: tuple[datetime, bytes] | None = field(default=None, init=False, repr=False)
    #: The service's account store, opened once by :func:`ecard.service.auth.accounts_for`
    #: (under :attr:`accounts_lock`).
    accounts: AccountStore | None = field(default=None, init=False, repr=False)
    #: Guards the first opening of :attr:`accounts`.
    accounts_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        self.counter = CounterLists(self)

    def counter_policy(self, purpose: str | None = None) -> Policy:
        """The counter's policy on the service clock: binding required (unless configured
        off), minimum scope, the configured purposes (or just ``purpose``, which must be one
        of them: ``PURPOSE_NOT_SERVED`` otherwise, as a :class:`ValueError`)."""
        c = self.config.counter
        if purpose is not None and purpose not in c.purposes:
            raise ValueError(purpose)
        return Policy(
            clock=self.clock,
            require_binding=c.require_binding,
            purposes=frozenset({purpose}) if purpose else c.purposes,
            profiles=dict(MINIMUM_SCOPE if c.minimum_scope else ANY_PROFILE),
            presentation_max_age=timedelta(seconds=c.presentation_max_age),
            presentation_max_ahead=timedelta(seconds=c.presentation_max_ahead),
        )

    def verifier(self, policy: Policy | None = None) -> Verifier:
        """A verifier over the current trust and revocation lists and the shared replay
        cache, with ``policy`` (default: the counter's, on the service clock)."""
        if policy is None:
            return self.counter.verifier()
        return Verifier(
            self.trust,
            policy,
            revocations=self.counter.revocations(),
            replay_cache=self.counter.replay_cache(),
        )

    def trust_list(self) -> bytes | None:
        """The signed trust list this service publishes: the configured counter trust list
        file, or (demo) one naming the demo document signer, signed by the demo list signer
        and re-signed a day before it goes stale; ``None`` when there is none."""
        path = self.config.counter.trust_list
        if path is not None:
            return read_list_file(path)
        if self.demo is None:
            return None
        now = self.clock()
        cached = self._trust_list
        if cached is not None and cached[0] - timedelta(days=1) > now:
            return cached[1]
        signer = self.demo.list_signer
        next_update = now + timedelta(days=7)
        data = sign_trust_list(
            [TrustListEntry(self.demo.signer.certificate, chain=(self.demo.root.certificate,))],
            sequence=int(now.timestamp()),
            issued_at=now,
            next_update=next_update,
            signer=signer.signer(),
            certificate=signer.certificate,
            chain=signer.chain,
        )
        self._trust_list = (next_update, data)
        return data


def _production(
    config: ServiceConfig, clock: Callable[[], datetime]
) -> tuple[Issuer, CertifiedKey, TrustStore, tuple[object, ...]]:
    """The issuer, list signer, counter trust and list roots a deployment names."""
    assert config.issuer is not None and config.list_signer is not None
    issuer_cert = load_certificate_file(config.issuer.certificate)[0]
    issuer = Issuer(config.issuer.source.open(), issuer_cert, clock=clock)
    ls = config.list_signer
    assert isinstance(ls.source, KeyFile)
    lister = CertifiedKey(
        load_private_key_file(ls.source.path, password=password_from_env(ls.source.password_env)),
        load_certificate_file(ls.certificate)[0],
        tuple(c for p in ls.chain for c in load_certificate_file(p)),
    )
    c = config.counter
    roots: tuple[object, ...] = tuple(x for p in c.roots for x in load_certificate_file(p))
    if not roots and lister.chain:
        roots = (lister.chain[-1],)
    if not roots:
        raise ConfigError(
            "counter.roots", "the root of the list signer is needed", "须给出名单签名者的根证书"
        )
    if c.trust or c.trust_list:
        loaded = ListConfig(
            trust=tuple(map(str, c.trust)),
            trust_list=None if c.trust_list is None else str(c.trust_list),
            roots=tuple(map(str, c.roots)),
            now=clock(),
        ).load()
        assert loaded.trust is not None
        trust = loaded.trust
    else:
        trust = TrustStore([issuer_cert])
    return issuer, lister, trust, roots


def build_context(
    config: ServiceConfig,
    *,
    clock: Callable[[], datetime] | None = None,
    sms: LocalOutbox | None = None,
) -> ServiceContext:
    """The library objects for ``config``; ``clock`` defaults to the wall clock.

    Demo mode makes (once) and reloads the demo PKI and keys in the data folder; a deployment
    opens its issuer key (file or PKCS#11), list signer and counter lists, and reads the
    pseudonym and photo keys from their environment variables. A bad configuration is a
    :class:`~ecard.service.config.ConfigError`; a bad key or certificate the library's typed
    error. ``sms`` is the one-time-code gateway (default: the local outbox).
    """
    clock = clock or wall_clock
    folder = config.data_dir
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError("data_dir", f"cannot be created ({exc.strerror})", "无法创建") from None
    outbox = sms or LocalOutbox(clock=clock)
    pki: DemoPki | None = None
    if config.demo:
        pki = demo_pki(folder / "demo-pki", clock())
        issuer = Issuer(pki.signer.signer(), pki.signer.certificate, clock=clock)
        lister = pki.list_signer
        trust = TrustStore([pki.signer.certificate])
        roots: tuple[object, ...] = (pki.root.certificate,)
        pseudonym, photo = _secret(folder, "pseudonym.key", 32), _secret(folder, "photo.key", 32)
    else:
        issuer, lister, trust, roots = _production(config, clock)
        pseudonym, photo = config.secret("pseudonym"), config.secret("photo")
    registry = Registry(
        Store(config.database_url),
        issuer=issuer,
        list_signer=lister,
        pseudonym_key=pseudonym,
        sms=outbox,
        liveness=FixedLiveness(),
        clock=clock,
        photo_key=photo,
        # the counter refuses bearer codes, so the workflow signs credentials only at the
        # holder's enrolment (bound to the device keys), never a bearer one at issuance
        settings=Settings(require_binding=config.counter.require_binding),
    )
    return ServiceContext(
        config=config,
        registry=registry,
        outbox=outbox,
        clock=clock,
        trust=trust,
        list_roots=roots,
        replay_cache_path=folder / "replay-cache.sqlite",
        demo=pki,
    )


__all__ = [
    "DEMO_ORG",
    "CounterLists",
    "DemoPki",
    "ServiceContext",
    "build_context",
    "demo_pki",
    "running_clock",
    "wall_clock",
]
