"""The workflow's event log is a hash chain (on SQLite and PostgreSQL): an intact log
verifies; an edited, deleted or reordered row, or a cut tail, is detected at the first event
where the chain breaks; concurrent steps still make one chain."""

from __future__ import annotations

import datetime as dt
import itertools
import threading

import pytest
from sqlalchemy import create_engine, delete, select, text, update
from tests.conftest import T0
from tests.workflow_support import World, make_world

from ecard.signing.pki import CertifiedKey, create_list_signer
from ecard.workflow.errors import WorkflowCode, WorkflowError
from ecard.workflow.eventlog import GENESIS, event_digest, verify_chain
from ecard.workflow.lifecycle import CardEvent
from ecard.workflow.store import EventChainRow, EventRow


@pytest.fixture(scope="module")
def list_signer(root: CertifiedKey) -> CertifiedKey:
    return create_list_signer(root, "Events List Signer", not_before=T0 - dt.timedelta(days=30))


@pytest.fixture
def world(db_url: str, root: CertifiedKey, ds: CertifiedKey, list_signer: CertifiedKey) -> World:
    world = make_world(db_url, root, ds, list_signer)
    issued = world.registry.issue(world.apply_online(), actor="account:42")
    assert issued is not None
    world.registry.change(issued.card.card_number, CardEvent.REPORT_LOSS, actor="account:42")
    return world


def with_check(first17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(first17, weights, strict=True))
    return first17 + "10X98765432"[total % 11]


def ids(world: World) -> list[int]:
    return [e.id for e in world.registry.events()]


def broken_at(world: World) -> str:
    with pytest.raises(WorkflowError) as err:
        world.registry.verify_events()
    assert err.value.workflow_code is WorkflowCode.EVENTS_TAMPERED
    return err.value.detail


def test_an_intact_log_verifies(world: World) -> None:
    count, head = world.registry.verify_events()
    events = world.registry.events()
    assert count == len(events) == 7  # 5 to approve, issue, report_loss
    assert events[0].prev_digest == GENESIS
    assert all(b.prev_digest == a.digest for a, b in itertools.pairwise(events))
    assert head == events[-1].digest == event_digest(events[-1].prev_digest or "", events[-1])


def test_an_edited_row_is_detected(world: World) -> None:
    target = ids(world)[3]
    with world.registry.store.transaction() as s:
        s.execute(update(EventRow).where(EventRow.id == target).values(actor="clerk:evil"))
    assert broken_at(world) == f"event {target}: its fields"


def test_a_deleted_row_is_detected(world: World) -> None:
    target, following = ids(world)[2:4]
    with world.registry.store.transaction() as s:
        s.execute(delete(EventRow).where(EventRow.id == target))
    assert broken_at(world) == f"event {following}: the link before it"


def test_reordered_rows_are_detected(world: World) -> None:
    first, second = ids(world)[1:3]
    with world.registry.store.transaction() as s:  # swap two rows' places (ids)
        s.execute(update(EventRow).where(EventRow.id == first).values(id=-1))
        s.execute(update(EventRow).where(EventRow.id == second).values(id=first))
        s.execute(update(EventRow).where(EventRow.id == -1).values(id=second))
    assert broken_at(world) == f"event {first}: the link before it"


def test_a_cut_tail_is_detected(world: World) -> None:
    with world.registry.store.transaction() as s:
        s.execute(delete(EventRow).where(EventRow.id == ids(world)[-1]))
    assert broken_at(world) == "the head does not fit the last event"


def test_a_rewritten_row_with_a_fitting_digest_breaks_the_next_link(world: World) -> None:
    events = world.registry.events()
    target = events[4]
    target.detail = "changed"
    forged = event_digest(target.prev_digest or "", target)
    with world.registry.store.transaction() as s:
        s.execute(
            update(EventRow).where(EventRow.id == target.id).values(detail="changed", digest=forged)
        )
    assert broken_at(world) == f"event {events[5].id}: the link before it"


def test_concurrent_steps_make_one_chain(world: World) -> None:
    reg = world.registry
    apps = [world.apply_online(with_check(f"1101051980010100{n}")) for n in (1, 2)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def issue(app: str) -> None:
        barrier.wait()
        try:
            reg.issue(app, actor="clerk:1")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=issue, args=(a,)) for a in apps]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(isinstance(e, WorkflowError) for e in errors)
    assert set(e.workflow_code for e in errors if isinstance(e, WorkflowError)) <= {
        WorkflowCode.CONFLICT
    }
    count, _ = reg.verify_events()
    assert count == len(reg.events()) == 7 + 2 * 5 + 2 - len(errors)


def test_events_already_there_are_linked_by_the_migration(db_url: str) -> None:
    from alembic import command
    from alembic.config import Config

    from ecard.workflow.store import MIGRATIONS, Store

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    engine = create_engine(db_url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
        for n in range(3):
            connection.execute(
                text(f"INSERT INTO events (at, actor, action) VALUES ({n}, 'clerk:{n}', 'submit')")
            )
    engine.dispose()
    store = Store(db_url)
    with store.session() as s:
        rows = s.scalars(select(EventRow).order_by(EventRow.id)).all()
        head = s.get(EventChainRow, 1)
        assert head is not None and head.count == 3 and head.digest == rows[-1].digest
        assert rows[0].prev_digest == GENESIS and rows[1].prev_digest == rows[0].digest
    store.close()


def test_no_event_is_lost_when_stores_come_and_go(db_url: str) -> None:
    """One store per command, as the CLI opens them: SQLAlchemy keys its listeners on
    ``id()``, so a sessionmaker made where a freed one was looked already hooked, and the
    events of its steps were dropped at commit. Every one of them is in the chain now."""
    from ecard.workflow.eventlog import add_event, install
    from ecard.workflow.store import Store

    for n in range(40):
        store = Store(db_url)
        install(store.sessions)
        with store.transaction() as s:
            add_event(s, EventRow(at=n, actor=f"clerk:{n}", action="submit"))
        store.close()
        del store
    store = Store(db_url)
    with store.session() as s:
        count, _ = verify_chain(s)
        actors = [r.actor for r in s.scalars(select(EventRow).order_by(EventRow.id)).all()]
    store.close()
    assert actors == [f"clerk:{n}" for n in range(40)] and count == 40
