"""Hypothesis stateful testing over the whole card lifecycle, on a real SQLite store with real
keys and signed revocation lists, device enrolment included. Invariants after every step: at
most one active card per person and region; a credential (bearer, or bound and presented by
its device) verifies only while its card is normal and no later enrolment superseded it (and
is REVOKED by the signed list otherwise); every status change is in the event log; the event
log is one intact chain."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import func, select
from tests.conftest import T0
from tests.workflow_support import make_world

from ecard.errors import ErrorCode
from ecard.formats.credential import IssuedCard
from ecard.holder.keys import SoftwareDeviceKey
from ecard.holder.wallet import HolderClock, Presenter, enrolment_request
from ecard.signing.pki import create_document_signer, create_list_signer, create_root_ca
from ecard.verify.paths import PathValidator
from ecard.verify.policy import Policy
from ecard.verify.revocation import RevocationList
from ecard.verify.trust import TrustStore
from ecard.verify.verifier import Verifier
from ecard.workflow.errors import WorkflowCode, WorkflowError
from ecard.workflow.lifecycle import ACTIVE_STATES, TRANSITIONS, CardEvent, CardState
from ecard.workflow.store import CardRow, EventRow

NB = T0 - dt.timedelta(days=30)
ROOT = create_root_ca("Stateful Root", not_before=NB)
DS = create_document_signer(ROOT, "Stateful Signer", not_before=NB)
LS = create_list_signer(ROOT, "Stateful List Signer", not_before=NB)


def _with_check(first17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return (
        first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights, strict=True)) % 11]
    )


PEOPLE = [_with_check("11010519491231002"), _with_check("11010519800101001")]
PIN = "138205"
EVENTS = [e for e in CardEvent if e not in (CardEvent.ACTIVATE, CardEvent.REPLACE)]


class Lifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.TemporaryDirectory()
        self.world = make_world(f"sqlite:///{Path(self.dir.name) / 's.db'}", ROOT, DS, LS)
        self.credentials: dict[str, IssuedCard] = {}
        self.bound: dict[str, list[tuple[IssuedCard, SoftwareDeviceKey]]] = {}
        self.superseded: list[tuple[IssuedCard, SoftwareDeviceKey | None]] = []
        self.changes = 0

    def teardown(self) -> None:
        self.world.registry.store.close()
        self.dir.cleanup()

    @rule(person=st.sampled_from(PEOPLE))
    def apply_and_issue(self, person: str) -> None:
        app = self.world.apply_online(person)
        try:
            issued = self.world.registry.issue(app, actor="clerk:1")
        except WorkflowError as exc:
            assert exc.workflow_code is WorkflowCode.ACTIVE_CARD_EXISTS
            return
        assert issued is not None
        self.credentials[issued.card.card_number] = issued

    @precondition(lambda self: self.credentials)
    @rule(data=st.data(), event=st.sampled_from(EVENTS))
    def change(self, data: st.DataObject, event: CardEvent) -> None:
        number = data.draw(st.sampled_from(sorted(self.credentials)))
        before = self.world.registry.card_state(number)
        try:
            after = self.world.registry.change(number, event, actor="clerk:2", reason="test")
        except WorkflowError as exc:
            assert exc.workflow_code is WorkflowCode.TRANSITION_REFUSED
            assert (before, event) not in TRANSITIONS
            return
        assert after is TRANSITIONS[before, event]
        self.changes += 1

    @precondition(lambda self: self.credentials)
    @rule(data=st.data())
    def replace(self, data: st.DataObject) -> None:
        number = data.draw(st.sampled_from(sorted(self.credentials)))
        before = self.world.registry.card_state(number)
        try:
            new = self.world.registry.replace(number, actor="clerk:2", reason="damaged")
        except WorkflowError as exc:
            assert exc.workflow_code is WorkflowCode.TRANSITION_REFUSED
            assert (before, CardEvent.REPLACE) not in TRANSITIONS
            return
        self.credentials[new.card.card_number] = new
        self.changes += 1

    @precondition(lambda self: self.credentials)
    @rule(data=st.data())
    def enrol(self, data: st.DataObject) -> None:
        reg = self.world.registry
        number = data.draw(st.sampled_from(sorted(self.credentials)))
        reg.set_pin(number, PIN)
        self.world.clock.advance(seconds=61)
        try:
            reg.send_card_code(number)
        except WorkflowError as exc:
            assert exc.workflow_code is WorkflowCode.DAILY_CAP
            return
        with reg.store.session() as s:
            app = s.get_one(CardRow, number).application_id
        code = self.world.outbox.last_code(app)
        try:
            nonces = reg.enrolment_challenge(number, code, PIN)
        except WorkflowError as exc:
            assert exc.workflow_code is WorkflowCode.ENROL_CARD_NOT_NORMAL
            assert reg.card_state(number) is not CardState.NORMAL
            return
        keys = {p: SoftwareDeviceKey.generate("ES256") for p in nonces}
        requests = {p: enrolment_request(keys[p], n) for p, n in nonces.items()}
        issued = reg.enrol_device(number, requests)
        bearer = self.credentials[number]
        if all(bearer is not old for old, _ in self.superseded):
            self.superseded.append((bearer, None))
        self.superseded += self.bound.get(number, [])
        self.bound[number] = [(issued[p], keys[p]) for p in sorted(issued)]

    @rule()
    def time_passes(self) -> None:
        self.world.clock.advance(days=4)
        self.changes += self.world.registry.lapse_temporary_losses()
        self.world.registry.refresh_revocation_list()

    @invariant()
    def one_active_card_per_person_and_region(self) -> None:
        with self.world.registry.store.session() as s:
            counts = s.execute(
                select(CardRow.subject, CardRow.region, func.count())
                .where(CardRow.state.in_([a.value for a in ACTIVE_STATES]))
                .group_by(CardRow.subject, CardRow.region)
            ).all()
        assert all(n <= 1 for _, _, n in counts)

    @invariant()
    def a_credential_verifies_only_while_its_card_is_normal(self) -> None:
        verifier = self.world.verifier()
        gone = {old.cti for old, _ in self.superseded}
        for number, issued in self.credentials.items():
            state = self.world.registry.card_state(number)
            code = verifier.verify(issued.text).code
            live = state is CardState.NORMAL and issued.cti not in gone
            assert code is (ErrorCode.OK if live else ErrorCode.REVOKED)

    @invariant()
    def a_bound_credential_verifies_only_while_its_card_is_normal(self) -> None:
        counter = self.counter()
        for number, credentials in self.bound.items():
            state = self.world.registry.card_state(number)
            for issued, key in credentials:
                code = counter.verify(self.present(issued, key)).code
                assert code is (ErrorCode.OK if state is CardState.NORMAL else ErrorCode.REVOKED)
        for issued, key in self.superseded:  # a previous phone: listed for good
            shown = issued.text if key is None else self.present(issued, key)
            verifier = self.world.verifier() if key is None else counter
            assert verifier.verify(shown).code is ErrorCode.REVOKED

    def counter(self) -> Verifier:
        data = self.world.registry.revocation_list()
        lists = (
            None
            if data is None
            else RevocationList.load(
                data, validator=PathValidator([ROOT.certificate], revocation="off")
            )
        )
        policy = Policy(clock=self.world.clock, require_binding=True)
        return Verifier(TrustStore([DS.certificate]), policy, revocations=lists)

    def present(self, issued: IssuedCard, key: SoftwareDeviceKey) -> str:
        clock = HolderClock(self.world.clock.now.timestamp(), lambda: 0.0)
        return Presenter(issued.text, key, clock).present("identity")

    @invariant()
    def every_status_change_is_in_the_event_log(self) -> None:
        names = [e.value for e in CardEvent]
        with self.world.registry.store.session() as s:
            logged = s.scalar(
                select(func.count()).select_from(EventRow).where(EventRow.action.in_(names))
            )
        assert logged == self.changes

    @invariant()
    def the_event_log_is_one_intact_chain(self) -> None:
        count, _ = self.world.registry.verify_events()
        assert count == len(self.world.registry.events())


Lifecycle.TestCase.settings = settings(
    max_examples=12, stateful_step_count=12, derandomize=True, deadline=None
)
TestLifecycle = Lifecycle.TestCase
