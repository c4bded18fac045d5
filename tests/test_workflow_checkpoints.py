"""Signed checkpoints of the workflow's event log (on SQLite and PostgreSQL): a log rebuilt
with every link recomputed passes the chain walk alone, but not against a checkpoint kept
outside the database; a shortened log neither. A checkpoint of another signer, another kind
(a journal head), with any byte changed, or two that disagree are CHECKPOINT_INVALID."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy import event as sa_event
from tests.conftest import T0
from tests.pgserver import PostgresServer
from tests.workflow_support import World, make_world

from ecard.errors import BadCertificateError
from ecard.formats.cose import kid_for_certificate
from ecard.journal.heads import HEAD_TYPE, SignedHead
from ecard.journal.headsign import sign_head
from ecard.signing.pki import CertifiedKey, create_list_signer
from ecard.workflow.checkpoints import CHECKPOINT_TYPE, load_checkpoint
from ecard.workflow.errors import WORKFLOW_MESSAGES, WorkflowCode, WorkflowError
from ecard.workflow.eventlog import GENESIS, event_digest
from ecard.workflow.lifecycle import CardEvent
from ecard.workflow.store import EventChainRow, EventRow


@pytest.fixture(scope="module")
def list_signer(root: CertifiedKey) -> CertifiedKey:
    return create_list_signer(root, "Checkpoint Signer", not_before=T0 - dt.timedelta(days=30))


@pytest.fixture(scope="module")
def other_signer(root: CertifiedKey) -> CertifiedKey:
    return create_list_signer(root, "Another Signer", not_before=T0 - dt.timedelta(days=30))


@pytest.fixture
def world(db_url: str, root: CertifiedKey, ds: CertifiedKey, list_signer: CertifiedKey) -> World:
    world = make_world(db_url, root, ds, list_signer)
    issued = world.registry.issue(world.apply_online(), actor="account:42")
    assert issued is not None
    return world


def more_events(world: World) -> None:
    (card,) = {e.card_number for e in world.registry.events() if e.card_number}
    world.clock.advance(minutes=5)
    world.registry.change(card, CardEvent.REPORT_LOSS, actor="account:42")
    world.registry.change(card, CardEvent.LIFT_LOSS, actor="account:42")


def rebuild(world: World, *, edit: int | None = None, keep: int | None = None) -> None:
    """What someone who may write every table does: change or drop rows, then recompute every
    link and the head, so that the chain alone holds again."""
    with world.registry.store.transaction() as s:
        rows = list(s.scalars(select(EventRow).order_by(EventRow.id)).all())
        if keep is not None:
            s.execute(delete(EventRow).where(EventRow.id.in_([r.id for r in rows[keep:]])))
            rows = rows[:keep]
        if edit is not None:
            rows[edit].actor = "clerk:evil"
        digest = GENESIS
        for row in rows:
            row.prev_digest = digest
            digest = row.digest = event_digest(digest, row)
        s.execute(update(EventChainRow).values(count=len(rows), digest=digest))


def refused(world: World, *checkpoints: bytes, code: WorkflowCode, **kw: object) -> str:
    with pytest.raises(WorkflowError) as err:
        world.registry.verify_events(checkpoints, **kw)  # type: ignore[arg-type]
    assert err.value.workflow_code is code
    return err.value.detail


def test_the_log_still_passes_through_its_checkpoints_as_it_grows(world: World) -> None:
    first = world.registry.sign_events_head()
    more_events(world)
    second = world.registry.sign_events_head()
    count, head = world.registry.verify_events([first.cose, second])
    assert (first.seq, second.seq, count) == (6, 8, 8)
    assert head == second.record_hash.hex()
    assert first.signed_at == T0 and second.signed_at == T0 + dt.timedelta(minutes=5)
    assert load_checkpoint(first.cose) == first


def test_a_rebuilt_log_passes_the_chain_but_not_the_checkpoint(world: World) -> None:
    kept = world.registry.sign_events_head().cose
    more_events(world)
    rebuild(world, edit=2)
    count, _ = world.registry.verify_events()  # the gap a checkpoint closes
    assert count == 8
    first_id = world.registry.events()[0].id
    detail = refused(world, kept, code=WorkflowCode.EVENTS_TAMPERED)
    assert detail == f"event {first_id + 5}: not the event 6 a kept head certifies"


def test_an_edit_after_the_checkpoint_is_still_found_by_the_chain(world: World) -> None:
    kept = world.registry.sign_events_head().cose
    more_events(world)
    target = world.registry.events()[-1].id
    with world.registry.store.transaction() as s:
        s.execute(update(EventRow).where(EventRow.id == target).values(actor="clerk:evil"))
    assert refused(world, kept, code=WorkflowCode.EVENTS_TAMPERED) == f"event {target}: its fields"


def test_a_log_cut_below_a_checkpoint_is_refused(world: World) -> None:
    more_events(world)
    kept = world.registry.sign_events_head().cose
    rebuild(world, keep=6)
    assert world.registry.verify_events()[0] == 6
    detail = refused(world, kept, code=WorkflowCode.EVENTS_TAMPERED)
    assert detail == "the log has 6 events, a kept head certifies 8"


def test_a_broken_chain_is_not_certified(world: World) -> None:
    target = world.registry.events()[1].id
    with world.registry.store.transaction() as s:
        s.execute(update(EventRow).where(EventRow.id == target).values(detail="changed"))
    with pytest.raises(WorkflowError) as err:
        world.registry.sign_events_head()
    assert err.value.workflow_code is WorkflowCode.EVENTS_TAMPERED


def test_an_empty_log_has_no_head_to_sign(
    db_url: str, root: CertifiedKey, ds: CertifiedKey, list_signer: CertifiedKey
) -> None:
    world = make_world(db_url, root, ds, list_signer)
    with pytest.raises(WorkflowError) as err:
        world.registry.sign_events_head()
    assert err.value.workflow_code is WorkflowCode.CHECKPOINT_INVALID


def test_an_expired_signer_certificate_signs_no_checkpoint(world: World) -> None:
    world.clock.now = world.registry.list_signer.certificate.not_valid_after_utc + dt.timedelta(
        seconds=1
    )
    with pytest.raises(BadCertificateError):
        world.registry.sign_events_head()


def test_a_checkpoint_of_another_signer_is_refused(
    world: World, other_signer: CertifiedKey
) -> None:
    kept = world.registry.sign_events_head().cose
    assert refused(
        world, kept, code=WorkflowCode.CHECKPOINT_INVALID, certificate=other_signer.certificate
    ) == ("signed under another kid")
    # the same kid and payload, signed by a key that is not the certificate's
    head = load_checkpoint(kept)
    kid = kid_for_certificate(world.registry.list_signer.certificate)
    forged = sign_head(
        other_signer.signer(), kid, head.seq, head.record_hash, T0, CHECKPOINT_TYPE
    ).cose
    assert refused(world, forged, code=WorkflowCode.CHECKPOINT_INVALID) == "head 6: bad signature"


def test_a_journal_head_never_passes_for_a_checkpoint(world: World) -> None:
    signer = world.registry.list_signer
    count, head = world.registry.verify_events()
    kid = kid_for_certificate(signer.certificate)
    journal_head = sign_head(signer.signer(), kid, count, bytes.fromhex(head), T0, HEAD_TYPE)
    assert SignedHead.from_cose(journal_head.cose).seq == count  # a valid journal head...
    refused(world, journal_head.cose, code=WorkflowCode.CHECKPOINT_INVALID)  # ...not this
    checkpoint = world.registry.sign_events_head().cose
    with pytest.raises(Exception) as err:  # and the other way round
        SignedHead.from_cose(checkpoint)
    assert "ecard-journal-head" in str(err.value)


def test_two_checkpoints_that_disagree_are_refused(world: World) -> None:
    signer = world.registry.list_signer
    kept = world.registry.sign_events_head()
    kid = kid_for_certificate(signer.certificate)
    other = sign_head(signer.signer(), kid, kept.seq, bytes(32), T0, CHECKPOINT_TYPE)
    detail = refused(world, kept.cose, other.cose, code=WorkflowCode.CHECKPOINT_INVALID)
    assert detail == "two heads disagree at 6"


def test_every_changed_byte_of_a_checkpoint_is_refused(world: World) -> None:
    kept = world.registry.sign_events_head().cose
    for at in range(len(kept)):
        for flip in (0x01, 0x80):
            changed = kept[:at] + bytes([kept[at] ^ flip]) + kept[at + 1 :]
            refused(world, changed, code=WorkflowCode.CHECKPOINT_INVALID)
    for cut in (0, 1, len(kept) // 2, len(kept) - 1):
        refused(world, kept[:cut], code=WorkflowCode.CHECKPOINT_INVALID)
    refused(world, kept + b"\x00", code=WorkflowCode.CHECKPOINT_INVALID)


def test_the_new_code_has_both_messages() -> None:
    en, zh = WORKFLOW_MESSAGES[WorkflowCode.CHECKPOINT_INVALID]
    assert "checkpoint" in en and "检查点" in zh


def test_a_step_committing_during_the_walk_is_not_tampering(
    postgres: PostgresServer, root: CertifiedKey, ds: CertifiedKey, list_signer: CertifiedKey
) -> None:
    """On PostgreSQL, a step that commits between the walk over the events and the read of
    the head (made to happen there, on another connection) must not make the head look stale:
    the walk reads one snapshot."""
    world = make_world(postgres.create_database(f"walk{os.getpid()}"), root, ds, list_signer)
    reg = world.registry
    issued = reg.issue(world.apply_online(), actor="account:42")
    assert issued is not None
    done: list[int] = []

    def commit_a_step_first(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM event_chain" in statement and not done:
            done.append(1)
            reg.change(issued.card.card_number, CardEvent.REPORT_LOSS, actor="account:42")

    sa_event.listen(reg.store.engine, "before_cursor_execute", commit_a_step_first)
    try:
        count, _ = reg.verify_events()
    finally:
        sa_event.remove(reg.store.engine, "before_cursor_execute", commit_a_step_first)
    assert done and count == 6  # the snapshot before the step
    assert reg.verify_events()[0] == 7
    reg.store.close()
