"""The workflow's event log as a hash chain: every event row carries the digest of the one
before it (``prev_digest``) and its own (``digest``, SHA-256 over the previous digest and the
row's fields), and the ``event_chain`` row holds the head (the last digest and the count).

A step's events are not written when the step makes them: :func:`add_event` keeps them with
the session, and :func:`seal_events` (run just before the commit, see :func:`install`)
takes the head row's lock (an ``UPDATE … RETURNING``: PostgreSQL makes concurrent steps wait
there, SQLite holds its single writer lock), links the events and inserts them. Chain order is insertion
order (the ``id``), on both databases.

:func:`verify_chain` walks the log: an edited row (its digest no longer fits its fields), a
deleted or reordered row (the next row's ``prev_digest`` no longer fits) and a cut tail (the
head no longer fits the last row) are each reported with the first event id where the chain
breaks. The chain shows changes made behind the workflow's back; someone who may rewrite the
whole table and the head can rebuild it, so an auditor keeps the head
(:func:`verify_chain` returns it) outside the database, e.g. with each signed revocation list.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Final

from sqlalchemy import bindparam, event, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from ecard.workflow.errors import WorkflowCode, refuse
from ecard.workflow.store import Base, EventChainRow, EventRow

#: The previous digest of the first event.
GENESIS: Final = "0" * 64
_PENDING: Final = "ecard.workflow.events"
_DOMAIN: Final = b"ecard-workflow-event:1\n"
_CHAIN: Final = Base.metadata.tables["event_chain"]
_EVENTS: Final = Base.metadata.tables["events"]
# built once: a step pays for executing them, not for composing them
_LOCK_HEAD: Final = (
    update(_CHAIN)
    .where(_CHAIN.c.id == 1)
    .values(count=_CHAIN.c.count + bindparam("added"))
    .returning(_CHAIN.c.digest)
)
_INSERT_EVENT: Final = insert(_EVENTS)
_MOVE_HEAD: Final = update(_CHAIN).where(_CHAIN.c.id == 1).values(digest=bindparam("head"))


#: The fields a digest covers, in order (everything but the id and the digests).
FIELDS: Final = (
    "at",
    "actor",
    "action",
    "application_id",
    "card_number",
    "subject",
    "before",
    "after",
    "detail",
)


def fields_digest(prev: str, fields: Sequence[object]) -> str:
    """SHA-256 (hex) over ``prev`` and the values of :data:`FIELDS` (JSON, in order)."""
    body = json.dumps(list(fields), ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(_DOMAIN + prev.encode() + b"\n" + body).hexdigest()


def event_digest(prev: str, row: EventRow) -> str:
    """The digest of ``row`` after ``prev``."""
    return fields_digest(prev, [getattr(row, name) for name in FIELDS])


def add_event(session: Session, row: EventRow) -> None:
    """Keep ``row`` to be linked and written when the session commits."""
    session.info.setdefault(_PENDING, []).append(row)


def seal_events(session: Session) -> None:
    """Link the session's pending events to the chain's head and write them (under the head
    row's lock), then move the head."""
    pending: list[EventRow] = session.info.pop(_PENDING, [])
    if not pending:
        return
    session.flush()  # the step's own writes first
    connection = session.connection()
    # one statement takes the head row's lock and reads it
    digest = connection.execute(_LOCK_HEAD, {"added": len(pending)}).scalar_one()
    for row in pending:  # one INSERT each: the ids follow the chain
        row.prev_digest = digest
        row.digest = digest = event_digest(digest, row)
        values = {name: getattr(row, name) for name in (*FIELDS, "prev_digest", "digest")}
        connection.execute(_INSERT_EVENT, values)
    connection.execute(_MOVE_HEAD, {"head": digest})


def _discard(session: Session, *_args: object) -> None:
    session.info.pop(_PENDING, None)


def install(sessions: sessionmaker[Session]) -> None:
    """Seal the events of every session ``sessions`` makes before it commits.

    The listeners go on the :class:`~sqlalchemy.orm.Session` class, once per process, and act
    only on sessions that hold pending events. Not on each sessionmaker: SQLAlchemy keys its
    listener registry on ``id(target)``, so a new sessionmaker at the address of a freed one
    looked already installed (``event.contains``) and its events were dropped at commit.
    """
    if not issubclass(sessions.class_, Session):
        raise TypeError("the event chain needs SQLAlchemy sessions")
    if not event.contains(Session, "before_commit", seal_events):
        event.listen(Session, "before_commit", seal_events)
        event.listen(Session, "after_rollback", _discard)


def verify_chain(session: Session, expect: Mapping[int, str] | None = None) -> tuple[int, str]:
    """``(count, head digest)`` of an intact log; ``EVENTS_TAMPERED`` (with the id of the
    first event where the chain breaks) otherwise.

    ``expect`` maps positions (1 = the first event) to the digest the chain had there, from
    heads kept outside the database (:mod:`ecard.workflow.checkpoints`): a log rebuilt behind
    the workflow's back, even with every link recomputed, or cut below one of them, is
    refused too. On PostgreSQL a fresh session walks one snapshot (``REPEATABLE READ``), so
    steps committing meanwhile never look like a cut or a stale head; a session already in a
    transaction keeps its own isolation."""
    expect = expect or {}
    if session.get_bind().dialect.name == "postgresql" and not session.in_transaction():
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    digest, count = GENESIS, 0
    for row in session.scalars(select(EventRow).order_by(EventRow.id)).yield_per(1000):
        if row.prev_digest != digest:
            raise refuse(WorkflowCode.EVENTS_TAMPERED, f"event {row.id}: the link before it")
        digest = event_digest(digest, row)
        if row.digest != digest:
            raise refuse(WorkflowCode.EVENTS_TAMPERED, f"event {row.id}: its fields")
        count += 1
        if expect.get(count, digest) != digest:
            raise refuse(
                WorkflowCode.EVENTS_TAMPERED,
                f"event {row.id}: not the event {count} a kept head certifies",
            )
    head = session.get(EventChainRow, 1)
    if head is None or head.digest != digest or head.count != count:
        raise refuse(WorkflowCode.EVENTS_TAMPERED, "the head does not fit the last event")
    if expect and max(expect) > count:
        raise refuse(
            WorkflowCode.EVENTS_TAMPERED,
            f"the log has {count} events, a kept head certifies {max(expect)}",
        )
    return count, digest


__all__ = [
    "FIELDS",
    "GENESIS",
    "add_event",
    "event_digest",
    "fields_digest",
    "install",
    "seal_events",
    "verify_chain",
]
