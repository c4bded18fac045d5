"""What the workflow tests share: a movable clock, a registry on a real store with real keys,
and the online path in one call."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from tests.conftest import T0

from ecard.signing.issuer import Issuer
from ecard.signing.pki import CertifiedKey
from ecard.verify.paths import PathValidator
from ecard.verify.policy import Policy
from ecard.verify.revocation import RevocationList
from ecard.verify.trust import TrustStore
from ecard.verify.verifier import Verifier
from ecard.workflow.ports import FixedLiveness, LocalOutbox
from ecard.workflow.steps import CONSENT_PERSONAL, CONSENT_PHOTO, Registry, Settings
from ecard.workflow.store import Store

KEY = b"workflow-test-pseudonym-key-0123"
PHOTO_KEY = bytes(range(32))
RESIDENT = "11010519491231002X"
PHONE = "13800138000"
CONSENTS = (CONSENT_PERSONAL, CONSENT_PHOTO)


@dataclass
class Clock:
    now: dt.datetime = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += dt.timedelta(**kw)


@dataclass
class World:
    registry: Registry
    outbox: LocalOutbox
    clock: Clock
    root: CertifiedKey
    ds: CertifiedKey
    liveness: FixedLiveness = field(default_factory=FixedLiveness)

    def verifier(self) -> Verifier:
        data = self.registry.revocation_list()
        lists = (
            None
            if data is None
            else RevocationList.load(
                data, validator=PathValidator([self.root.certificate], revocation="off")
            )
        )
        return Verifier(
            TrustStore([self.ds.certificate]), Policy(clock=self.clock), revocations=lists
        )

    def apply_online(self, number: str = RESIDENT, *, region: str = "110105") -> str:
        reg = self.registry
        app = reg.submit(
            channel="online",
            document_type=1,
            document_number=number,
            name="张三丰",
            phone=PHONE,
            region=region,
            actor="account:42",
            consents=CONSENTS,
        )
        reg.send_code(app)
        reg.check_code(app, self.outbox.last_code(app))
        reg.record_liveness(app, b"liveness evidence")
        reg.review_online(app)
        return app


def make_world(
    url: str,
    root: CertifiedKey,
    ds: CertifiedKey,
    list_signer: CertifiedKey,
    settings: Settings | None = None,
    photo_key: bytes | None = PHOTO_KEY,
) -> World:
    clock = Clock()
    outbox = LocalOutbox(clock=clock)
    liveness = FixedLiveness()
    registry = Registry(
        Store(url),
        issuer=Issuer(ds.signer(), ds.certificate, clock=clock),
        list_signer=list_signer,
        pseudonym_key=KEY,
        sms=outbox,
        liveness=liveness,
        clock=clock,
        settings=settings,
        photo_key=photo_key,
    )
    return World(registry, outbox, clock, root, ds, liveness)
