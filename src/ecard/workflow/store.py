"""Storage of the workflow: SQLAlchemy 2 typed ORM over SQLite (the embedded default) or
PostgreSQL (``postgresql+psycopg://``, the ``db`` extra).

Every step runs in one transaction (:meth:`Store.transaction`): a crash between two writes
leaves nothing half done. Rows that two people can change at once (an application two clerks
review, a code two resends race for, a card) carry a ``version`` column that SQLAlchemy checks
on every UPDATE (optimistic locking): the slower writer gets ``CONFLICT``, nothing is lost.
Times are integer Unix seconds (UTC), the same on both databases. The schema is
versioned by Alembic migrations shipped in ``ecard/workflow/migrations``; opening a store
upgrades it to the newest.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from ecard.errors import BadInputError
from ecard.workflow.errors import WorkflowCode, refuse

#: The Alembic script directory shipped in the package.
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class Base(DeclarativeBase):
    """The workflow schema."""


class ApplicationRow(Base):
    """An application for a card (online or at a window)."""

    __tablename__ = "applications"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))
    document_type: Mapped[int] = mapped_column(Integer)
    document_number: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(20))
    region: Mapped[str] = mapped_column(String(6))
    subject: Mapped[str] = mapped_column(String(64), index=True)
    relation: Mapped[str] = mapped_column(String(8))
    applicant: Mapped[str] = mapped_column(String(64), index=True)
    consents: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    submitted_by: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[int] = mapped_column(Integer)
    phone_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    liveness: Mapped[str | None] = mapped_column(String(128), nullable=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    card_number: Mapped[str | None] = mapped_column(String(9), nullable=True)
    #: When a reviewer (or the automatic rules) decided: the photo retention counts from it.
    decided_at: Mapped[int | None] = mapped_column(Integer, nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    __table_args__ = (Index("ix_applications_state_region", "state", "region"),)


class PhotoRow(Base):
    """An application's ID photo, only as an AES-GCM blob (see :mod:`ecard.workflow.photos`)."""

    __tablename__ = "photos"

    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), primary_key=True)
    blob: Mapped[bytes] = mapped_column(LargeBinary)
    stored_at: Mapped[int] = mapped_column(Integer)


class CodeRow(Base):
    """The current one-time code of an application (only its HMAC)."""

    __tablename__ = "codes"

    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[int] = mapped_column(Integer)
    tries: Mapped[int] = mapped_column(Integer, default=0)
    used: Mapped[bool] = mapped_column(Boolean, default=False)
    day: Mapped[str] = mapped_column(String(10))
    sent_today: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class CardRow(Base):
    """A card and the credential that follows its status."""

    __tablename__ = "cards"

    card_number: Mapped[str] = mapped_column(String(9), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"))
    subject: Mapped[str] = mapped_column(String(64))
    region: Mapped[str] = mapped_column(String(6))
    state: Mapped[str] = mapped_column(String(16))
    state_since: Mapped[int] = mapped_column(Integer)
    kid: Mapped[str | None] = mapped_column(String(16), nullable=True)
    cti: Mapped[str | None] = mapped_column(String(64), nullable=True)
    listed: Mapped[bool] = mapped_column(Boolean, default=False)
    replaced_by: Mapped[str | None] = mapped_column(String(9), nullable=True)
    pin_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    pin_failures: Mapped[int] = mapped_column(Integer, default=0)
    #: When the card was made (its printed issue date); ``None`` for cards made before 0003.
    issued_at: Mapped[int | None] = mapped_column(Integer, nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    __table_args__ = (Index("ix_cards_subject_region", "subject", "region"),)


class CredentialRow(Base):
    """One signed credential of a card: a bearer credential (``device_key`` ``None``) or a
    device-bound one (the SHA-256 thumbprint of its device key, hex).

    ``revoked_at`` is set while the credential is on the signed revocation list (a card status
    that invalidates it; cleared when the status is restored); ``superseded_at`` is set for
    good when a later enrolment (a new phone) replaced it, and it stays listed."""

    __tablename__ = "credentials"

    cti: Mapped[str] = mapped_column(String(64), primary_key=True)
    kid: Mapped[str] = mapped_column(String(16))
    card_number: Mapped[str] = mapped_column(ForeignKey("cards.card_number"), index=True)
    profile: Mapped[str] = mapped_column(String(8))
    device_key: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    issued_at: Mapped[int] = mapped_column(Integer)
    revoked_at: Mapped[int | None] = mapped_column(Integer, nullable=True)
    superseded_at: Mapped[int | None] = mapped_column(Integer, nullable=True)


class EnrolmentNonceRow(Base):
    """The open enrolment challenge of one card and profile (only the nonce's HMAC): a new
    challenge replaces it, an enrolment consumes it, success or not."""

    __tablename__ = "enrolment_nonces"

    card_number: Mapped[str] = mapped_column(ForeignKey("cards.card_number"), primary_key=True)
    profile: Mapped[str] = mapped_column(String(8), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(Integer)
    used: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class EventRow(Base):
    """One step: who did what when, on which application and card (pseudonyms only)."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    application_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    card_number: Mapped[str | None] = mapped_column(String(9), nullable=True)
    subject: Mapped[str | None] = mapped_column(String(64), nullable=True)
    before: Mapped[str | None] = mapped_column(String(16), nullable=True)
    after: Mapped[str | None] = mapped_column(String(16), nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: The digest of the event before it (:mod:`ecard.workflow.eventlog`).
    prev_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: SHA-256 over ``prev_digest`` and this row's fields.
    digest: Mapped[str | None] = mapped_column(String(64), nullable=True)


class EventChainRow(Base):
    """The head of the event chain (one row, id 1): the last digest and the event count."""

    __tablename__ = "event_chain"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    digest: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer)


class RevocationRow(Base):
    """Every revocation list the workflow signed and published, by sequence."""

    __tablename__ = "revocation_lists"

    sequence: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    published_at: Mapped[int] = mapped_column(Integer)


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: object, _record: object) -> None:
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        # the wait first: switching to WAL takes a lock another process may hold a moment
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


class Store:
    """The workflow database. ``url`` is an SQLAlchemy URL (``sqlite:///path``, or
    ``postgresql+psycopg://…``); the schema is created if missing."""

    def __init__(self, url: str) -> None:
        try:
            sqlite = url.startswith("sqlite")
            self.engine = create_engine(url, connect_args={"timeout": 30.0} if sqlite else {})
        except Exception as exc:  # an unknown dialect, a malformed URL
            raise BadInputError(f"cannot open the workflow store: {type(exc).__name__}") from None
        if self.engine.dialect.name == "sqlite":
            _sqlite_pragmas(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        #: What makes this store's sessions (steps hook their commit-time work on it).
        self.sessions = self._sessions
        try:
            self._upgrade()
        except OperationalError as exc:
            reason = str(exc.orig).splitlines()[0][:200] if exc.orig else ""
            raise BadInputError(
                f"cannot open the workflow store: {exc.orig.__class__.__name__}: {reason}"
            ) from None

    def _upgrade(self) -> None:
        """Bring the schema to the newest migration (``alembic upgrade head``) in one
        transaction; a new database gets every migration."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises. A
        concurrent change (version mismatch, unique key taken) is ``CONFLICT``."""
        session = self._sessions()
        try:
            with session.begin():
                yield session
        except StaleDataError:
            raise refuse(WorkflowCode.CONFLICT) from None
        except IntegrityError:
            raise refuse(WorkflowCode.CONFLICT, "a unique value was taken meanwhile") from None
        except OperationalError as exc:  # SQLite busy snapshot, PostgreSQL serialization/deadlock
            raise refuse(
                WorkflowCode.CONFLICT, f"the database refused ({exc.orig.__class__.__name__})"
            ) from None
        finally:
            session.close()

    def session(self) -> Session:
        """A session for reading (the caller closes it)."""
        return self._sessions()

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Store({self.engine.dialect.name})"


__all__ = [
    "ApplicationRow",
    "Base",
    "CardRow",
    "CodeRow",
    "CredentialRow",
    "EnrolmentNonceRow",
    "EventChainRow",
    "EventRow",
    "PhotoRow",
    "RevocationRow",
    "Store",
]
