"""The workflow end to end on a real store (SQLite file), with real keys, a real issuer,
real signed revocation lists read back by the verifier. Nothing is mocked: the SMS gateway and
the liveness service are the local implementations of their ports."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from tests.conftest import T0
from tests.workflow_support import CONSENTS, KEY, PHONE, RESIDENT, World, make_world

from ecard.documents import DocumentExpiredError, TemporaryDocumentExpiredError
from ecard.errors import ErrorCode
from ecard.signing.pki import CertifiedKey, create_list_signer
from ecard.workflow.errors import WORKFLOW_MESSAGES, WorkflowCode, WorkflowError
from ecard.workflow.lifecycle import TRANSITIONS, CardEvent, CardState, next_state
from ecard.workflow.secrets import check_pin_rules, hash_pin, pin_matches
from ecard.workflow.steps import CONSENT_GUARDIAN, Settings
from ecard.workflow.store import ApplicationRow, EventRow


def _with_check(first17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return (
        first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights, strict=True)) % 11]
    )


OTHER = _with_check("11010519800101001")
CHILD = _with_check("11010520180101001")  # 8 years old at T0
TEEN = _with_check("11010520110601002")  # 14 at T0


@pytest.fixture(scope="module")
def list_signer(root: CertifiedKey) -> CertifiedKey:
    return create_list_signer(root, "Workflow List Signer", not_before=T0 - dt.timedelta(days=30))


@pytest.fixture
def world(db_url: str, root: CertifiedKey, ds: CertifiedKey, list_signer: CertifiedKey) -> World:
    """A registry on an empty store: every test taking it runs on SQLite and on PostgreSQL."""
    return make_world(db_url, root, ds, list_signer)


def code_of(err: pytest.ExceptionInfo[WorkflowError]) -> WorkflowCode:
    return err.value.workflow_code


# ------------------------------------------------------------------ end to end


def test_online_end_to_end_loss_revocation_replacement(world: World) -> None:
    reg = world.registry
    app = world.apply_online()
    issued = reg.issue(app, actor="account:42")
    assert issued is not None
    card_number = issued.card.card_number
    assert world.verifier().verify(issued.text).code is ErrorCode.OK

    world.clock.advance(hours=1)
    assert reg.change(card_number, CardEvent.REPORT_LOSS, actor="account:42") is (
        CardState.TEMPORARY_LOSS
    )
    listed = reg.revocation_list()
    assert listed is not None
    assert world.verifier().verify(issued.text).code is ErrorCode.REVOKED

    world.clock.advance(hours=1)
    new = reg.replace(card_number, actor="clerk:7", reason="lost, not found")
    assert reg.card_state(card_number) is CardState.REPLACED
    verifier = world.verifier()
    assert verifier.verify(new.text).code is ErrorCode.OK
    assert verifier.verify(issued.text).code is ErrorCode.REVOKED
    actions = [e.action for e in reg.events(app)]
    assert actions[:6] == ["submit", "send_code", "check_code", "liveness", "review", "issue"]
    assert "report_loss" in actions and "replace" in actions and "issue_replacement" in actions


def test_lifting_a_temporary_loss_takes_the_credential_off_the_list(world: World) -> None:
    reg = world.registry
    issued = reg.issue(world.apply_online(), actor="a")
    assert issued is not None
    number = issued.card.card_number
    reg.change(number, CardEvent.REPORT_LOSS, actor="a")
    assert world.verifier().verify(issued.text).code is ErrorCode.REVOKED
    reg.change(number, CardEvent.LIFT_LOSS, actor="a")
    assert world.verifier().verify(issued.text).code is ErrorCode.OK


def test_temporary_loss_lapses_after_the_configured_days(world: World) -> None:
    reg = world.registry
    issued = reg.issue(world.apply_online(), actor="a")
    assert issued is not None
    reg.change(issued.card.card_number, CardEvent.REPORT_LOSS, actor="a")
    world.clock.advance(days=9)
    assert reg.lapse_temporary_losses() == 0
    world.clock.advance(days=1)
    assert reg.lapse_temporary_losses() == 1
    assert reg.card_state(issued.card.card_number) is CardState.NORMAL
    assert world.verifier().verify(issued.text).code is ErrorCode.OK
    with pytest.raises(ValueError, match=r"5\.\.15"):
        Settings(temporary_loss_days=4)


def test_window_channel_review_rules(world: World) -> None:
    reg = world.registry
    app = reg.submit(
        channel="window",
        document_type="resident_id",
        document_number=RESIDENT,
        name="张三丰",
        phone=PHONE,
        region="110105",
        actor="clerk:1",
        consents=["personal_information"],
    )
    with pytest.raises(WorkflowError) as err:
        reg.review(app, reviewer="clerk:1", approve=True)
    assert code_of(err) is WorkflowCode.OWN_CASE
    with pytest.raises(WorkflowError) as err:
        reg.review(app, reviewer="clerk:2", approve=False, reason="  ")
    assert code_of(err) is WorkflowCode.REASON_REQUIRED
    with pytest.raises(WorkflowError) as err:
        reg.review_online(app)
    assert code_of(err) is WorkflowCode.WRONG_STEP
    reg.review(app, reviewer="clerk:2", approve=True)
    with pytest.raises(WorkflowError) as err:
        reg.review(app, reviewer="clerk:3", approve=False, reason="late")
    assert code_of(err) is WorkflowCode.WRONG_STEP
    assert reg.issue(app, actor="clerk:1", sealed=True) is None
    with reg.store.session() as s:
        number = s.get(ApplicationRow, app).card_number  # type: ignore[union-attr]
    assert number is not None and reg.card_state(number) is CardState.SEALED
    issued = reg.activate(number, actor="clerk:1")
    assert world.verifier().verify(issued.text).code is ErrorCode.OK


def test_online_review_needs_code_and_liveness(world: World) -> None:
    reg = world.registry
    app = reg.submit(
        channel="online", document_type=1, document_number=RESIDENT, name="张三丰",
        phone=PHONE, region="110105", actor="account:1", consents=CONSENTS,
    )  # fmt: skip
    with pytest.raises(WorkflowError) as err:
        reg.review_online(app)
    assert code_of(err) is WorkflowCode.WRONG_STEP
    world.liveness.passed = False
    with pytest.raises(WorkflowError) as err:
        reg.record_liveness(app, b"x")
    assert code_of(err) is WorkflowCode.LIVENESS_FAILED
    with pytest.raises(WorkflowError) as err:
        reg.issue(app, actor="x")
    assert code_of(err) is WorkflowCode.WRONG_STEP


def test_a_second_active_card_is_refused(world: World) -> None:
    reg = world.registry
    reg.issue(world.apply_online(), actor="a")
    second = world.apply_online()
    with pytest.raises(WorkflowError) as err:
        reg.issue(second, actor="a")
    assert code_of(err) is WorkflowCode.ACTIVE_CARD_EXISTS
    other_region = world.apply_online(region="310115")
    assert reg.issue(other_region, actor="a") is not None


# ------------------------------------------------------------------ submit refusals


def _submit(world: World, **kw: object) -> str:
    args: dict[str, object] = {
        "channel": "online", "document_type": 1, "document_number": RESIDENT, "name": "张三丰",
        "phone": PHONE, "region": "110105", "actor": "account:1", "consents": CONSENTS,
    }  # fmt: skip
    args.update(kw)
    return world.registry.submit(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"name": "张三1"}, WorkflowCode.NAME_INVALID),
        ({"name": "张\x07三"}, WorkflowCode.NAME_INVALID),
        ({"name": "张" * 41}, WorkflowCode.NAME_INVALID),
        ({"phone": "01012345678"}, WorkflowCode.PHONE_INVALID),
        ({"phone": "+85291234567"}, WorkflowCode.PHONE_INVALID),
        ({"phone": "1380013800"}, WorkflowCode.PHONE_INVALID),
        ({"phone": "not a number"}, WorkflowCode.PHONE_INVALID),
        ({"consents": ["personal_information"]}, WorkflowCode.CONSENT_REQUIRED),
        ({"document_number": CHILD}, WorkflowCode.GUARDIAN_REQUIRED),
        (
            {"document_number": CHILD, "relation": "guardian", "applicant_document": (1, OTHER)},
            WorkflowCode.GUARDIAN_REQUIRED,
        ),
        (
            {
                "document_number": CHILD,
                "relation": "guardian",
                "applicant_document": (1, OTHER),
                "proof_of_relationship": True,
            },
            WorkflowCode.CONSENT_REQUIRED,
        ),
    ],
)
def test_submit_refusals(world: World, kw: dict[str, object], code: WorkflowCode) -> None:
    with pytest.raises(WorkflowError) as err:
        _submit(world, **kw)
    assert code_of(err) is code
    assert err.value.code is ErrorCode.BAD_INPUT
    for text in (str(err.value), err.value.message("zh")):
        assert RESIDENT not in text and CHILD not in text and "张三" not in text


def test_guardian_applies_for_a_child(world: World) -> None:
    app = _submit(
        world,
        document_number=CHILD,
        relation="guardian",
        applicant_document=(1, OTHER),
        proof_of_relationship=True,
        consents=[*CONSENTS, CONSENT_GUARDIAN],
    )
    assert app
    # 14-15: a guardian, but no guardian consent needed
    _submit(world, document_number=TEEN, relation="guardian", applicant_document=(1, OTHER),
            proof_of_relationship=True)  # fmt: skip


def test_family_service_limit(
    db_url: str, root: CertifiedKey, ds: CertifiedKey, list_signer: CertifiedKey
) -> None:
    world = make_world(db_url, root, ds, list_signer, Settings(family_limit=1))
    _submit(world, relation="family", applicant_document=(1, OTHER))
    _submit(world, relation="family", applicant_document=(1, OTHER))  # same relative again
    with pytest.raises(WorkflowError) as err:
        _submit(world, document_number=TEEN, relation="guardian", applicant_document=(1, OTHER),
                proof_of_relationship=True)  # fmt: skip
        _submit(world, document_number=_with_check("11010519900101003"), relation="family",
                applicant_document=(1, OTHER))  # fmt: skip
    assert code_of(err) is WorkflowCode.FAMILY_LIMIT


def test_documents_not_in_force(world: World) -> None:
    with pytest.raises(TemporaryDocumentExpiredError):
        _submit(world, document_type=2, document_issued=dt.date(2025, 11, 1))
    with pytest.raises(DocumentExpiredError):
        _submit(world, document_type=9, document_number="E12345678",
                document_expires=dt.date(2026, 2, 1), birth_date=dt.date(1990, 1, 1))  # fmt: skip
    app = _submit(world, document_type=9, document_number="E12345678",
                  birth_date=dt.date(1990, 1, 1), name="Anna Müller")  # fmt: skip
    world.registry.send_code(app)
    world.registry.check_code(app, world.outbox.last_code(app))
    world.registry.record_liveness(app, b"x")
    world.registry.review_online(app)
    issued = world.registry.issue(app, actor="a")
    assert issued is not None and world.verifier().verify(issued.text).code is ErrorCode.OK


# ------------------------------------------------------------------ one-time codes


def test_code_rules(world: World) -> None:
    reg = world.registry
    app = _submit(world)
    reg.send_code(app)
    with pytest.raises(WorkflowError) as err:
        reg.send_code(app)
    assert code_of(err) is WorkflowCode.RESEND_TOO_SOON
    code = world.outbox.last_code(app)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for bad in ("12345", "1234567", "12a456", "１２３４５６"):
        with pytest.raises(WorkflowError) as err:
            reg.check_code(app, bad)
        assert code_of(err) is WorkflowCode.CODE_FORMAT
    for _ in range(5):
        with pytest.raises(WorkflowError) as err:
            reg.check_code(app, wrong)
        assert code_of(err) is WorkflowCode.CODE_WRONG
    with pytest.raises(WorkflowError) as err:
        reg.check_code(app, code)  # right, but too late: 5 tries are used up
    assert code_of(err) is WorkflowCode.CODE_TRIES_EXCEEDED
    world.clock.advance(seconds=61)
    reg.send_code(app)
    code = world.outbox.last_code(app)
    world.clock.advance(minutes=5, seconds=1)
    with pytest.raises(WorkflowError) as err:
        reg.check_code(app, code)
    assert code_of(err) is WorkflowCode.CODE_EXPIRED
    reg.send_code(app)
    code = world.outbox.last_code(app)
    reg.check_code(app, code)
    with pytest.raises(WorkflowError) as err:
        reg.check_code(app, code)
    assert code_of(err) is WorkflowCode.CODE_USED
    assert all(len(m.code) == 6 and m.code.isdigit() for m in world.outbox.messages)
    with reg.store.session() as s:  # only the HMAC is stored
        assert code not in repr([(e.detail, e.action) for e in s.query(EventRow)])


def test_daily_cap(world: World) -> None:
    reg = world.registry
    app = _submit(world)
    for _ in range(10):
        reg.send_code(app)
        world.clock.advance(seconds=61)
    with pytest.raises(WorkflowError) as err:
        reg.send_code(app)
    assert code_of(err) is WorkflowCode.DAILY_CAP
    world.clock.advance(days=1)
    reg.send_code(app)


# ------------------------------------------------------------------ PIN and query


@pytest.mark.parametrize("pin", ["123456", "987654", "111111", "12345", "12345a", "105194"])
def test_weak_pins(pin: str) -> None:
    with pytest.raises(WorkflowError) as err:
        check_pin_rules(pin, RESIDENT)
    assert code_of(err) is WorkflowCode.PIN_WEAK


def test_pin_hash() -> None:
    stored = hash_pin("730152")
    assert stored.startswith("scrypt$") and "730152" not in stored
    assert pin_matches("730152", stored) and not pin_matches("730153", stored)
    assert stored != hash_pin("730152")  # salted


def test_query_with_code_and_pin_locks_after_six_failures(world: World) -> None:
    reg = world.registry
    app = world.apply_online()
    issued = reg.issue(app, actor="a")
    assert issued is not None
    number = issued.card.card_number
    reg.set_pin(number, "730152")
    world.clock.advance(seconds=61)
    reg.send_code(app)
    view = reg.query(number, world.outbox.last_code(app), "730152")
    assert view.state is CardState.NORMAL and RESIDENT not in repr(view)
    for i in range(6):
        world.clock.advance(seconds=61)
        reg.send_code(app)
        with pytest.raises(WorkflowError) as err:
            reg.query(number, world.outbox.last_code(app), "000999")
        assert code_of(err) is (WorkflowCode.PIN_LOCKED if i == 5 else WorkflowCode.PIN_WRONG)
    world.clock.advance(seconds=61)
    reg.send_code(app)
    with pytest.raises(WorkflowError) as err:
        reg.query(number, world.outbox.last_code(app), "730152")
    assert code_of(err) is WorkflowCode.PIN_LOCKED
    with pytest.raises(WorkflowError) as err:
        reg.query(number, "000000", "730152")
    assert code_of(err) is WorkflowCode.PIN_LOCKED


# ------------------------------------------------------------------ lifecycle


@pytest.mark.parametrize(("state", "event"), list(itertools.product(CardState, CardEvent)))
def test_transition_table(state: CardState, event: CardEvent) -> None:
    if (state, event) in TRANSITIONS:
        assert next_state(state, event) is TRANSITIONS[state, event]
    else:
        with pytest.raises(WorkflowError) as err:
            next_state(state, event)
        assert code_of(err) is WorkflowCode.TRANSITION_REFUSED


def test_refused_changes_through_the_registry(world: World) -> None:
    reg = world.registry
    issued = reg.issue(world.apply_online(), actor="a")
    assert issued is not None
    number = issued.card.card_number
    with pytest.raises(WorkflowError) as err:
        reg.replace(number, actor="c", reason=" ")
    assert code_of(err) is WorkflowCode.REASON_REQUIRED
    with pytest.raises(WorkflowError) as err:
        reg.change(number, CardEvent.CANCEL, actor="c")
    assert code_of(err) is WorkflowCode.REASON_REQUIRED
    reg.change(number, CardEvent.FORMAL_LOSS, actor="clerk:1")
    with pytest.raises(WorkflowError) as err:
        reg.change(number, CardEvent.LIFT_LOSS, actor="a")
    assert code_of(err) is WorkflowCode.TRANSITION_REFUSED
    reg.change(number, CardEvent.CANCEL, actor="clerk:1", reason="emigrated")
    with pytest.raises(WorkflowError) as err:
        reg.change(number, CardEvent.REPORT_LOSS, actor="a")
    assert code_of(err) is WorkflowCode.TRANSITION_REFUSED
    assert world.verifier().verify(issued.text).code is ErrorCode.REVOKED


def test_every_code_has_both_messages() -> None:
    assert set(WORKFLOW_MESSAGES) == set(WorkflowCode)
    for en, zh in WORKFLOW_MESSAGES.values():
        assert en.isascii() and not zh.isascii()


def test_events_carry_no_personal_data(world: World) -> None:
    reg = world.registry
    issued = reg.issue(world.apply_online(), actor="a")
    assert issued is not None
    reg.change(issued.card.card_number, CardEvent.REPORT_LOSS, actor="a")
    events = reg.events()
    assert [e.action for e in events][-2:] == ["issue", "report_loss"] and len(events) == 7
    dump = repr([vars(e) for e in events])
    assert RESIDENT not in dump and "张三丰" not in dump and PHONE not in dump
    assert all(e.subject and len(e.subject) == 64 for e in events)


# ------------------------------------------------------------------ concurrency and crashes


def test_two_clerks_approving_at_once(world: World) -> None:
    reg = world.registry
    app = _submit(world, channel="window", actor="clerk:1")
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def decide(clerk: str) -> None:
        barrier.wait()
        try:
            reg.review(app, reviewer=clerk, approve=True)
            outcomes.append("ok")
        except WorkflowError as exc:
            outcomes.append(exc.workflow_code)

    threads = [threading.Thread(target=decide, args=(f"clerk:{i}",)) for i in (2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == 2 and outcomes.count("ok") == 1
    assert set(outcomes) - {"ok"} <= {WorkflowCode.CONFLICT, WorkflowCode.WRONG_STEP}


def test_optimistic_version_refuses_the_slower_writer(world: World) -> None:
    store = world.registry.store
    app = _submit(world)
    first, second = store.session(), store.session()
    a = first.get(ApplicationRow, app)
    b = second.get(ApplicationRow, app)
    assert a is not None and b is not None
    a.state, b.state = "approved", "rejected"
    first.commit()
    from sqlalchemy.orm.exc import StaleDataError

    with pytest.raises(StaleDataError):
        second.commit()
    first.close(), second.close()
    with store.session() as s:
        assert s.get(ApplicationRow, app).state == "approved"  # type: ignore[union-attr]


CRASH = """
import os, signal, sys
from ecard.workflow.store import Store, ApplicationRow, EventRow
store = Store(sys.argv[1])
with store.transaction() as s:
    row = s.get(ApplicationRow, sys.argv[2])
    row.state = "approved"
    s.flush()
    s.add(EventRow(at=0, actor="x", action="review", application_id=row.id))
    s.flush()
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_step_leaves_the_store_consistent(world: World, db_url: str) -> None:
    app = _submit(world)
    before = len(world.registry.events())
    url = db_url
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run(
        [sys.executable, "-c", CRASH, url, app], env=env, capture_output=True, timeout=60
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-600:] + url
    with world.registry.store.session() as s:
        assert s.get(ApplicationRow, app).state == "submitted"  # type: ignore[union-attr]
    assert len(world.registry.events()) == before
    world.registry.review(app, reviewer="clerk:9", approve=True)  # the store still works


def test_two_resends_racing(world: World) -> None:
    reg = world.registry
    app = _submit(world)
    reg.send_code(app)
    world.clock.advance(seconds=61)
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def resend() -> None:
        barrier.wait()
        try:
            reg.send_code(app)
            outcomes.append("ok")
        except WorkflowError as exc:
            outcomes.append(exc.workflow_code)

    threads = [threading.Thread(target=resend) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == 2 and outcomes.count("ok") == 1
    assert set(outcomes) - {"ok"} <= {WorkflowCode.CONFLICT, WorkflowCode.RESEND_TOO_SOON}
    reg.check_code(app, world.outbox.last_code(app))  # the code that counts is the one sent


def test_issuance_and_lists_are_in_the_journal(
    db_url: str, root: CertifiedKey, ds: CertifiedKey, list_signer: CertifiedKey, tmp_path: Path
) -> None:
    from ecard.journal.records import RecordKind
    from ecard.journal.store import Journal

    world = make_world(db_url, root, ds, list_signer)
    journal = Journal.open(tmp_path / "journal.db", pseudonym_key=KEY, clock=world.clock)
    world.registry.journal = journal
    issued = world.registry.issue(world.apply_online(), actor="clerk:1")
    assert issued is not None
    world.registry.change(issued.card.card_number, CardEvent.REPORT_LOSS, actor="clerk:1")
    kinds = [r.kind for r in journal.records()]
    assert kinds == [RecordKind.CARD, RecordKind.REVOCATION_LIST]
    assert journal.records()[0].credential_id == issued.cti.hex()
    assert journal.verify().ok
    journal.close()


def test_docs_list_every_code_with_its_messages() -> None:
    from ecard.documents import DOCUMENT_MESSAGES

    text = (Path(__file__).parent.parent / "docs" / "workflow.md").read_text(encoding="utf-8")
    for code, (en, zh) in [*WORKFLOW_MESSAGES.items(), *DOCUMENT_MESSAGES.items()]:
        assert f"| `{code.value}` | {en} | {zh} |" in text, code


def test_a_temporary_id_is_the_same_person(world: World) -> None:
    reg = world.registry
    reg.issue(world.apply_online(), actor="a")
    app = _submit(world, document_type=2, document_issued=dt.date(2026, 2, 1))
    reg.send_code(app)
    reg.check_code(app, world.outbox.last_code(app))
    reg.record_liveness(app, b"x")
    reg.review_online(app)
    with pytest.raises(WorkflowError) as err:
        reg.issue(app, actor="a")
    assert code_of(err) is WorkflowCode.ACTIVE_CARD_EXISTS


def test_a_passport_holder_is_journaled(
    db_url: str, root: CertifiedKey, ds: CertifiedKey, list_signer: CertifiedKey, tmp_path: Path
) -> None:
    from ecard.documents import DocumentType
    from ecard.journal.pseudonyms import holder_pseudonym
    from ecard.journal.store import Journal

    world = make_world(db_url, root, ds, list_signer)
    journal = Journal.open(tmp_path / "journal.db", pseudonym_key=KEY, clock=world.clock)
    world.registry.journal = journal
    app = _submit(world, document_type=9, document_number="E12345678",
                  birth_date=dt.date(1990, 1, 1), name="Anna Müller")  # fmt: skip
    world.registry.send_code(app)
    world.registry.check_code(app, world.outbox.last_code(app))
    world.registry.record_liveness(app, b"x")
    world.registry.review_online(app)
    issued = world.registry.issue(app, actor="a")
    assert issued is not None
    (record,) = journal.records()
    assert record.holder and "E12345678" not in repr(record)
    assert record.holder == holder_pseudonym(KEY, "E12345678", DocumentType.PASSPORT)
    # the document type separates equal numbers of different documents
    taiwan = holder_pseudonym(KEY, "12345678", DocumentType.TAIWAN_TRAVEL_PERMIT)
    assert taiwan != holder_pseudonym(KEY, "12345678", DocumentType.PASSPORT)
    journal.close()


def test_the_store_schema_is_migrated(db_url: str) -> None:
    from sqlalchemy import inspect, text

    from ecard.workflow.store import Base, Store

    store = Store(db_url)
    Store(db_url).close()  # opening again is a no-op
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0004"
        tables = set(inspect(conn).get_table_names())
    assert set(Base.metadata.tables) <= tables
    for name, table in Base.metadata.tables.items():  # the migration matches the models
        with store.engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns(name)}
        assert columns == {c.name for c in table.columns}, name
    store.close()
